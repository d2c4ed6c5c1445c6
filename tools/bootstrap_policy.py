"""The least-privilege CloudFormation execution policy for `cdk bootstrap`.

CloudFormation deploys the platform's stacks with the role `cdk bootstrap` creates, and that role gets the
managed policies passed with `--cloudformation-execution-policies` (AdministratorAccess without the flag).
This module builds those policies from the resource types the synthesized templates use:

- `DEPLOYED_RESOURCE_TYPES` declares every CloudFormation resource type the platform deploys. The actions
  of each `AWS::*` type are read from the `handlers` (create, update, delete) of the resource schemas cfn-lint
  ships (`platform_cli.cfn_schemas`, which the review diff reads too), so they follow the installed schemas
  rather than a hand-typed list.
- `CUSTOM_RESOURCE_ACTIONS` declares what CloudFormation itself does for each `Custom::*` type: it invokes
  the provider's function; everything else is the provider's own role's business.
- `CDK_DEPLOYMENT_ACTIONS` is what a CDK deployment needs beyond its resources.

A template with a type missing from these tables fails tests/tools/test_bootstrap_policy.py, naming it.

    .venv/bin/python -m tools.bootstrap_policy --env dev [--out bootstrap-policy/]

reads `cdk.out/assembly-<env>/` (run `make synth` first) and prints or writes the policy documents, split
below IAM's 6,144-character limit for a managed policy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

from platform_cli.cfn_schemas import resource_schema

ROOT: Final = Path(__file__).resolve().parent.parent
# The handlers CloudFormation runs for a stack's resources. `read` and `list` serve drift detection and
# resource import, which the platform does not rely on.
HANDLERS: Final = ("create", "update", "delete")
# IAM counts a managed policy's JSON without whitespace; this is its hard limit.
MANAGED_POLICY_MAX_CHARS: Final = 6144
# Services whose API answers from one region whatever the stack's region is: no region condition.
GLOBAL_SERVICES: Final = frozenset({"iam", "organizations", "cloudfront", "route53", "sts"})

DEPLOYED_RESOURCE_TYPES: Final[tuple[str, ...]] = (
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::CodeBuild::Project",
    "AWS::EC2::FlowLog",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCEndpoint",
    "AWS::ECR::Repository",
    "AWS::EFS::FileSystem",
    "AWS::EKS::PodIdentityAssociation",
    "AWS::EFS::MountTarget",
    "AWS::Events::EventBusPolicy",
    "AWS::Events::Rule",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::KMS::Alias",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::Permission",
    "AWS::Logs::LogGroup",
    "AWS::RAM::ResourceShare",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::SSM::Parameter",
    "AWS::SageMaker::AppImageConfig",
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::Domain",
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::EndpointConfig",
    "AWS::SageMaker::Image",
    "AWS::SageMaker::ImageVersion",
    "AWS::SageMaker::MlflowTrackingServer",
    "AWS::SageMaker::Model",
    "AWS::SageMaker::ModelPackageGroup",
    "AWS::SageMaker::MonitoringSchedule",
    "AWS::SageMaker::Pipeline",
    "AWS::SageMaker::Space",
    "AWS::SageMaker::StudioLifecycleConfig",
    "AWS::SageMaker::UserProfile",
    "AWS::StepFunctions::StateMachine",
)

# Types whose shipped schema declares no handler permissions (legacy, non-registry resources): declared by
# hand from the service's API reference. A schema that gains handlers takes over (see resource_type_actions).
UNSCHEMED_RESOURCE_ACTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "AWS::CodeBuild::Project": (
        "codebuild:BatchGetProjects",
        "codebuild:CreateProject",
        "codebuild:DeleteProject",
        "codebuild:UpdateProject",
        "iam:PassRole",
    ),
}

# Schema permissions that are not IAM actions as written. The service prefix of EFS is elasticfilesystem;
# the rest are names no service authorization reference lists (S3 removes a configuration with its Put
# action, `REST.PUT.OBJECT` is an access-log operation), so no policy can grant or needs them.
RENAMED_SCHEMA_ACTIONS: Final[Mapping[str, str]] = {
    "efs:CreateFileSystem": "elasticfilesystem:CreateFileSystem",
    "efs:DeleteFileSystem": "elasticfilesystem:DeleteFileSystem",
    "efs:DeleteMountTarget": "elasticfilesystem:DeleteMountTarget",
    "efs:DescribeMountTargets": "elasticfilesystem:DescribeMountTargets",
}
NOT_IAM_ACTIONS: Final = frozenset(
    {
        "lambda:AssociateRuntimeAlias",
        "s3:DeleteBucketAnalyticsConfiguration",
        "s3:DeleteBucketCors",
        "s3:DeleteBucketEncryption",
        "s3:DeleteBucketLifecycle",
        "s3:DeleteBucketMetricsConfiguration",
        "s3:DeleteBucketReplication",
        "s3:PutBucketReplication",
        "s3:PutObjectLockConfiguration",
        "s3:REST.PUT.OBJECT",
        "vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation",
    }
)

# CloudFormation sends a custom resource's events to its service token, the provider's Lambda function.
CUSTOM_RESOURCE_ACTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    # CDK's default-security-group clean-up (ec2.Vpc with restrictDefaultSecurityGroup).
    "Custom::VpcRestrictDefaultSG": ("lambda:InvokeFunction",),
    # The model-package reader's provider framework (constructs_lib).
    "Custom::ModelPackage": ("lambda:InvokeFunction",),
    # A disposable environment's cleanup provider framework (constructs_lib/shared/disposable_cleanup.py).
    "Custom::DisposableCleanup": ("lambda:InvokeFunction",),
    # CDK's bucket emptying before deletion (auto_delete_objects, disposable environments).
    "Custom::S3AutoDeleteObjects": ("lambda:InvokeFunction",),
    # The Studio teardown's provider framework (constructs_lib/studio/studio_teardown.py), disposable
    # environments.
    "Custom::StudioTeardown": ("lambda:InvokeFunction",),
    # CDK's kubectl handler (Kubernetes stack): the chart and the manifests, applied as the kubectl role.
    "Custom::AWSCDK-EKS-HelmChart": ("lambda:InvokeFunction",),
    "Custom::AWSCDK-EKS-KubernetesResource": ("lambda:InvokeFunction",),
}

# Beyond the resources: the bootstrap-version rule of every CDK template resolves the SSM parameter
# /cdk-bootstrap/<qualifier>/version. (`iam:PassRole`, and `s3:GetObject` for function code in the assets
# bucket, come from the handlers of the types that need them.)
CDK_DEPLOYMENT_ACTIONS: Final[tuple[str, ...]] = ("ssm:GetParameters",)


def schema_actions(resource_type: str) -> tuple[str, ...]:
    """The actions the schema's create, update and delete handlers need, sorted; () without handlers."""
    handlers: Mapping[str, Any] = resource_schema(resource_type).get("handlers", {})
    actions = {
        RENAMED_SCHEMA_ACTIONS.get(action, action)
        for handler in HANDLERS
        for action in handlers.get(handler, {}).get("permissions", [])
        if action not in NOT_IAM_ACTIONS
    }
    return tuple(sorted(actions, key=str.lower))


