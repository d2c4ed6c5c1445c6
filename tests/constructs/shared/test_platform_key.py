"""PlatformKey: rotation, alias, removal policy, and the CloudWatch Logs grant scoped to this account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import bare_stack, logical_id, resource


@dataclass(frozen=True)
class Keys:
    template: Template
    logs_key: str  # retained, allows CloudWatch Logs
    data_key: str  # deleted with the stack, no CloudWatch Logs grant


@pytest.fixture(scope="module")
def keys(cdk_context: dict[str, Any]) -> Keys:
    stack = bare_stack(cdk_context)
    logs_key = PlatformKey(
        stack,
        "LogsKey",
        alias="alias/platform/logs",
        description="Logs",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    logs_key.allow_cloudwatch_logs()
    data_key = PlatformKey(
        stack,
        "DataKey",
        alias="alias/platform/data",
        description="Data",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Keys(Template.from_stack(stack), logical_id(logs_key.key), logical_id(data_key.key))


def key_statements(keys: Keys, logical: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = resource(keys.template, logical)["Properties"]["KeyPolicy"][
        "Statement"
    ]
    return statements


def test_every_key_rotates_yearly_with_a_30_day_deletion_window(keys: Keys) -> None:
    keys.template.resource_count_is("AWS::KMS::Key", 2)
    keys.template.all_resources_properties(
        "AWS::KMS::Key", {"EnableKeyRotation": True, "PendingWindowInDays": 30}
    )
    keys.template.has_resource_properties("AWS::KMS::Key", {"Description": "Logs"})


@pytest.mark.parametrize(
    ("alias", "key"), [("alias/platform/logs", "logs_key"), ("alias/platform/data", "data_key")]
)
def test_alias_targets_its_key(keys: Keys, alias: str, key: str) -> None:
    keys.template.has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": alias, "TargetKeyId": {"Fn::GetAtt": [getattr(keys, key), "Arn"]}}
    )


@pytest.mark.parametrize(("key", "policy"), [("logs_key", "Retain"), ("data_key", "Delete")])
def test_removal_policy_applies_to_the_key(keys: Keys, key: str, policy: str) -> None:
    written = resource(keys.template, getattr(keys, key))
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


def test_cloudwatch_logs_may_use_the_key_for_this_accounts_log_groups_only(keys: Keys) -> None:
    logs_statements = [
        statement
        for statement in key_statements(keys, keys.logs_key)
        if statement.get("Principal") == {"Service": "logs.eu-west-1.amazonaws.com"}
    ]
    assert logs_statements == [
        {
            "Sid": "AllowCloudWatchLogsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
            # No kms:Describe*: DescribeKey has no encryption context, so the condition could never match it.
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            # The encryption-context key is a String in the service authorization reference.
            "Condition": {
                "StringLike": {
                    "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"
                }
            },
        }
    ]


def test_without_allow_cloudwatch_logs_no_service_may_use_the_key(keys: Keys) -> None:
    assert all("Service" not in statement["Principal"] for statement in key_statements(keys, keys.data_key))
