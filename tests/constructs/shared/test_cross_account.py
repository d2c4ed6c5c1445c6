"""cross_account: roles of other accounts as account principals plus a condition naming exactly the roles."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from constructs_lib.shared.cross_account import account_of, role_principals
from tests.constructs.support import bare_stack

PROD = "arn:aws:iam::330000000003:role/prod-sagemaker-platform-serving"
PROD_WITH_PATH = "arn:aws:iam::330000000003:role/serving/canary"
STAGING = "arn:aws:iam::220000000002:role/staging-sagemaker-platform-serving"
CHINA = "arn:aws-cn:iam::444444444444:role/cn-serving"


@pytest.fixture(scope="module")
def stack(cdk_context: dict[str, Any]) -> cdk.Stack:
    return bare_stack(cdk_context)


def rendered(stack: cdk.Stack, principals: list[iam.IPrincipal]) -> list[Any]:
    return [stack.resolve(principal.policy_fragment.principal_json) for principal in principals]


def test_the_roles_accounts_are_the_principals_each_once_and_sorted(stack: cdk.Stack) -> None:
    principals, _ = role_principals([PROD, STAGING, PROD_WITH_PATH, PROD])
    assert all(isinstance(principal, iam.AccountPrincipal) for principal in principals)
    assert rendered(stack, principals) == [
        {"AWS": ["arn:aws:iam::220000000002:root"]},
        {"AWS": ["arn:aws:iam::330000000003:root"]},
    ]


def test_the_condition_admits_exactly_the_roles_deduplicated_and_sorted() -> None:
    _, condition = role_principals([PROD, STAGING, PROD_WITH_PATH, PROD])
    assert condition == {"ArnEquals": {"aws:PrincipalArn": [STAGING, PROD, PROD_WITH_PATH]}}


def test_one_role() -> None:
    principals, condition = role_principals([STAGING])
    assert [
        principal.account_id for principal in principals if isinstance(principal, iam.AccountPrincipal)
    ] == ["220000000002"]
    assert condition == {"ArnEquals": {"aws:PrincipalArn": [STAGING]}}


def test_no_roles_no_principals() -> None:
    principals, condition = role_principals([])
    assert principals == []
    assert condition == {"ArnEquals": {"aws:PrincipalArn": []}}


@pytest.mark.parametrize(
    ("role_arn", "account"),
    [
        (PROD, "330000000003"),
        (PROD_WITH_PATH, "330000000003"),
        (STAGING, "220000000002"),
        (CHINA, "444444444444"),
        ("arn:aws-us-gov:iam::555555555555:role/a+b=c,d.e@f_g-h", "555555555555"),
    ],
)
def test_account_of_a_role(role_arn: str, account: str) -> None:
    assert account_of(role_arn) == account


NOT_ROLES = [
    "arn:aws:iam::330000000003:root",
    "arn:aws:iam::330000000003:user/alice",
    "arn:aws:sts::330000000003:assumed-role/prod-serving/session",
    "arn:aws:iam::330000000003:role/",
    "arn:aws:iam::33333333333:role/short-account",
    "arn:aws:iam:eu-west-1:330000000003:role/regional",
    "arn:aws:iam::330000000003:role/trailing space ",
    "330000000003",
    "",
]


@pytest.mark.parametrize("arn", NOT_ROLES)
def test_account_of_anything_but_a_role_arn_raises(arn: str) -> None:
    with pytest.raises(ValueError, match="is not an IAM role ARN"):
        account_of(arn)


@pytest.mark.parametrize("arn", NOT_ROLES[:3])
def test_role_principals_refuse_anything_but_role_arns(arn: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"'{arn}' is not an IAM role ARN")):
        role_principals([PROD, arn])


def test_a_token_is_refused(stack: cdk.Stack) -> None:
    # Policies are written before deploy: a role ARN must be literal to name its account.
    role = iam.Role(stack, "Deployed", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ValueError, match="is not an IAM role ARN"):
        role_principals([role.role_arn])