@cache
def resource_type_actions() -> dict[str, tuple[str, ...]]:
    """The table: each resource type the platform deploys, to what CloudFormation needs to manage it."""
    table = {
        resource_type: schema_actions(resource_type) or UNSCHEMED_RESOURCE_ACTIONS.get(resource_type, ())
        for resource_type in DEPLOYED_RESOURCE_TYPES
    }
    table.update(CUSTOM_RESOURCE_ACTIONS)
    return table


def template_resource_types(template_paths: Iterable[Path]) -> dict[str, set[Path]]:
    """Each resource type used in the templates, with the templates that use it."""
    types: dict[str, set[Path]] = {}
    for path in template_paths:
        resources: dict[str, Any] = json.loads(path.read_text()).get("Resources", {})
        for resource in resources.values():
            types.setdefault(resource["Type"], set()).add(path)
    return types


def uncovered_types(resource_types: Iterable[str]) -> list[str]:
    """The types the table gives no actions for."""
    table = resource_type_actions()
    return sorted(resource_type for resource_type in resource_types if not table.get(resource_type))


def required_actions(resource_types: Iterable[str]) -> list[str]:
    """Every action the given types need, plus CDK's own, deduplicated case-insensitively and sorted."""
    table = resource_type_actions()
    missing = uncovered_types(resource_types)
    if missing:
        raise ValueError(f"no execution-policy actions for resource types: {', '.join(missing)}")
    by_key: dict[str, str] = {}
    for action in [*CDK_DEPLOYMENT_ACTIONS, *(a for t in resource_types for a in table[t])]:
        by_key.setdefault(action.lower(), action)
    return sorted(by_key.values(), key=str.lower)


