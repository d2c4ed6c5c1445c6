"""DisposableCleanup: one provider per stack (onEvent and isComplete of functions/disposable_cleanup), one
resource per cleared resource, deleted before it, with grants on exactly what it clears."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Match, Template

from constructs_lib.shared.disposable_cleanup import DisposableCleanup
from constructs_lib.shared.platform_key import PlatformKey
from constructs_lib.shared.provider_framework import QUERY_INTERVAL, TOTAL_TIMEOUT
from tests.constructs.support import (
    bare_stack,
    logical_id,
    synthesize,
)

GROUP = "Image-Tagger"  # mixed case: SageMaker lower-cases it in the versions' ARNs
PIPELINE = "fraud-training"


@dataclass(frozen=True)
class Cleanup:
    template: Template
    nag_errors: list[str]
    group: str
    pipeline: str


@pytest.fixture(scope="module")
def cleanup(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Cleanup:
    outdir = tmp_path_factory.mktemp("cleanup")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    logs_key = PlatformKey(
        stack, "LogsKey", alias="alias/logs", description="Logs", removal_policy=cdk.RemovalPolicy.DESTROY
    )
    logs_key.allow_cloudwatch_logs()
    group = sagemaker.CfnModelPackageGroup(stack, "Group", model_package_group_name=GROUP)
    pipeline = sagemaker.CfnPipeline(
        stack,
        "Pipeline",
        pipeline_name=PIPELINE,
        role_arn="arn:aws:iam::123456789012:role/p",
        pipeline_definition={"PipelineDefinitionBody": "{}"},
    )
    construct = DisposableCleanup(stack, "Cleanup", logs_key=logs_key.key)
    construct.clear_model_package_versions(group, GROUP)
    construct.stop_pipeline_executions(pipeline, PIPELINE)
    synthesized = synthesize(stack, outdir)
    return Cleanup(synthesized.template, synthesized.nag_errors, logical_id(group), logical_id(pipeline))


def test_it_passes_the_compliance_packs_with_acknowledged_findings_only(cleanup: Cleanup) -> None:
    assert cleanup.nag_errors == []


def test_each_resource_is_deleted_before_what_it_clears(cleanup: Cleanup) -> None:
    resources = cleanup.template.find_resources("Custom::DisposableCleanup")
    by_kind = {r["Properties"]["Kind"]: r for r in resources.values()}

    assert by_kind["ModelPackageVersions"]["Properties"]["ModelPackageGroupName"] == GROUP
    assert cleanup.group in by_kind["ModelPackageVersions"]["DependsOn"]
    assert by_kind["PipelineExecutions"]["Properties"]["PipelineName"] == PIPELINE
    assert cleanup.pipeline in by_kind["PipelineExecutions"]["DependsOn"]


def test_the_functions_may_delete_only_the_group_s_versions_and_stop_only_the_pipeline_s_executions(
    cleanup: Cleanup,
) -> None:
    statements = [
        statement
        for policy in cleanup.template.find_resources("AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_action: dict[str, list[Any]] = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            by_action.setdefault(action, []).append(statement["Resource"])

    rendered = repr(by_action["sagemaker:DeleteModelPackage"])
    assert "model-package/Image-Tagger/*" in rendered and "model-package/image-tagger/*" in rendered
    assert "pipeline/fraud-training/execution/*" in repr(by_action["sagemaker:StopPipelineExecution"])
    assert "model-package-group" not in rendered
    assert {action for action in by_action if action.startswith("sagemaker:")} == {
        "sagemaker:DeleteModelPackage",
        "sagemaker:ListModelPackages",
        "sagemaker:ListPipelineExecutions",
        "sagemaker:StopPipelineExecution",
    }


def test_the_provider_polls_is_complete_until_its_timeout(cleanup: Cleanup) -> None:
    handlers = {
        f["Properties"]["Handler"]
        for f in cleanup.template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler", "").startswith("functions.")
    }
    assert handlers == {
        "functions.disposable_cleanup.handler.on_event",
        "functions.disposable_cleanup.handler.is_complete",
    }
    cleanup.template.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    assert QUERY_INTERVAL.to_seconds() * 2 <= TOTAL_TIMEOUT.to_seconds() <= 2 * 3600
    cleanup.template.has_resource_properties(
        "AWS::StepFunctions::StateMachine", {"DefinitionString": Match.any_value()}
    )
