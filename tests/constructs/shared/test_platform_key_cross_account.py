"""PlatformKey.allow_decrypt_through: roles of other accounts decrypt with the key, only through one service
here; the key policy names their accounts and admits exactly those roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import bare_stack, logical_id, resource

PROD_SERVING = "arn:aws:iam::330000000003:role/prod-sagemaker-platform-serving"
PROD_CANARY = "arn:aws:iam::330000000003:role/serving/canary"
STAGING_SERVING = "arn:aws:iam::220000000002:role/staging-sagemaker-platform-serving"
OWN_ACCOUNT_ONLY = {
    "Action": "kms:*",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Resource": "*",
}


@dataclass(frozen=True)
class Keys:
    template: Template
    shared: str  # three roles of two accounts, one listed twice, through ECR
    single: str  # one role, through S3
    unshared: str  # allow_decrypt_through with no role
    plain: str  # allow_decrypt_through never called

    def statements(self, key: str) -> list[dict[str, Any]]:
        written: list[dict[str, Any]] = resource(self.template, getattr(self, key))["Properties"][
            "KeyPolicy"
        ]["Statement"]
        return written


@pytest.fixture(scope="module")
def keys(cdk_context: dict[str, Any]) -> Keys:
    stack = bare_stack(cdk_context)

    def key(construct_id: str, service: str, role_arns: list[str] | None) -> str:
        platform_key = PlatformKey(
            stack,
            construct_id,
            alias=f"alias/{construct_id.lower()}",
            description=construct_id,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if role_arns is not None:
            platform_key.allow_decrypt_through(service=service, role_arns=role_arns)
        return logical_id(platform_key.key)

    shared = key("Shared", "ecr", [PROD_SERVING, STAGING_SERVING, PROD_CANARY, PROD_SERVING])
    single = key("Single", "s3", [STAGING_SERVING])
    unshared = key("Unshared", "ecr", [])
    plain = key("Plain", "ecr", None)
    return Keys(Template.from_stack(stack), shared=shared, single=single, unshared=unshared, plain=plain)


def test_the_roles_may_decrypt_and_describe_only_through_ecr_of_the_region(keys: Keys) -> None:
    assert keys.statements("shared") == [
        OWN_ACCOUNT_ONLY,
        {
            "Sid": "OtherAccountsDecryptThroughECR",
            "Effect": "Allow",
            # The roles' accounts, deduplicated and sorted.
            "Principal": {"AWS": ["arn:aws:iam::220000000002:root", "arn:aws:iam::330000000003:root"]},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                # Exactly the roles, deduplicated and sorted...
                "ArnEquals": {"aws:PrincipalArn": [STAGING_SERVING, PROD_SERVING, PROD_CANARY]},
                # ... and only through the service, in the key's region.
                "StringEquals": {"kms:ViaService": "ecr.eu-west-1.amazonaws.com"},
            },
        },
    ]


def test_one_role_through_s3_is_the_only_other_principal(keys: Keys) -> None:
    assert keys.statements("single") == [
        OWN_ACCOUNT_ONLY,
        {
            "Sid": "OtherAccountsDecryptThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::220000000002:root"},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": [STAGING_SERVING]},
                "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
            },
        },
    ]


@pytest.mark.parametrize("key", ["unshared", "plain"])
def test_without_roles_only_the_own_account_is_in_the_key_policy(keys: Keys, key: str) -> None:
    assert keys.statements(key) == [OWN_ACCOUNT_ONLY]


def test_a_principal_that_is_not_a_role_is_refused(cdk_context: dict[str, Any]) -> None:
    key = PlatformKey(
        bare_stack(cdk_context),
        "Key",
        alias="alias/k",
        description="K",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    with pytest.raises(ValueError, match="is not an IAM role ARN"):
        key.allow_decrypt_through(service="ecr", role_arns=["arn:aws:iam::220000000002:user/alice"])
