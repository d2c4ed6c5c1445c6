"""A Python function of the platform, the way every one of them runs: in the VPC, logged with KMS."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.shared.compliance import (
    acknowledge,
    acknowledge_wildcard_actions,
    acknowledge_wildcard_resource,
)
from constructs_lib.shared.log_retention import retention

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
# Shared by every function (logging); shipped in each asset under the same import path as in the tests.
RUNTIME_PACKAGE = "_runtime"


@functools.cache
def function_asset_dir(package: str) -> Path:
    """A folder holding `functions/__init__.py`, `functions/_runtime/` and `functions/<package>/`: the
    function's asset. Only `.py` files are copied (no caches), by content, so the asset hash is the same
    for the same sources on any machine. One folder per package and process."""
    staging = Path(tempfile.mkdtemp(prefix=f"platform-function-{package}-"))
    target = staging / FUNCTIONS_DIR.name
    target.mkdir()
    shutil.copyfile(FUNCTIONS_DIR / "__init__.py", target / "__init__.py")
    for folder in (RUNTIME_PACKAGE, package):
        (target / folder).mkdir()
        for source in sorted((FUNCTIONS_DIR / folder).glob("*.py")):
            shutil.copyfile(source, target / folder / source.name)
    return staging


def function_code(package: str) -> lambda_.Code:
    """The asset of `functions/<package>` with the shared runtime (see function_asset_dir)."""
    return lambda_.Code.from_asset(str(function_asset_dir(package)))


def function_handler(package: str, entry_point: str = "handler") -> str:
    """Lambda's Handler for `functions/<package>/handler.py`'s `entry_point`, imported as in the tests."""
    return f"{FUNCTIONS_DIR.name}.{package}.handler.{entry_point}"


class PlatformFunction(Construct):
    """`functions/<package>/handler.py` as a Lambda function: Python, in the given subnets with HTTPS out
    only, reserved concurrency, a KMS-encrypted log group, its own role (with `role_name` when another
    account names it) and one managed policy for its grants. Asynchronous functions get a KMS-encrypted
    dead-letter queue; a synchronous one (`dead_letters=False`) reports failures to its caller.
    `entry_point` names the module's function Lambda calls (`handler` by default). Without `vpc`, the
    function runs outside the VPC, and `outside_vpc_reason` says why (the cdk-nag acknowledgement).
    Exposes `function`, `role`, `policy`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        package: str,
        description: str,
        environment: Mapping[str, str],
        vpc: ec2.IVpc | None,
        subnets: Sequence[ec2.ISubnet],
        logs_key: kms.IKey,
        outside_vpc_reason: str | None = None,
        entry_point: str = "handler",
        dead_letters_key: kms.IKey | None = None,
        role_name: str | None = None,
        timeout_seconds: int = 60,
        reserved_concurrency: int = 2,
        log_retention_days: int = 365,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        code_dir = FUNCTIONS_DIR / package
        if not (code_dir / "handler.py").is_file():
            raise ValueError(f"PlatformFunction: {code_dir}/handler.py does not exist")
        if (vpc is None) == (outside_vpc_reason is None):
            raise ValueError(
                f"PlatformFunction {package}: give either a vpc, or outside_vpc_reason for one outside it"
            )
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description[:1000],
        )
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        log_group = logs.LogGroup(
            self,
            "LogGroup",
            encryption_key=logs_key,
            retention=retention(log_retention_days, field=f"PlatformFunction {package}: log_retention_days"),
            removal_policy=removal_policy,
        )
        security_groups: list[ec2.ISecurityGroup] = []
        if vpc is not None:
            security_group = ec2.SecurityGroup(
                self, "SecurityGroup", vpc=vpc, description=f"{package}: HTTPS out", allow_all_outbound=False
            )
            security_group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC endpoints and, via its gateway, S3"
            )
            security_groups.append(security_group)
        dead_letter_queue: sqs.Queue | None = None
        if dead_letters_key is not None:
            dead_letter_queue = sqs.Queue(
                self,
                "DeadLetters",
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=dead_letters_key,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            acknowledge(
                dead_letter_queue,
                "AwsSolutions-SQS3",
                f"This queue is itself the dead-letter queue of the {package} function.",
            )
            dead_letter_queue.grant_send_messages(self.policy)
            acknowledge_wildcard_actions(
                self.policy,
                ["kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "Action groups of CDK's grant to send to the encrypted dead-letter queue, on its key only.",
            )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler=function_handler(package, entry_point),
            code=function_code(package),
            role=self.role,
            timeout=Duration.seconds(timeout_seconds),
            memory_size=256,
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_queue=dead_letter_queue,
            log_group=log_group,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=list(subnets)) if vpc is not None else None,
            security_groups=security_groups or None,
            environment=dict(environment),
            description=description[:256],
        )
        if dead_letter_queue is not None:
            acknowledge(
                self.role.node.find_child("DefaultPolicy"),
                "NIST.800.53.R5-IAMNoInlinePolicy",
                "CDK's Lambda function writes its dead-letter queue grant into the role's default policy; "
                "the role belongs to this function only.",
            )
        else:
            acknowledge(
                self.function,
                "NIST.800.53.R5-LambdaDLQ",
                f"The {package} function is invoked synchronously: its caller receives every failure.",
            )
        # The kind synth_checks/reachability.py looks up in its table of the AWS APIs each compute calls.
        self.function.node.default_child.add_metadata(  # type: ignore[union-attr]
            "platform:compute-kind", f"function:{package}"
        )
        # Lambda checks the role's network permissions when it creates a VPC function: policy first.
        self.function.node.add_dependency(self.policy)
        # CDK makes the function depend on its role's policies, which also names the role: fine, not an error.
        self.function.node.default_child.add_metadata(  # type: ignore[union-attr]
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        if vpc is not None:
            self.policy.add_statements(
                # Lambda attaches the function to the subnets through its role.
                iam.PolicyStatement(
                    sid="VpcNetworkInterfaces",
                    actions=[
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:CreateNetworkInterface",
                        "ec2:DeleteNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            )
        # With its own role, the function gets no logging grant from CDK.
        log_group.grant_write(self.policy)
        if vpc is None:
            acknowledge(self.function, "NIST.800.53.R5-LambdaInsideVPC", outside_vpc_reason or "")
            return
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "Lambda's network-interface calls for VPC functions support no resource-level permissions.",
        )
