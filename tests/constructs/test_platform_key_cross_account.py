"""PlatformKey.allow_decrypt_through: other accounts decrypt with the key, only through one service here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.platform_key import PlatformKey
from tests.constructs.support import bare_stack, logical_id, resource


@dataclass(frozen=True)
class Keys:
    template: Template
    shared: str  # two serving accounts, one of them listed twice
    single: str  # one serving account
    unshared: str  # allow_decrypt_through with no account
    plain: str  # allow_decrypt_through never called

    def statements(self, key: str) -> list[dict[str, Any]]:
        written: list[dict[str, Any]] = resource(self.template, getattr(self, key))["Properties"][
            "KeyPolicy"
        ]["Statement"]
        return written


@pytest.fixture(scope="module")
def keys(cdk_context: dict[str, Any]) -> Keys:
    stack = bare_stack(cdk_context)

    def key(construct_id: str, accounts: list[str] | None) -> str:
        platform_key = PlatformKey(
            stack,
            construct_id,
            alias=f"alias/{construct_id.lower()}",
            description=construct_id,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if accounts is not None:
            platform_key.allow_decrypt_through(service="ecr", accounts=accounts)
        return logical_id(platform_key.key)

    shared = key("Shared", ["333333333333", "222222222222", "333333333333"])
    single = key("Single", ["222222222222"])
    unshared = key("Unshared", [])
    plain = key("Plain", None)
    return Keys(Template.from_stack(stack), shared=shared, single=single, unshared=unshared, plain=plain)


def test_the_accounts_may_decrypt_and_describe_only_through_ecr_of_the_region(keys: Keys) -> None:
    cross_account = [s for s in keys.statements("shared") if s.get("Sid") == "OtherAccountsDecryptThroughECR"]
    assert cross_account == [
        {
            "Sid": "OtherAccountsDecryptThroughECR",
            "Effect": "Allow",
            # Deduplicated and sorted.
            "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "ecr.eu-west-1.amazonaws.com"}},
        }
    ]


def test_one_account_is_the_only_other_principal(keys: Keys) -> None:
    others = [
        s["Principal"]
        for s in keys.statements("single")
        if s["Principal"] != {"AWS": "arn:aws:iam::123456789012:root"}
    ]
    assert others == [{"AWS": "arn:aws:iam::222222222222:root"}]


@pytest.mark.parametrize("key", ["unshared", "plain"])
def test_without_accounts_only_the_own_account_is_in_the_key_policy(keys: Keys, key: str) -> None:
    assert keys.statements(key) == [
        {
            "Action": "kms:*",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Resource": "*",
        }
    ]
