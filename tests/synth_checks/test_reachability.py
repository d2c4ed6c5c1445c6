"""Network reachability at synth: compute in subnets without a NAT route reaches only the services its VPC
has endpoints for.

Each case builds a bare app (one Stage) with the plugin registered as `build_app` registers it, synthesizes
it, and checks that the synth fails, or passes, as the network would route the compute's calls.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr

from synth_checks.reachability import COMPUTE_CALLS, COMPUTE_KIND_METADATA, ComputeKind, check_stage
from synth_checks.reachability_plugin import RULE_NAME, ReachabilityChecks

ACCOUNT = "123456789012"
REGION = "eu-central-1"
ZONES = ["eu-central-1a", "eu-central-1b"]
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


def _app(tmp_path: Path) -> cdk.App:
    # The zones are seeded so that the VPC needs no lookup; the schema validator is not the subject here.
    app = cdk.App(
        outdir=str(tmp_path / "cdk.out"),
        builtin_cloud_formation_validation=False,
        context={f"availability-zones:account={ACCOUNT}:region={REGION}": ZONES},
    )
    cdk.Validations.of(app).add_plugins(ReachabilityChecks())
    return app


def _stack(app: cdk.App, construct_id: str = "Network") -> cdk.Stack:
    existing = app.node.try_find_child("env")
    stage = (
        existing
        if isinstance(existing, cdk.Stage)
        else cdk.Stage(app, "env", env=cdk.Environment(account=ACCOUNT, region=REGION))
    )
    return cdk.Stack(stage, construct_id, env=cdk.Environment(account=ACCOUNT, region=REGION))


def _vpc(stack: cdk.Stack, *, nat: bool = False) -> ec2.Vpc:
    private = ec2.SubnetType.PRIVATE_WITH_EGRESS if nat else ec2.SubnetType.PRIVATE_ISOLATED
    subnets = [ec2.SubnetConfiguration(name="private", subnet_type=private)]
    if nat:
        subnets.append(ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC))
    return ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1 if nat else 0, subnet_configuration=subnets)


def _private(vpc: ec2.Vpc) -> ec2.SubnetSelection:
    return ec2.SubnetSelection(subnets=list(vpc.isolated_subnets or vpc.private_subnets))


def _notifier(stack: cdk.Stack, vpc: ec2.Vpc, kind: str | None = "function:promotion_notifier") -> None:
    function = lambda_.Function(
        stack,
        "Notifier",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        vpc=vpc,
        vpc_subnets=_private(vpc),
    )
    if kind is not None:
        function.node.default_child.add_metadata(COMPUTE_KIND_METADATA, kind)  # type: ignore[union-attr]


def _endpoint(vpc: ec2.Vpc, service: ec2.InterfaceVpcEndpointAwsService, *, private_dns: bool = True) -> None:
    vpc.add_interface_endpoint(
        f"Endpoint{service.short_name}",
        service=service,
        subnets=_private(vpc),
        private_dns_enabled=private_dns,
    )


def test_a_function_calling_a_service_with_no_endpoint_and_no_nat_fails_the_synth(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = _stack(app)
    _notifier(stack, _vpc(stack))
    with pytest.raises(Exception, match=RULE_NAME) as failure:
        app.synth()
    message = str(failure.value)
    assert "env/Network/Notifier/Resource" in message
    assert "function:promotion_notifier" in message
    assert "'sns'" in message


def test_the_endpoint_of_the_service_makes_it_pass(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = _stack(app)
    vpc = _vpc(stack)
    _notifier(stack, vpc)
    _endpoint(vpc, ec2.InterfaceVpcEndpointAwsService.SNS)
    app.synth()


def test_an_interface_endpoint_without_private_dns_does_not_count(tmp_path: Path) -> None:
    # The SDK calls the service's public host name; only private DNS resolves it to the endpoint.
    app = _app(tmp_path)
    stack = _stack(app)
    vpc = _vpc(stack)
    _notifier(stack, vpc)
    _endpoint(vpc, ec2.InterfaceVpcEndpointAwsService.SNS, private_dns=False)
    with pytest.raises(Exception, match="'sns'"):
        app.synth()


def test_a_route_to_a_nat_gateway_makes_it_pass(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = _stack(app)
    _notifier(stack, _vpc(stack, nat=True))
    app.synth()


def test_a_gateway_endpoint_counts_on_the_route_tables_it_is_on(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = _stack(app)
    vpc = _vpc(stack)
    _notifier(stack, vpc, kind="function:approval_guard")
    _endpoint(vpc, ec2.InterfaceVpcEndpointAwsService.SNS)
    _endpoint(vpc, ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API)
    with pytest.raises(Exception, match="'s3'"):
        app.synth()

    app = _app(tmp_path / "with-gateway")
    stack = _stack(app)
    vpc = _vpc(stack)
    _notifier(stack, vpc, kind="function:approval_guard")
    _endpoint(vpc, ec2.InterfaceVpcEndpointAwsService.SNS)
    _endpoint(vpc, ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API)
    vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[_private(vpc)])
    app.synth()


def test_a_provider_framework_in_the_subnets_needs_the_lambda_endpoint(tmp_path: Path) -> None:
    """The case of the Serving stack's package reader: the framework invokes its handler by the Lambda API,
    and answers CloudFormation through S3. The function is in another stack than the VPC."""

    def build(app: cdk.App, *, lambda_endpoint: bool) -> None:
        network = _stack(app)
        vpc = _vpc(network)
        vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[_private(vpc)])
        if lambda_endpoint:
            _endpoint(vpc, ec2.InterfaceVpcEndpointAwsService.LAMBDA_)
        serving = _stack(app, "Serving")
        handler = lambda_.Function(
            serving,
            "Handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
        )
        cr.Provider(serving, "Provider", on_event_handler=handler, vpc=vpc, vpc_subnets=_private(vpc))

    app = _app(tmp_path)
    build(app, lambda_endpoint=False)
    with pytest.raises(Exception, match=RULE_NAME) as failure:
        app.synth()
    message = str(failure.value)
    assert "env/Serving/Provider/framework-onEvent/Resource" in message
    assert "'lambda'" in message

    app = _app(tmp_path / "with-endpoint")
    build(app, lambda_endpoint=True)
    app.synth()


def test_a_function_of_undeclared_kind_in_the_subnets_fails_the_synth(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = _stack(app)
    _notifier(stack, _vpc(stack, nat=True), kind=None)
    with pytest.raises(Exception, match=COMPUTE_KIND_METADATA) as failure:
        app.synth()
    assert "env/Network/Notifier/Resource" in str(failure.value)


def test_compute_outside_the_vpc_is_not_judged(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = _stack(app)
    _vpc(stack)
    lambda_.Function(
        stack,
        "Outside",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
    )
    app.synth()


def test_subnets_the_stage_does_not_create_are_not_judged(tmp_path: Path) -> None:
    """An existing VPC's routes and endpoints are in no template: its compute is unchecked, not passed."""
    app = _app(tmp_path)
    stack = _stack(app)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=ZONES,
        isolated_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    )
    lambda_.Function(
        stack,
        "Notifier",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    )
    assembly = app.synth()
    manifest = Path(assembly.directory) / "assembly-env" / "manifest.json"
    result = check_stage(manifest)
    assert result.unreachable == ()
    assert [compute.construct_path for compute in result.unchecked] == ["env/Network/Notifier/Resource"]


def test_every_function_package_has_a_declared_kind() -> None:
    packages = sorted(path.parent.name for path in FUNCTIONS_DIR.glob("*/handler.py"))
    assert packages
    for package in packages:
        assert ComputeKind(f"function:{package}") in COMPUTE_CALLS


def test_every_kind_is_in_the_table() -> None:
    assert set(COMPUTE_CALLS) == set(ComputeKind)
