"""EndpointRuntimeAccess: a managed policy on the serving execution role for endpoints and monitors in the
VPC: network interfaces, the capture bucket with its key, and the Model Monitor analyzer image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.serving.endpoint_runtime_access import EndpointRuntimeAccess
from constructs_lib.shared.job_guardrails import SAGEMAKER_VPC_ACTIONS as VPC_ACTIONS
from tests.constructs.support import ACCOUNT, REGION, bare_stack, logical_id, resource, synthesize

ROLE_NAME = "staging-sagemaker-serving"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1a1a1a1a-1a1a-1a1a-1a1a-1a1a1a1a1a1a"
BUCKET = "staging-capture-bucket"
MONITOR_REPOSITORY = "arn:aws:ecr:eu-west-1:468650794304:repository/sagemaker-model-monitor-analyzer"


@dataclass(frozen=True)
class Access:
    template: Template
    nag_errors: list[str]
    access: EndpointRuntimeAccess  # with the monitor image
    no_monitor: EndpointRuntimeAccess  # without it

    def policy(self, which: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, logical_id(getattr(self, which).policy))[
            "Properties"
        ]
        return written

    def statements(self, which: str) -> list[dict[str, Any]]:
        written: list[dict[str, Any]] = self.policy(which)["PolicyDocument"]["Statement"]
        return written


@pytest.fixture(scope="module")
def access(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Access:
    outdir = tmp_path_factory.mktemp("access")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    role = iam.Role.from_role_name(stack, "ServingRole", ROLE_NAME)
    bucket = s3.Bucket.from_bucket_name(stack, "CaptureBucket", BUCKET)
    key = kms.Key.from_key_arn(stack, "DataKey", KEY_ARN)
    with_monitor = EndpointRuntimeAccess(
        stack,
        "RuntimeAccess",
        role=role,
        capture_bucket=bucket,
        capture_key=key,
        monitor_repository_arn=MONITOR_REPOSITORY,
    )
    without = EndpointRuntimeAccess(
        stack, "NoMonitor", role=role, capture_bucket=bucket, capture_key=key, monitor_repository_arn=None
    )
    synthesized = synthesize(stack, outdir)
    return Access(synthesized.template, synthesized.nag_errors, with_monitor, without)


def test_a_managed_policy_on_the_role(access: Access) -> None:
    access.template.resource_count_is("AWS::IAM::ManagedPolicy", 2)
    access.template.resource_count_is("AWS::IAM::Policy", 0)  # nothing inline
    policy = access.policy("access")
    assert policy["Roles"] == [ROLE_NAME]
    assert policy["Description"] == "Test: endpoints and monitors in the VPC, capture bucket"


def test_network_interfaces_in_the_vpc(access: Access) -> None:
    assert access.statements("access")[0] == {
        "Sid": "VpcPlacement",
        "Action": VPC_ACTIONS,
        "Effect": "Allow",
        "Resource": "*",
    }
    assert sorted(VPC_ACTIONS) == VPC_ACTIONS
    assert {"ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission"} <= set(VPC_ACTIONS)
    assert not [action for action in VPC_ACTIONS if not action.startswith("ec2:")]


def test_reads_and_writes_the_capture_bucket_only(access: Access) -> None:
    s3_statements = [
        statement
        for statement in access.statements("access")
        if any(action.startswith("s3:") for action in _as_list(statement["Action"]))
    ]
    (statement,) = s3_statements
    assert statement["Resource"] == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    assert {"s3:GetObject*", "s3:PutObject", "s3:List*"} <= set(statement["Action"])


def test_encrypts_and_decrypts_with_the_capture_key_only(access: Access) -> None:
    kms_statements = [
        statement
        for statement in access.statements("access")
        if any(action.startswith("kms:") for action in _as_list(statement["Action"]))
    ]
    assert kms_statements == [
        {
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Effect": "Allow",
            "Resource": KEY_ARN,
        }
    ]


def test_pulls_the_model_monitor_image_from_its_repository_only(access: Access) -> None:
    assert access.statements("access")[-1] == {
        "Sid": "PullModelMonitorImage",
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Effect": "Allow",
        "Resource": MONITOR_REPOSITORY,
    }


def test_no_image_statement_without_a_repository(access: Access) -> None:
    statements = access.statements("no_monitor")
    assert not [
        statement
        for statement in statements
        if any(a.startswith("ecr:") for a in _as_list(statement["Action"]))
    ]
    assert len(statements) == len(access.statements("access")) - 1


def test_passes_the_compliance_packs_with_its_acknowledgements(access: Access) -> None:
    assert access.nag_errors == []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
