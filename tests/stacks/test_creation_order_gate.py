"""The creation-order check gates every synth of the platform: the sample passes, and a resource added to
a copy of it that names another of its Stage by a literal ARN, with no dependency, fails the synth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_ram as ram

from platform_config import PlatformConfig, naming
from stacks.platform_stage import build_app
from synth_checks.creation_order import read_stage_assembly, unordered_references
from synth_checks.creation_order_plugin import RULE_NAME
from tests.conftest import SynthesizedApp


def test_the_sample_has_no_literal_reference_without_a_dependency(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    # The synth fixture passed the gate; read its assemblies again to see that each was checked.
    manifests = sorted(synthesized.outdir.glob("assembly-*/manifest.json"))
    assert {manifest.parent.name.removeprefix("assembly-") for manifest in manifests} == set(
        sample_platform.environments
    )
    for manifest in manifests:
        stacks = read_stage_assembly(manifest)
        assert stacks
        assert [reference.message() for reference in unordered_references(stacks)] == []


def test_no_construct_acknowledges_a_creation_order_finding(synthesized: SynthesizedApp) -> None:
    # The fix for a literal reference without a dependency is the dependency, never an acknowledgement.
    assert synthesized.acknowledgements
    for path, rules in synthesized.acknowledgements.items():
        assert not any(RULE_NAME in rule for rule in rules), path


def test_the_references_it_found_in_the_shipped_code_are_ordered(synthesized: SynthesizedApp) -> None:
    """The share follows its groups, the rules their pipeline, a monitor's job definition its endpoint."""
    checked = [
        path
        for path in synthesized.stack_paths()
        if path.split("/")[1] in ("Registry", "Pipelines", "Serving")
    ]
    assert checked
    for path in checked:
        for logical_id, resource in synthesized.template(path).to_json()["Resources"].items():
            kind = resource["Type"]
            if kind in ("AWS::RAM::ResourceShare", "AWS::SageMaker::DataQualityJobDefinition") or (
                kind == "AWS::Events::Rule" and "Triggers" in logical_id
            ):
                assert resource.get("DependsOn"), f"{path}/{logical_id}"


def _share_a_group_from_the_monitoring_stack(
    platform: PlatformConfig, cdk_context: dict[str, Any], outdir: Path, *, with_dependency: bool
) -> None:
    environment = next(e for e in platform.environments.values() if e.model_registry is not None)
    assert environment.model_registry is not None
    group = environment.model_registry.groups[0].name
    app, stages = build_app(
        platform, environments=[environment.name], context=cdk_context, outdir=str(outdir)
    )
    stage = stages[environment.name]
    # A stack the registry does not depend on (it depends on Data and Network for its cleanup functions).
    assert stage.registry is not None and stage.monitoring is not None
    ram.CfnResourceShare(
        stage.monitoring,
        "CarelessShare",
        name="careless",
        resource_arns=[
            f"arn:{naming.partition(environment)}:sagemaker:{environment.region}:{environment.account_id}:"
            f"model-package-group/{group}"
        ],
        principals=[environment.account_id],
    )
    if with_dependency:
        stage.monitoring.add_stack_dependency(stage.registry)
    app.synth()


def test_a_literal_arn_without_a_dependency_fails_the_synth(
    sample_platform: PlatformConfig, cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(Exception, match=RULE_NAME) as failure:
        _share_a_group_from_the_monitoring_stack(
            sample_platform, cdk_context, tmp_path, with_dependency=False
        )
    message = str(failure.value)
    assert "/Monitoring/CarelessShare" in message
    assert "/Registry/Group-" in message
    assert "add a stack dependency" in message


def test_the_same_reference_with_a_stack_dependency_passes(
    sample_platform: PlatformConfig, cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    _share_a_group_from_the_monitoring_stack(sample_platform, cdk_context, tmp_path, with_dependency=True)
