"""PlatformFunction: `functions/<package>/handler.py` as a Python function in the given subnets (HTTPS out
only), with reserved concurrency, a KMS-encrypted log group, its own role and managed policy, and a
KMS-encrypted dead-letter queue only when given a key for it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.shared.platform_function import PlatformFunction
from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import (
    REGION,
    SUBNET_IDS,
    VPC_ID,
    bare_stack,
    imported_subnets,
    imported_vpc,
    logical_id,
    resource,
    synthesize,
)

LONG_DESCRIPTION = "Reads pinned model packages. " * 12  # 348 characters


@dataclass(frozen=True)
class Built:
    template: Template
    outdir: Path
    nag_errors: list[str]
    function: PlatformFunction
    logs_key: str
    dead_letters_key: str | None

    def logical(self, child: str) -> str:
        construct: Any = self.function
        for part in child.split("/"):
            construct = construct.node.find_child(part)
        return logical_id(construct)

    def properties(self, child: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.logical(child))["Properties"]
        return written

    def statements(self) -> list[dict[str, Any]]:
        written: list[dict[str, Any]] = self.properties("Policy")["PolicyDocument"]["Statement"]
        return written


def build(cdk_context: dict[str, Any], outdir: Path, *, with_dead_letters: bool, **kwargs: Any) -> Built:
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    logs_key = PlatformKey(
        stack, "LogsKey", alias="alias/logs", description="Logs", removal_policy=cdk.RemovalPolicy.DESTROY
    )
    logs_key.allow_cloudwatch_logs()
    dead_letters_key = (
        kms.Key(stack, "DeadLetterKey", enable_key_rotation=True) if with_dead_letters else None
    )
    function = PlatformFunction(
        stack,
        "Function",
        vpc=imported_vpc(stack),
        subnets=imported_subnets(stack),
        logs_key=logs_key.key,
        dead_letters_key=dead_letters_key,
        **kwargs,
    )
    synthesized = synthesize(stack, outdir)
    return Built(
        synthesized.template,
        outdir,
        synthesized.nag_errors,
        function,
        logs_key=logical_id(logs_key.key),
        dead_letters_key=logical_id(dead_letters_key) if dead_letters_key else None,
    )


@pytest.fixture(scope="module")
def synchronous(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The defaults: no dead-letter queue, no role name."""
    return build(
        cdk_context,
        tmp_path_factory.mktemp("synchronous"),
        with_dead_letters=False,
        package="model_package_baseline",
        description="Reads a pinned model package",
        environment={},
    )


