"""PermissionsBoundaryPolicy: a fixed-name managed policy that caps every role (allows what roles do, denies
escalation and destruction), clean under the cdk-nag packs with its acknowledgements beside it."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.shared.permissions_boundary_policy import DENIED_ACTIONS, PermissionsBoundaryPolicy
from tests.constructs.support import ACCOUNT, REGION, Synthesized, bare_stack, synthesize
from tests.iam.accounts import Accounts
from tests.iam.evaluator import Evaluator, Outsider, Request
from tests.iam.templates import ResolvedTemplates, StackTemplate


@pytest.fixture(scope="module")
def synthesized(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("boundary")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    PermissionsBoundaryPolicy(stack, "Boundary", policy_name="dev-sagemaker-platform-boundary", path="/ml/")
    return synthesize(stack, outdir)


@pytest.fixture(scope="module")
def document(synthesized: Synthesized) -> dict[str, Any]:
    (policy,) = synthesized.template.find_resources("AWS::IAM::ManagedPolicy").values()
    written: dict[str, Any] = policy["Properties"]["PolicyDocument"]
    return written


# What the platform's roles do, and what the boundary exists to stop.
ALLOWED = [
    # What the platform's roles do: pass execution roles, run jobs, read and write objects and keys.
    "iam:PassRole",
    "iam:GetRole",
    "iam:ListRoles",
    "sts:AssumeRole",
    "sts:TagSession",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateEndpoint",
    "sagemaker:DeleteEndpoint",
    "sagemaker:UpdateModelPackage",
    "sagemaker:DeleteApp",
    "s3:GetObject",
    "s3:PutObject",
    # The S3 auto-delete-objects provider deletes objects, not buckets.
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetBucketPolicy",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:CreateGrant",
    "ecr:PutImage",
    "ec2:CreateNetworkInterface",
    "ec2:RevokeSecurityGroupIngress",
    "lambda:InvokeFunction",
    "logs:PutLogEvents",
]
DENIED = [
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicy",
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateRole",
    "IAM:createrole",  # IAM compares action names without regard to case
    "organizations:LeaveOrganization",
    "organizations:DescribeOrganization",
    "account:PutAlternateContact",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "sagemaker:DeleteModelPackageGroup",
    "sagemaker:DeleteDomain",
]


@pytest.fixture(scope="module")
def decisions(synthesized: Synthesized) -> dict[str, str]:
    """Each action by a role whose own policies allow everything, under the boundary: the boundary alone
    decides, evaluated offline with AWS's logic (tests/iam)."""
    stack = StackTemplate("test", "Test", "Test", ACCOUNT, REGION, synthesized.template.to_json())
    accounts = Accounts.from_templates(ResolvedTemplates([stack]))
    (boundary_arn,) = accounts.managed_policies
    role = Outsider(f"arn:aws:iam::{ACCOUNT}:role/ml/capped", account=ACCOUNT, boundary_arn=boundary_arn)
    requests = [
        Request("boundary", action, role, action, "*", ACCOUNT, expect_allowed=action in ALLOWED)
        for action in [*ALLOWED, *DENIED]
    ]
    return {verdict.request.action: verdict.decision for verdict in Evaluator(accounts).evaluate(requests)}


def test_a_fixed_name_on_the_role_path(synthesized: Synthesized) -> None:
    (policy,) = synthesized.template.find_resources("AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["ManagedPolicyName"] == "dev-sagemaker-platform-boundary"
    assert policy["Properties"]["Path"] == "/ml/"
    # A boundary is attached by naming it on roles, never as a policy of one.
    assert not {"Roles", "Users", "Groups"} & set(policy["Properties"])


def test_passes_the_compliance_packs(synthesized: Synthesized) -> None:
    assert synthesized.nag_errors == []


def test_the_statements(document: dict[str, Any]) -> None:
    statements = {statement["Sid"]: statement for statement in document["Statement"]}
    assert statements["CapNotGrant"] == {
        "Sid": "CapNotGrant",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
    }
    for sid, actions in DENIED_ACTIONS.items():
        assert statements[sid]["Effect"] == "Deny"
        assert sorted(statements[sid]["Action"]) == sorted(actions)
        assert statements[sid]["Resource"] == "*"
        assert "Condition" not in statements[sid]
    assert set(statements) == {"CapNotGrant", *DENIED_ACTIONS}


@pytest.mark.parametrize("action", ALLOWED)
def test_allows_what_the_roles_do(decisions: dict[str, str], action: str) -> None:
    assert decisions[action] == "Allowed"


@pytest.mark.parametrize("action", DENIED)
def test_denies_escalation_and_destruction(decisions: dict[str, str], action: str) -> None:
    assert decisions[action] == "ExplicitlyDenied"
