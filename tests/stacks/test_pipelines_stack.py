"""Pipelines: rendered from pipeline_defs at synth with tokens spliced in, triggered by new data, failures
published."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from aws_cdk import Stack
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk.assertions import Template

import pipeline_defs
from platform_config import PlatformConfig, load_platform, naming
from platform_config.models import PipelineConfig, PipelineDefinitionName, PipelineTriggerConfig
from stacks.pipelines_stack import _require_trigger_parameters
from stacks.platform_stage import build_app
from tests.conftest import SynthesizedApp

API_LIMIT = 1_048_576


def _resolve(value: Any, fakes: dict[str, str]) -> Any:
    """CloudFormation's resolution of a definition body, with fake values for references."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            return str(argument[0]).join(str(_resolve(part, fakes)) for part in argument[1])
        if function in {"Ref", "Fn::GetAtt", "Fn::GetStackOutput", "Fn::ImportValue", "Fn::Sub"}:
            return fakes.setdefault(json.dumps(value, sort_keys=True), f"resolved{len(fakes)}")
    raise AssertionError(f"unexpected intrinsic in a definition body: {value}")


def _pipelines(template: Template) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["PipelineName"]: resource["Properties"]
        for resource in template.find_resources("AWS::SageMaker::Pipeline").values()
    }


@pytest.fixture(scope="module")
def dev_pipelines(synthesized: SynthesizedApp) -> Template:
    stack = synthesized.stages["dev"].pipelines
    assert stack is not None
    return Template.from_stack(stack)


def test_every_configured_pipeline_is_deployed(
    dev_pipelines: Template, sample_platform: PlatformConfig
) -> None:
    configured = sample_platform.environments["dev"].pipelines
    assert configured
    deployed = _pipelines(dev_pipelines)
    assert sorted(deployed) == sorted(p.name for p in configured)
    for config in configured:
        properties = deployed[config.name]
        assert properties["ParallelismConfiguration"] == {
            "MaxParallelExecutionSteps": config.max_parallel_steps
        }
        assert "Fn::GetAtt" in json.dumps(properties["RoleArn"])


def test_the_body_resolves_to_a_valid_definition_with_no_placeholder_left(dev_pipelines: Template) -> None:
    for name, properties in _pipelines(dev_pipelines).items():
        body = _resolve(properties["PipelineDefinition"]["PipelineDefinitionBody"], {})
        definition = json.loads(body)
        assert definition["Steps"], name
        assert "__" not in body.replace("__main__", ""), f"{name} keeps a placeholder"
        assert len(body) < API_LIMIT / 10


def test_step_scripts_are_shipped_as_assets_and_referenced_by_key(
    synthesized: SynthesizedApp, dev_pipelines: Template, sample_platform: PlatformConfig
) -> None:
    stack = synthesized.stages["dev"].pipelines
    assert stack is not None
    # Step scripts; the functions of a disposable environment's cleanup are assets too.
    assets = [
        c for c in stack.node.find_all() if isinstance(c, s3_assets.Asset) and "/Cleanup/" not in c.node.path
    ]
    expected = sum(
        len(pipeline_defs.script_paths(p.definition)) for p in sample_platform.environments["dev"].pipelines
    )
    assert len(assets) == expected > 0
    bodies = json.dumps(_pipelines(dev_pipelines))
    for asset in assets:
        # The object key (<hash>.py) is concrete at synth; only the bucket is a token.
        assert stack.resolve(asset.s3_object_key) in bodies


def test_new_data_starts_the_pipeline_with_the_objects_version_which_its_definition_declares(
    dev_pipelines: Template, sample_platform: PlatformConfig
) -> None:
    config = sample_platform.environments["dev"].pipelines[0]
    rules = [r["Properties"] for r in dev_pipelines.find_resources("AWS::Events::Rule").values()]
    (on_data,) = [r for r in rules if r.get("EventPattern", {}).get("source") == ["aws.s3"]]
    assert on_data["EventPattern"]["detail"]["object"]["key"] == [{"prefix": config.trigger.data_prefix}]
    data_bucket = naming.data_bucket_name(sample_platform.environments["dev"])
    assert on_data["EventPattern"]["detail"]["bucket"]["name"] == [data_bucket]
    (target,) = on_data["Targets"]
    parameters = {
        p["Name"]: p["Value"] for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]
    }
    assert parameters == {
        "InputDataBucket": "$.detail.bucket.name",
        "InputDataKey": "$.detail.object.key",
        "InputDataVersionId": "$.detail.object.version-id",
        "InputDataETag": "$.detail.object.etag",
    }
    # StartPipelineExecution refuses parameters the pipeline does not declare.
    properties = _pipelines(dev_pipelines)[config.name]
    body = json.loads(_resolve(properties["PipelineDefinition"]["PipelineDefinitionBody"], {}))
    assert set(parameters) <= {parameter["Name"] for parameter in body["Parameters"]}
    assert not [r for r in rules if "ScheduleExpression" in r]  # the sample has no schedule