@pytest.fixture(scope="module")
def queued(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Every option: a dead-letter queue, a role name, its own concurrency, retention and removal policy."""
    return build(
        cdk_context,
        tmp_path_factory.mktemp("queued"),
        with_dead_letters=True,
        package="promotion_notifier",
        description=LONG_DESCRIPTION,
        environment={"ENVIRONMENT_NAME": "staging", "CONFIG_FILE": "config/staging.yaml"},
        role_name="staging-promotion-notifier",
        timeout_seconds=30,
        reserved_concurrency=3,
        log_retention_days=90,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


# --- the function ----------------------------------------------------------------------------------------


def test_a_python_function_running_the_handler_module(synchronous: Built) -> None:
    function = synchronous.properties("Function")
    assert function["Runtime"] == "python3.14"
    assert function["Handler"] == "functions.model_package_baseline.handler.handler"
    assert function["MemorySize"] == 256
    assert function["Timeout"] == 60
    assert function["Role"] == {"Fn::GetAtt": [synchronous.logical("Role"), "Arn"]}


def test_timeout_and_environment_as_given(queued: Built, synchronous: Built) -> None:
    function = queued.properties("Function")
    assert function["Timeout"] == 30
    assert function["Environment"] == {
        "Variables": {"ENVIRONMENT_NAME": "staging", "CONFIG_FILE": "config/staging.yaml"}
    }
    assert "Environment" not in synchronous.properties("Function")


@pytest.mark.parametrize("variant", ["synchronous", "queued"])
def test_the_asset_is_the_package_and_the_shared_runtime(
    request: pytest.FixtureRequest, variant: str
) -> None:
    built: Built = request.getfixturevalue(variant)
    key = built.properties("Function")["Code"]["S3Key"]
    staged = built.outdir / f"asset.{key.removesuffix('.zip')}"
    files = sorted(path.relative_to(staged).as_posix() for path in staged.rglob("*") if path.is_file())
    package = "model_package_baseline" if variant == "synchronous" else "promotion_notifier"
    root = Path(__file__).resolve().parents[3]
    runtime = sorted(
        f"functions/_runtime/{path.name}" for path in (root / "functions" / "_runtime").glob("*.py")
    )
    assert files == sorted(
        [
            "functions/__init__.py",
            *runtime,
            f"functions/{package}/__init__.py",
            f"functions/{package}/handler.py",
        ]
    )
    for file in files:
        assert (staged / file).read_bytes() == (root / file).read_bytes()


def test_the_handler_imports_in_its_asset_as_lambda_imports_it(synchronous: Built, tmp_path: Path) -> None:
    """Lambda puts the asset's root on sys.path and imports the Handler's module from there."""
    key = synchronous.properties("Function")["Code"]["S3Key"]
    staged = synchronous.outdir / f"asset.{key.removesuffix('.zip')}"
    module, _, function = synchronous.properties("Function")["Handler"].rpartition(".")
    script = (
        f"import importlib, sys; sys.path.insert(0, {str(staged)!r}); "
        f"handler = importlib.import_module({module!r}); "
        f"assert handler.__file__.startswith({str(staged)!r}), handler.__file__; "
        f"assert callable(getattr(handler, {function!r}))"
    )
    # -I: not this checkout's folder or PYTHONPATH, only the asset (and the interpreter's boto3).
    subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, check=True, timeout=60)


def test_descriptions_are_cut_to_the_services_limits(queued: Built) -> None:
    assert len(LONG_DESCRIPTION) > 256
    assert queued.properties("Function")["Description"] == LONG_DESCRIPTION[:256]
    assert queued.properties("Role")["Description"] == LONG_DESCRIPTION  # IAM allows 1000


@pytest.mark.parametrize(("variant", "concurrency"), [("synchronous", 2), ("queued", 3)])
def test_reserved_concurrency(request: pytest.FixtureRequest, variant: str, concurrency: int) -> None:
    built: Built = request.getfixturevalue(variant)
    assert built.properties("Function")["ReservedConcurrentExecutions"] == concurrency


def test_runs_in_the_given_subnets_with_https_out_only(synchronous: Built) -> None:
    assert synchronous.properties("Function")["VpcConfig"] == {
        "SubnetIds": list(SUBNET_IDS),
        "SecurityGroupIds": [{"Fn::GetAtt": [synchronous.logical("SecurityGroup"), "GroupId"]}],
    }
    group = synchronous.properties("SecurityGroup")
    assert group["VpcId"] == VPC_ID
    assert group["GroupDescription"] == "model_package_baseline: HTTPS out"
    assert [
        {key: rule[key] for key in ("IpProtocol", "FromPort", "ToPort", "CidrIp")}
        for rule in group["SecurityGroupEgress"]
    ] == [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]
    assert "SecurityGroupIngress" not in group


@pytest.mark.parametrize(
    ("variant", "days", "policy"), [("synchronous", 365, "Delete"), ("queued", 90, "Retain")]
)
def test_logs_to_its_own_log_group_encrypted_with_the_logs_key(
    request: pytest.FixtureRequest, variant: str, days: int, policy: str
) -> None:
    built: Built = request.getfixturevalue(variant)
    log_group = built.logical("LogGroup")
    assert built.properties("Function")["LoggingConfig"] == {"LogGroup": {"Ref": log_group}}
    written = resource(built.template, log_group)
    assert written["Properties"] == {
        "KmsKeyId": {"Fn::GetAtt": [built.logs_key, "Arn"]},
        "RetentionInDays": days,
    }
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


# --- the dead-letter queue -----------------------------------------------------------------------------


def test_no_dead_letter_queue_without_its_key(synchronous: Built) -> None:
    synchronous.template.resource_count_is("AWS::SQS::Queue", 0)
    assert "DeadLetterConfig" not in synchronous.properties("Function")
    assert synchronous.function.function.dead_letter_queue is None


def test_a_kms_encrypted_dead_letter_queue_with_its_key(queued: Built) -> None:
    queued.template.resource_count_is("AWS::SQS::Queue", 1)
    queue = queued.logical("DeadLetters")
    assert queued.dead_letters_key is not None
    assert resource(queued.template, queue)["Properties"] == {
        "KmsMasterKeyId": {"Fn::GetAtt": [queued.dead_letters_key, "Arn"]},
        "MessageRetentionPeriod": 14 * 24 * 3600,
    }
    assert queued.properties("Function")["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue, "Arn"]}}


def test_the_dead_letter_queue_refuses_requests_without_tls(queued: Built) -> None:
    queue = queued.logical("DeadLetters")
    (policy,) = queued.template.find_resources(
        "AWS::SQS::QueuePolicy", {"Properties": {"Queues": [{"Ref": queue}]}}
    ).values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
        }
    ]


def test_the_policy_may_send_to_the_dead_letter_queue(queued: Built) -> None:
    queue = {"Fn::GetAtt": [queued.logical("DeadLetters"), "Arn"]}
    assert {
        "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
        "Effect": "Allow",
        "Resource": queue,
    } in queued.statements()


# --- the role and its policy ------------------------------------------------------------------------------


def test_only_lambda_may_assume_the_role(synchronous: Built) -> None:
    role = synchronous.properties("Role")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role
    assert synchronous.properties("Policy")["Roles"] == [{"Ref": synchronous.logical("Role")}]


def test_the_role_is_named_only_when_a_name_is_given(synchronous: Built, queued: Built) -> None:
    assert "RoleName" not in synchronous.properties("Role")
    assert queued.properties("Role")["RoleName"] == "staging-promotion-notifier"


def test_network_interfaces_and_its_own_log_group_only(synchronous: Built) -> None:
    assert synchronous.statements() == [
        {
            "Sid": "VpcNetworkInterfaces",
            "Action": [
                "ec2:AssignPrivateIpAddresses",
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Effect": "Allow",
            "Resource": "*",
        },
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [synchronous.logical("LogGroup"), "Arn"]},
        },
    ]


def test_the_function_is_created_after_its_policy(synchronous: Built) -> None:
    # Lambda checks the role's network permissions when it creates a function in a VPC.
    assert (
        synchronous.logical("Policy")
        in resource(synchronous.template, synchronous.logical("Function"))["DependsOn"]
    )


def test_exposes_function_role_and_policy(synchronous: Built) -> None:
    assert logical_id(synchronous.function.function) == synchronous.logical("Function")
    assert logical_id(synchronous.function.role) == synchronous.logical("Role")
    assert logical_id(synchronous.function.policy) == synchronous.logical("Policy")


# --- refusals and compliance -------------------------------------------------------------------------------


@pytest.mark.parametrize("package", ["no_such_function", "__pycache__", ""])
def test_a_package_without_a_handler_is_refused(cdk_context: dict[str, Any], package: str) -> None:
    stack = bare_stack(cdk_context)
    with pytest.raises(ValueError, match=r"PlatformFunction: .*/handler\.py does not exist"):
        PlatformFunction(
            stack,
            "Function",
            package=package,
            description="nothing",
            environment={},
            vpc=imported_vpc(stack),
            subnets=imported_subnets(stack),
            logs_key=kms.Key.from_key_arn(
                stack,
                "LogsKey",
                f"arn:aws:kms:{REGION}:123456789012:key/2b2b2b2b-2b2b-2b2b-2b2b-2b2b2b2b2b2b",
            ),
        )


@pytest.mark.parametrize("inside", [True, False])
def test_a_vpc_or_a_reason_to_stay_outside_it_exactly(cdk_context: dict[str, Any], inside: bool) -> None:
    # Both given, or neither: a function in the VPC needs no excuse, one outside it needs one.
    stack = bare_stack(cdk_context)
    with pytest.raises(ValueError, match="give either a vpc, or outside_vpc_reason for one outside it"):
        PlatformFunction(
            stack,
            "Function",
            package="model_package_baseline",
            description="nothing",
            environment={},
            vpc=imported_vpc(stack) if inside else None,
            subnets=imported_subnets(stack) if inside else (),
            outside_vpc_reason="Calls only public AWS APIs, and no VPC resource." if inside else None,
            logs_key=kms.Key.from_key_arn(
                stack,
                "LogsKey",
                f"arn:aws:kms:{REGION}:123456789012:key/2b2b2b2b-2b2b-2b2b-2b2b-2b2b2b2b2b2b",
            ),
        )


def test_passes_the_compliance_packs_without_dead_letters(synchronous: Built) -> None:
    assert synchronous.nag_errors == []


def test_passes_the_compliance_packs_with_dead_letters(queued: Built) -> None:
    assert queued.nag_errors == []