def _statements(
    actions: list[str], *, index: int, partition: str, account: str, region: str
) -> list[dict[str, Any]]:
    global_actions = [a for a in actions if a.split(":", 1)[0].lower() in GLOBAL_SERVICES]
    regional_actions = [a for a in actions if a not in global_actions]
    statements: list[dict[str, Any]] = []
    if regional_actions:
        # The role lives in the environment's account; the condition keeps it in the environment's region.
        statements.append(
            {
                "Sid": f"Regional{index}",
                "Effect": "Allow",
                "Action": regional_actions,
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
            }
        )
    iam_actions = [a for a in global_actions if a.lower().startswith("iam:")]
    other_global = [a for a in global_actions if a not in iam_actions]
    if iam_actions:
        statements.append(
            {
                "Sid": f"Iam{index}",
                "Effect": "Allow",
                "Action": iam_actions,
                "Resource": f"arn:{partition}:iam::{account}:*",
            }
        )
    if other_global:
        statements.append(
            {"Sid": f"Global{index}", "Effect": "Allow", "Action": other_global, "Resource": "*"}
        )
    return statements


def policy_size(document: Mapping[str, Any]) -> int:
    """The size IAM checks: the JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


def execution_policies(
    resource_types: Iterable[str], *, partition: str, account: str, region: str
) -> list[dict[str, Any]]:
    """The policy documents, each below the managed-policy limit, together allowing `required_actions`."""
    actions = required_actions(sorted(set(resource_types)))
    documents: list[dict[str, Any]] = []
    chunk: list[str] = []

    def document(part: list[str]) -> dict[str, Any]:
        index = len(documents) + 1
        statements = _statements(part, index=index, partition=partition, account=account, region=region)
        return {"Version": "2012-10-17", "Statement": statements}

    for action in actions:
        if chunk and policy_size(document([*chunk, action])) > MANAGED_POLICY_MAX_CHARS:
            documents.append(document(chunk))
            chunk = []
        chunk.append(action)
    if chunk:
        documents.append(document(chunk))
    return documents


def _environment(assembly: Path) -> tuple[str, str]:
    """The account and region the stage's stacks target, from the cloud assembly's manifest."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    environments = {
        artifact["environment"]
        for artifact in manifest.get("artifacts", {}).values()
        if artifact.get("type") == "aws:cloudformation:stack"
    }
    if len(environments) != 1:
        raise ValueError(f"{assembly}: expected one target environment, found {sorted(environments)}")
    account, region = environments.pop().removeprefix("aws://").split("/")
    return account, region


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--env", required=True, help="environment (stage) name, e.g. dev")
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--partition", default="aws")
    parser.add_argument("--out", type=Path, help="folder to write <env>-cfn-exec-<n>.json into")
    args = parser.parse_args(argv)
    assembly: Path = args.cdk_out / f"assembly-{args.env}"
    if not assembly.is_dir():
        print(f"{assembly} not found: run `make synth` first", file=sys.stderr)
        return 2
    account, region = _environment(assembly)
    types = template_resource_types(sorted(assembly.glob("*.template.json")))
    missing = uncovered_types(types)
    if missing:
        for resource_type in missing:
            used_in = ", ".join(sorted(path.name for path in types[resource_type]))
            print(
                f"no actions for {resource_type} (in {used_in}): add it to tools/bootstrap_policy.py",
                file=sys.stderr,
            )
        return 1
    documents = execution_policies(types, partition=args.partition, account=account, region=region)
    if args.out is None:
        print(json.dumps(documents, indent=2))
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        for index, doc in enumerate(documents, start=1):
            (args.out / f"{args.env}-cfn-exec-{index}.json").write_text(json.dumps(doc, indent=2) + "\n")
    sizes = ", ".join(str(policy_size(doc)) for doc in documents)
    print(
        f"{args.env} (aws://{account}/{region}): {len(types)} resource types, "
        f"{sum(len(s['Action']) for d in documents for s in d['Statement'])} actions, "
        f"{len(documents)} policies of {sizes} characters (limit {MANAGED_POLICY_MAX_CHARS})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
