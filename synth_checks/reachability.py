"""Network reachability: every compute the platform places in its subnets can reach the AWS APIs it calls.

A subnet with no route to a NAT gateway reaches an AWS API only through a VPC endpoint: an interface
endpoint with private DNS in its VPC (the SDK's default host name then resolves to it), or a gateway endpoint
(S3, DynamoDB) on its route table. Anything else waits for a connection timeout at run time: a custom
resource holds its stack for an hour, a job fails after its retries. This module declares which APIs each
kind of compute calls (`COMPUTE_CALLS`, the one definition), reads a Stage's assembly, and reports every
compute resource in the Stage's subnets with a called service that its subnets cannot reach.

What it can see: subnets, route tables, routes and endpoints the Stage's templates create. Subnets it does
not create (an existing VPC from configuration, `network.existing_vpc`) are outside its view: their routes
and the endpoints already in that VPC are not in any template, so such compute is reported as unchecked, never
as reachable or unreachable. It imports neither `aws_cdk` nor `constructs`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from synth_checks.creation_order import StackTemplate, read_stage_assembly, resolve_literal

# The metadata key a Lambda function's resource carries to name its kind (see `COMPUTE_CALLS`).
COMPUTE_KIND_METADATA = "platform:compute-kind"


class ComputeKind(StrEnum):
    """What runs in the subnets. Lambda functions of the platform name their kind in their resource's
    metadata (`function:<package under functions/>`); the rest is recognized by resource type."""

    APPROVAL_GUARD = "function:approval_guard"
    DISPOSABLE_CLEANUP = "function:disposable_cleanup"
    MODEL_PACKAGE_BASELINE = "function:model_package_baseline"
    PROMOTION_NOTIFIER = "function:promotion_notifier"
    STUDIO_TEARDOWN = "function:studio_teardown"
    PROVIDER_ON_EVENT = "CDK provider framework onEvent"
    PROVIDER_IS_COMPLETE = "CDK provider framework isComplete"
    PROVIDER_ON_TIMEOUT = "CDK provider framework onTimeout"
    STUDIO_JUPYTER_LAB = "Studio JupyterLab app"
    STUDIO_CODE_EDITOR = "Studio Code Editor app"
    PROCESSING_JOB = "processing job"
    TRAINING_JOB = "training job"
    TRANSFORM_JOB = "transform job (model of a pipeline)"
    ENDPOINT = "endpoint (model container)"
    MONITORING_JOB = "monitoring job"
    CODEBUILD = "CodeBuild image build"
    MLFLOW_SERVER = "MLflow tracking server"


# Services by the suffix of their endpoint service name (`com.amazonaws.<region>.<suffix>`, and
# `aws.sagemaker.<region>.<name>` as `sagemaker.<name>`).
S3 = "s3"
SAGEMAKER_API = "sagemaker.api"
SAGEMAKER_RUNTIME = "sagemaker.runtime"
STS = "sts"
LOGS = "logs"
MONITORING = "monitoring"
ECR_API = "ecr.api"
ECR_DOCKER = "ecr.dkr"
KMS = "kms"
LAMBDA = "lambda"
SNS = "sns"
SSM = "ssm"
EC2 = "ec2"
EFS = "elasticfilesystem"
CLOUDFORMATION = "cloudformation"

# Which AWS APIs each kind of compute calls from inside its subnets: the one definition the check reads.
# Lambda writes a function's logs and decrypts its environment itself (not through the function's network
# interface), and S3, SNS and SageMaker call KMS for server-side encryption themselves: only what the code
# calls is listed. SageMaker jobs and model containers are listed as the SageMaker developer guide's
# "no internet access" pages describe (data and models through the S3 gateway, logs and metrics, images
# from ECR), plus STS, which the SageMaker SDK in a container calls for the caller's identity.
COMPUTE_CALLS: Mapping[ComputeKind, frozenset[str]] = {
    # functions/approval_guard/handler.py: boto3 sagemaker, s3 (metrics reports) and sns clients.
    ComputeKind.APPROVAL_GUARD: frozenset({SAGEMAKER_API, S3, SNS}),
    # functions/disposable_cleanup/handler.py: sagemaker (versions, pipeline executions) and cloudformation
    # (its own stack's status). Deployed outside the VPC (constructs_lib/shared/disposable_cleanup.py).
    ComputeKind.DISPOSABLE_CLEANUP: frozenset({SAGEMAKER_API, CLOUDFORMATION}),
    # functions/model_package_baseline/handler.py: DescribeModelPackage only (the package is in another
    # account; the call still goes to this region's SageMaker API, through its endpoint).
    ComputeKind.MODEL_PACKAGE_BASELINE: frozenset({SAGEMAKER_API}),
    # functions/promotion_notifier/handler.py: boto3 sns client only.
    ComputeKind.PROMOTION_NOTIFIER: frozenset({SNS}),
    # functions/studio_teardown/handler.py: sagemaker, ec2, efs and cloudformation clients. Deployed outside
    # the VPC (constructs_lib/studio/studio_teardown.py), so the check sees it only if it ever moves into
    # subnets.
    ComputeKind.STUDIO_TEARDOWN: frozenset({SAGEMAKER_API, EC2, EFS, CLOUDFORMATION}),
    # The provider framework invokes the user function through the Lambda API and answers CloudFormation
    # by a PUT to a pre-signed S3 URL; with an isComplete handler it also starts a Step Functions waiter.
    ComputeKind.PROVIDER_ON_EVENT: frozenset({LAMBDA, S3}),
    ComputeKind.PROVIDER_IS_COMPLETE: frozenset({LAMBDA, S3}),
    ComputeKind.PROVIDER_ON_TIMEOUT: frozenset({S3}),
    # Studio apps in a VpcOnly domain: the SDK and CLI (jobs, pipelines, registry, inference), data in S3,
    # credentials and identity, logs and metrics, images, and KMS for client-side use of platform keys.
    # Team file systems need no service here: apps speak NFS to mount targets in their own subnets (the
    # local route); the app itself calls no EFS API.
    ComputeKind.STUDIO_JUPYTER_LAB: frozenset(
        {SAGEMAKER_API, SAGEMAKER_RUNTIME, S3, STS, LOGS, MONITORING, ECR_API, ECR_DOCKER, KMS, SSM}
    ),
    ComputeKind.STUDIO_CODE_EDITOR: frozenset(
        {SAGEMAKER_API, SAGEMAKER_RUNTIME, S3, STS, LOGS, MONITORING, ECR_API, ECR_DOCKER, KMS, SSM}
    ),
    ComputeKind.PROCESSING_JOB: frozenset({S3, LOGS, MONITORING, ECR_API, ECR_DOCKER, STS}),
    ComputeKind.TRAINING_JOB: frozenset({S3, LOGS, MONITORING, ECR_API, ECR_DOCKER, STS}),
    ComputeKind.TRANSFORM_JOB: frozenset({S3, LOGS, MONITORING, ECR_API, ECR_DOCKER}),
    ComputeKind.ENDPOINT: frozenset({S3, LOGS, MONITORING, ECR_API, ECR_DOCKER}),
    ComputeKind.MONITORING_JOB: frozenset({S3, LOGS, MONITORING, ECR_API, ECR_DOCKER}),
    # The image build: source from S3, logs, pulling base images and pushing to ECR, a login through STS.
    ComputeKind.CODEBUILD: frozenset({S3, LOGS, ECR_API, ECR_DOCKER, STS}),
    # SageMaker runs tracking servers in its own network: never in the platform's subnets. Clients reach
    # one through `sagemaker.experiments` (see stacks/network_stack.py).
    ComputeKind.MLFLOW_SERVER: frozenset(),
}

# CDK's provider framework names its functions so; they carry no metadata of ours.
_PROVIDER_FUNCTIONS: Mapping[str, ComputeKind] = {
    "framework-onEvent": ComputeKind.PROVIDER_ON_EVENT,
    "framework-isComplete": ComputeKind.PROVIDER_IS_COMPLETE,
    "framework-onTimeout": ComputeKind.PROVIDER_ON_TIMEOUT,
}

# Pipeline step types that run compute, and where their arguments hold the subnets.
_PIPELINE_STEP_KINDS: Mapping[str, ComputeKind] = {
    "Processing": ComputeKind.PROCESSING_JOB,
    "QualityCheck": ComputeKind.PROCESSING_JOB,
    "ClarifyCheck": ComputeKind.PROCESSING_JOB,
    "Training": ComputeKind.TRAINING_JOB,
    "Tuning": ComputeKind.TRAINING_JOB,
    "Model": ComputeKind.TRANSFORM_JOB,
}

_TOKEN = "__SYNTH_CHECK_TOKEN_{}__"


@dataclass(frozen=True)
class Compute:
    """One compute resource (or one pipeline step of it) and the subnets it runs in."""

    stack: StackTemplate
    logical_id: str
    construct_path: str
    kind: ComputeKind | None
    subnets: tuple[Any, ...]
    step: str | None = None

    @property
    def label(self) -> str:
        return f"{self.construct_path} (step {self.step})" if self.step else self.construct_path


@dataclass(frozen=True)
class Unreachable:
    """`compute` calls `service`, and no subnet path of it reaches that service (or its kind is unknown)."""

    compute: Compute
    service: str | None

    def message(self) -> str:
        compute = self.compute
        where = f"{compute.label} (logical id {compute.logical_id}, stack {compute.stack.display_name})"
        if compute.kind is None:
            return (
                f"{where} is a Lambda function in the platform's subnets with no declared kind: its "
                f"metadata '{COMPUTE_KIND_METADATA}' must name an entry of synth_checks/reachability.py "
                "COMPUTE_CALLS, so the check knows which AWS APIs it calls."
            )
        return (
            f"{where}, a {compute.kind.value}, calls the '{self.service}' API, but its subnets have no "
            f"route to a NAT gateway and its VPC has no {self.service} endpoint (interface endpoint with "
            f"private DNS, or a gateway endpoint on the subnets' route tables): the call would time out."
        )

    def fix(self) -> str:
        if self.compute.kind is None:
            return (
                f"set the function's metadata '{COMPUTE_KIND_METADATA}' (PlatformFunction does it from its "
                "package) and declare the kind's calls in COMPUTE_CALLS"
            )
        return (
            f"add the '{self.service}' endpoint to the VPC (constructs_lib/network/studio_vpc_endpoints.py), "
            f"or keep {self.compute.construct_path} out of the VPC when it touches no resource only the VPC "
            "reaches"
        )


@dataclass(frozen=True)
class _Network:
    """What the Stage's templates say about its subnets: each one's VPC, route table, and the reachable
    services per VPC (interface endpoints with private DNS) and per route table (gateway endpoints)."""

    subnet_vpc: Mapping[tuple[str, str], tuple[str, str]]
    subnet_route_table: Mapping[tuple[str, str], tuple[str, str]]
    nat_route_tables: frozenset[tuple[str, str]]
    vpc_services: Mapping[tuple[str, str], frozenset[str]]
    route_table_services: Mapping[tuple[str, str], frozenset[str]]

    def reaches(self, subnet: tuple[str, str], service: str) -> bool:
        route_table = self.subnet_route_table.get(subnet)
        if route_table is not None and route_table in self.nat_route_tables:
            return True
        if route_table is not None and service in self.route_table_services.get(route_table, frozenset()):
            return True
        vpc = self.subnet_vpc.get(subnet)
        return vpc is not None and service in self.vpc_services.get(vpc, frozenset())


class _Resolver:
    """Follows `Ref`, `Fn::GetStackOutput` and `Fn::ImportValue` to a resource of the Stage."""

    def __init__(self, stacks: list[StackTemplate], stack_names: Mapping[str, str]) -> None:
        self._stacks = {stack.artifact_id: stack for stack in stacks}
        self._by_name = {name: self._stacks[artifact] for artifact, name in stack_names.items()}
        self._exports: dict[str, tuple[StackTemplate, Any]] = {}
        for stack in stacks:
            for output in stack.template.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                if isinstance(export, str):
                    self._exports[export] = (stack, output.get("Value"))

    def resource(self, value: Any, stack: StackTemplate) -> tuple[str, str] | None:
        """(artifact id, logical id) of the resource the value refers to, if the Stage creates it."""
        if not isinstance(value, Mapping) or len(value) != 1:
            return None
        (function, argument), *_ = value.items()
        if function == "Ref" and isinstance(argument, str) and argument in stack.resources:
            return stack.artifact_id, argument
        if function == "Fn::GetStackOutput" and isinstance(argument, Mapping):
            producer = self._by_name.get(str(argument.get("StackName")))
            if producer is None:
                return None
            output = producer.template.get("Outputs", {}).get(str(argument.get("OutputName")))
            return self.resource(output.get("Value"), producer) if output else None
        if function == "Fn::ImportValue" and isinstance(argument, str) and argument in self._exports:
            producer, exported = self._exports[argument]
            return self.resource(exported, producer)
        return None


def _service_suffix(service_name: str, region: str) -> str:
    parts = service_name.split(".")
    if parts[:2] == ["com", "amazonaws"]:
        parts = parts[2:]
    elif parts[:1] == ["aws"]:
        parts = parts[1:]
    return ".".join(part for part in parts if part != region)


class _NetworkBuilder:
    """Collects the subnets, route tables, NAT routes and endpoints of a Stage into a `_Network`."""

    def __init__(self, resolver: _Resolver) -> None:
        self.resolver = resolver
        self.subnet_vpc: dict[tuple[str, str], tuple[str, str]] = {}
        self.subnet_route_table: dict[tuple[str, str], tuple[str, str]] = {}
        self.nat_route_tables: set[tuple[str, str]] = set()
        self.vpc_services: dict[tuple[str, str], set[str]] = {}
        self.route_table_services: dict[tuple[str, str], set[str]] = {}

    def add(self, stack: StackTemplate, logical_id: str, resource: Mapping[str, Any]) -> None:
        properties = resource.get("Properties", {})
        kind = resource.get("Type")
        resolve = self.resolver.resource
        if kind == "AWS::EC2::Subnet":
            vpc = resolve(properties.get("VpcId"), stack)
            if vpc is not None:
                self.subnet_vpc[(stack.artifact_id, logical_id)] = vpc
        elif kind == "AWS::EC2::SubnetRouteTableAssociation":
            subnet = resolve(properties.get("SubnetId"), stack)
            route_table = resolve(properties.get("RouteTableId"), stack)
            if subnet is not None and route_table is not None:
                self.subnet_route_table[subnet] = route_table
        elif kind == "AWS::EC2::Route" and "NatGatewayId" in properties:
            # Only a NAT gateway gives a private subnet's compute the internet; an internet gateway route
            # does not (Lambda and SageMaker network interfaces have no public address).
            route_table = resolve(properties.get("RouteTableId"), stack)
            if route_table is not None:
                self.nat_route_tables.add(route_table)
        elif kind == "AWS::EC2::VPCEndpoint":
            self._add_endpoint(stack, properties)

    def _add_endpoint(self, stack: StackTemplate, properties: Mapping[str, Any]) -> None:
        service_name = resolve_literal(properties.get("ServiceName"), stack)
        if service_name is None:
            return
        service = _service_suffix(service_name, stack.region)
        if properties.get("VpcEndpointType", "Gateway") == "Gateway":
            for route_table_id in properties.get("RouteTableIds", []):
                route_table = self.resolver.resource(route_table_id, stack)
                if route_table is not None:
                    self.route_table_services.setdefault(route_table, set()).add(service)
        elif properties.get("PrivateDnsEnabled") is True:
            # Without private DNS the SDK's default host name does not resolve to the endpoint.
            vpc = self.resolver.resource(properties.get("VpcId"), stack)
            if vpc is not None:
                self.vpc_services.setdefault(vpc, set()).add(service)

    def build(self) -> _Network:
        return _Network(
            subnet_vpc=self.subnet_vpc,
            subnet_route_table=self.subnet_route_table,
            nat_route_tables=frozenset(self.nat_route_tables),
            vpc_services={vpc: frozenset(services) for vpc, services in self.vpc_services.items()},
            route_table_services={
                table: frozenset(services) for table, services in self.route_table_services.items()
            },
        )


def _network(stacks: list[StackTemplate], resolver: _Resolver) -> _Network:
    builder = _NetworkBuilder(resolver)
    for stack in stacks:
        for logical_id, resource in stack.resources.items():
            builder.add(stack, logical_id, resource)
    return builder.build()


def _construct_path(stack: StackTemplate, logical_id: str) -> str:
    return stack.construct_paths.get(logical_id, f"{stack.display_name}/{logical_id}")


def _lambda_kind(resource: Mapping[str, Any], construct_path: str) -> ComputeKind | None:
    declared = resource.get("Metadata", {}).get(COMPUTE_KIND_METADATA)
    if isinstance(declared, str):
        try:
            return ComputeKind(declared)
        except ValueError:
            return None
    for name, kind in _PROVIDER_FUNCTIONS.items():
        if f"/{name}/" in construct_path:
            return kind
    return None


def _pipeline_steps(definition: Any) -> Iterator[tuple[str, str, list[Any]]]:
    """(step name, step type, subnets) of each step of a rendered pipeline definition with a VPC."""
    body = definition.get("PipelineDefinitionBody") if isinstance(definition, Mapping) else None
    tokens: list[Any] = []
    if isinstance(body, Mapping) and "Fn::Join" in body:
        delimiter, parts = body["Fn::Join"]
        texts = []
        for part in parts:
            if isinstance(part, str):
                texts.append(part)
            else:
                texts.append(_TOKEN.format(len(tokens)))
                tokens.append(part)
        body = str(delimiter).join(texts)
    if not isinstance(body, str):
        return
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return

    def value(text: Any) -> Any:
        match = re.fullmatch(_TOKEN.format(r"(\d+)"), str(text))
        return tokens[int(match.group(1))] if match else text

    for step in parsed.get("Steps", []):
        arguments = step.get("Arguments", {})
        if not isinstance(arguments, Mapping):
            continue
        vpc_config = arguments.get("VpcConfig") or arguments.get("NetworkConfig", {}).get("VpcConfig")
        if isinstance(vpc_config, Mapping) and vpc_config.get("Subnets"):
            yield str(step.get("Name")), str(step.get("Type")), [value(s) for s in vpc_config["Subnets"]]


_MONITORING_JOB_DEFINITIONS = frozenset(
    {
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::ModelQualityJobDefinition",
        "AWS::SageMaker::ModelBiasJobDefinition",
        "AWS::SageMaker::ModelExplainabilityJobDefinition",
    }
)


def _placements(
    resource: Mapping[str, Any], construct_path: str
) -> Iterator[tuple[ComputeKind | None, Any, str | None]]:
    """(kind, subnets, pipeline step) of each compute a resource places in subnets."""
    properties = resource.get("Properties", {})
    kind = resource.get("Type")
    if kind == "AWS::Lambda::Function" and properties.get("VpcConfig", {}).get("SubnetIds"):
        yield _lambda_kind(resource, construct_path), properties["VpcConfig"]["SubnetIds"], None
    elif kind == "AWS::CodeBuild::Project" and properties.get("VpcConfig", {}).get("Subnets"):
        yield ComputeKind.CODEBUILD, properties["VpcConfig"]["Subnets"], None
    elif kind == "AWS::SageMaker::Domain" and properties.get("AppNetworkAccessType") == "VpcOnly":
        # The platform's spaces are JupyterLab or Code Editor apps (constructs_lib/studio/studio_space.py).
        yield ComputeKind.STUDIO_JUPYTER_LAB, properties.get("SubnetIds"), None
        yield ComputeKind.STUDIO_CODE_EDITOR, properties.get("SubnetIds"), None
    elif kind == "AWS::SageMaker::Model" and properties.get("VpcConfig", {}).get("Subnets"):
        yield ComputeKind.ENDPOINT, properties["VpcConfig"]["Subnets"], None
    elif kind in _MONITORING_JOB_DEFINITIONS:
        network = properties.get("NetworkConfig", {}).get("VpcConfig", {})
        if network.get("Subnets"):
            yield ComputeKind.MONITORING_JOB, network["Subnets"], None
    elif kind == "AWS::SageMaker::Pipeline":
        for step, step_type, subnets in _pipeline_steps(properties.get("PipelineDefinition")):
            yield _PIPELINE_STEP_KINDS.get(step_type, ComputeKind.PROCESSING_JOB), subnets, step


def _computes(stack: StackTemplate) -> Iterator[Compute]:
    for logical_id, resource in stack.resources.items():
        path = _construct_path(stack, logical_id)
        for kind, subnets, step in _placements(resource, path):
            yield Compute(stack, logical_id, path, kind, tuple(subnets or ()), step)


@dataclass(frozen=True)
class StageReachability:
    """What the check found in one Stage: the unreachable calls, and the compute outside its view."""

    unreachable: tuple[Unreachable, ...]
    unchecked: tuple[Compute, ...]


def stage_reachability(stacks: list[StackTemplate], stack_names: Mapping[str, str]) -> StageReachability:
    """Every call of every compute of the Stage that its subnets cannot reach."""
    resolver = _Resolver(stacks, stack_names)
    network = _network(stacks, resolver)
    unreachable: list[Unreachable] = []
    unchecked: list[Compute] = []
    for stack in stacks:
        for compute in _computes(stack):
            subnets = [resolver.resource(subnet, compute.stack) for subnet in compute.subnets]
            known = [subnet for subnet in subnets if subnet is not None and subnet in network.subnet_vpc]
            if not known or len(known) != len(subnets):
                # A subnet the Stage does not create (an existing VPC): its routes are not in a template.
                unchecked.append(compute)
                continue
            if compute.kind is None:
                unreachable.append(Unreachable(compute, None))
                continue
            unreachable.extend(
                Unreachable(compute, service)
                for service in sorted(COMPUTE_CALLS[compute.kind])
                if not all(network.reaches(subnet, service) for subnet in known)
            )
    return StageReachability(unreachable=tuple(unreachable), unchecked=tuple(unchecked))


def read_stack_names(manifest_path: Path) -> dict[str, str]:
    """Artifact id to CloudFormation stack name, from a Stage's manifest (for `Fn::GetStackOutput`)."""
    artifacts: Mapping[str, Any] = json.loads(manifest_path.read_text()).get("artifacts", {})
    return {
        artifact_id: str(artifact.get("properties", {}).get("stackName", artifact_id))
        for artifact_id, artifact in artifacts.items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }


def check_stage(manifest_path: Path) -> StageReachability:
    """The check over one Stage's assembly folder (its `manifest.json` and the templates beside it)."""
    return stage_reachability(read_stage_assembly(manifest_path), read_stack_names(manifest_path))
