"""The reachability check gates every synth of the platform: the sample's compute reaches every service
it calls, and a provider framework added to a copy of it in the isolated subnets fails the synth until the
VPC has a Lambda endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr

from platform_config import PlatformConfig
from stacks.platform_stage import PlatformStage
from synth_checks.reachability import ComputeKind, check_stage
from synth_checks.reachability_plugin import RULE_NAME, ReachabilityChecks
from tests.conftest import SynthesizedApp


def test_the_sample_reaches_every_service_its_compute_calls(synthesized: SynthesizedApp) -> None:
    # The synth fixture passed the gate; read its assemblies again to see what each Stage was checked for.
    manifests = sorted(synthesized.outdir.glob("assembly-*/manifest.json"))
    assert {manifest.parent.name.removeprefix("assembly-") for manifest in manifests} == set(
        synthesized.stages
    )
    for manifest in manifests:
        result = check_stage(manifest)
        assert [finding.message() for finding in result.unreachable] == []
        # The sample's VPCs are the platform's own: nothing is outside the check's view.
        assert result.unchecked == ()


def test_no_construct_acknowledges_a_reachability_finding(synthesized: SynthesizedApp) -> None:
    # The fix for an unreachable service is the endpoint, or the compute out of the VPC: never an
    # acknowledgement.
    assert synthesized.acknowledgements
    for path, rules in synthesized.acknowledgements.items():
        assert not any(RULE_NAME in rule for rule in rules), path


def test_the_package_readers_provider_runs_outside_the_vpc(synthesized: SynthesizedApp) -> None:
    """What the check found in the shipped code: the provider framework in the isolated subnets, with no
    route to the Lambda API. It now runs outside the VPC; the reader it invokes stays inside."""
    servings = [path for path in synthesized.stack_paths() if path.endswith("/Serving")]
    assert servings
    for path in servings:
        resources = synthesized.template(path).to_json()["Resources"]
        functions = {
            logical_id: resource
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Lambda::Function"
        }
        providers = [lid for lid, r in functions.items() if "frameworkonEvent" in lid]
        assert providers
        for logical_id in providers:
            assert "VpcConfig" not in functions[logical_id]["Properties"], logical_id
        declared = {
            r.get("Metadata", {}).get("platform:compute-kind")
            for r in functions.values()
            if "VpcConfig" in r["Properties"]
        }
        assert ComputeKind.MODEL_PACKAGE_BASELINE.value in declared


def _stage_with_a_provider_in_the_subnets(
    platform: PlatformConfig, cdk_context: dict[str, Any], outdir: Path, *, lambda_endpoint: bool
) -> None:
    environment = next(e for e in platform.environments.values() if e.network.new_vpc is not None)
    app = cdk.App(context=cdk_context, outdir=str(outdir), builtin_cloud_formation_validation=False)
    # Only the check under test: the added function is not meant to satisfy the cdk-nag packs.
    cdk.Validations.of(app).add_plugins(ReachabilityChecks())
    stage = PlatformStage(
        app,
        environment=environment,
        served=[platform.environments[name] for name in environment.serves_environments],
        trusted=[platform.environments[name] for name in environment.trusted_environments],
    )
    extra = cdk.Stack(
        stage, "Extra", env=cdk.Environment(account=environment.account_id, region=environment.region)
    )
    handler = lambda_.Function(
        extra,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
    )
    cr.Provider(
        extra,
        "Provider",
        on_event_handler=handler,
        vpc=stage.network.vpc,
        vpc_subnets=ec2.SubnetSelection(subnets=list(stage.network.subnets)),
    )
    if lambda_endpoint:
        stage.network.vpc.add_interface_endpoint(
            "LambdaEndpoint",
            service=ec2.InterfaceVpcEndpointAwsService.LAMBDA_,
            subnets=ec2.SubnetSelection(subnets=list(stage.network.subnets)),
            private_dns_enabled=True,
        )
    app.synth()


def test_a_provider_in_the_isolated_subnets_of_the_sample_fails_the_synth(
    sample_platform: PlatformConfig, cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(Exception, match=RULE_NAME) as failure:
        _stage_with_a_provider_in_the_subnets(sample_platform, cdk_context, tmp_path, lambda_endpoint=False)
    message = str(failure.value)
    assert "/Extra/Provider/framework-onEvent/Resource" in message
    assert "'lambda'" in message


def test_the_same_provider_passes_with_a_lambda_endpoint(
    sample_platform: PlatformConfig, cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    _stage_with_a_provider_in_the_subnets(sample_platform, cdk_context, tmp_path, lambda_endpoint=True)