def test_a_data_trigger_on_a_definition_without_the_input_parameters_is_refused() -> None:
    config = PipelineConfig(
        name="scoring",
        definition="batch_inference",
        trigger=PipelineTriggerConfig(data_prefix="incoming/"),
    )
    body = json.dumps({"Parameters": [{"Name": "InputDataBucket"}, {"Name": "InputDataKey"}]})
    with pytest.raises(
        ValueError,
        match=r"pipelines\[scoring\]\.trigger\.data_prefix: the batch_inference "
        r"definition does not declare InputDataETag, InputDataVersionId",
    ):
        _require_trigger_parameters(config, body)


def test_a_schedule_starts_the_pipeline(
    config_copy: Callable[..., Path], cdk_context: dict[str, Any]
) -> None:
    def scheduled(data: dict[str, Any]) -> None:
        data["pipelines"][0]["trigger"] = {"schedule": "rate(7 days)"}
        data["pipelines"][0]["cache_expire_after"] = None

    _, stages = build_app(
        load_platform(config_copy("dev", scheduled)), environments=["dev"], context=cdk_context
    )
    stack = stages["dev"].pipelines
    assert stack is not None
    rules = [r["Properties"] for r in Template.from_stack(stack).find_resources("AWS::Events::Rule").values()]
    (scheduled_rule,) = [r for r in rules if "ScheduleExpression" in r]
    assert scheduled_rule["ScheduleExpression"] == "rate(7 days)"
    assert not [r for r in rules if r.get("EventPattern", {}).get("source") == ["aws.s3"]]


def test_the_configured_dags_are_the_ones_pipeline_defs_renders() -> None:
    assert sorted(get_args(PipelineDefinitionName)) == sorted(pipeline_defs.DEFINITIONS)


def test_failed_executions_are_published(dev_pipelines: Template) -> None:
    rules = [r["Properties"] for r in dev_pipelines.find_resources("AWS::Events::Rule").values()]
    (failures,) = [
        r for r in rules if r.get("EventPattern", {}).get("detail", {}).get("currentPipelineExecutionStatus")
    ]
    assert failures["EventPattern"]["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    (topic,) = dev_pipelines.find_resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]


def test_the_data_bucket_is_versioned_encrypted_and_announces_new_objects(
    synthesized: SynthesizedApp,
) -> None:
    buckets = [
        b["Properties"]
        for b in synthesized.template("dev/Data").find_resources("AWS::S3::Bucket").values()
        if b["Properties"].get("BucketName", "").startswith("dev-ml-data-")
    ]
    (bucket,) = buckets
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


@pytest.fixture
def changed_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """pipeline_defs with one step script changed (a comment added), as a change under review would be."""
    original = pipeline_defs.script_paths

    def script_paths(name: str) -> dict[str, Path]:
        paths = dict(original(name))
        script, path = sorted(paths.items())[0]
        copy = tmp_path / name / script
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)
        copy.write_text(copy.read_text() + "\n# reviewed change\n")
        paths[script] = copy
        return paths

    monkeypatch.setattr(pipeline_defs, "script_paths", script_paths)
    yield "changed"


def test_a_changed_step_script_changes_only_the_pipelines_stack(
    changed_script: str,
    sample_platform: PlatformConfig,
    cdk_context: dict[str, Any],
    synthesized: SynthesizedApp,
) -> None:
    _, stages = build_app(sample_platform, environments=["dev"], context=cdk_context)
    changed = sorted(
        stack.node.id
        for stack in stages["dev"].node.children
        if isinstance(stack, Stack)
        and Template.from_stack(stack).to_json() != synthesized.template(f"dev/{stack.node.id}").to_json()
    )
    # A namespace that runs a pipeline of the cluster applies the same body (ADR 0017): its stack changes too.
    kubernetes = sample_platform.environments["dev"].kubernetes
    runs_pipelines = kubernetes is not None and any(
        namespace.pipelines for namespace in kubernetes.namespaces
    )
    assert changed == (["Kubernetes", "Pipelines"] if runs_pipelines else ["Pipelines"])
