"""The evaluator on small hand-written templates: AWS's evaluation rules that the matrix relies on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam.accounts import Accounts
from tests.iam.evaluator import Evaluator, Outsider, Request
from tests.iam.templates import ResolvedTemplates, StackTemplate

HOME, OTHER = "123456789012", "210987654321"
BUCKET = "arn:aws:s3:::shared-bucket"
LOGS_CONTEXT = "kms:EncryptionContext:aws:logs:arn"


def _role(name: str, statements: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": name,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {"PolicyName": "grants", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
            ],
            **extra,
        },
    }


def _stacks() -> list[StackTemplate]:
    home = {
        "Resources": {
            "Reader": _role(
                "reader",
                [
                    {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"},
                    {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
                    {
                        "Sid": "JobsOnOneKey",
                        "Effect": "Allow",
                        "Action": "sagemaker:CreateTrainingJob",
                        "Resource": "*",
                        "Condition": {
                            "ArnEquals": {"sagemaker:VolumeKmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]}},
                            "ForAllValues:StringEquals": {"sagemaker:VpcSubnets": [{"Ref": "Subnet"}]},
                            "Null": {"sagemaker:VpcSubnets": "false"},
                        },
                    },
                ],
                PermissionsBoundary={"Ref": "Boundary"},
            ),
            "Boundary": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": ["s3:GetObject", "kms:Decrypt"], "Resource": "*"}
                        ],
                    }
                },
            },
            "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {}},
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"},
                                "Action": "kms:*",
                                "Resource": "*",
                            },
                            {
                                "Sid": "OtherAccountThroughS3",
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                                "Action": "kms:Decrypt",
                                "Resource": "*",
                                "Condition": {
                                    "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
                                },
                            },
                        ],
                    }
                },
            },
            "LogsKey": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "LogsOfThisAccount",
                                "Effect": "Allow",
                                "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                                "Action": "kms:GenerateDataKey*",
                                "Resource": "*",
                                "Condition": {
                                    "StringLike": {LOGS_CONTEXT: f"arn:aws:logs:eu-west-1:{HOME}:*"}
                                },
                            }
                        ],
                    }
                },
            },
            "Alias": {
                "Type": "AWS::KMS::Alias",
                "Properties": {"AliasName": "alias/shared", "TargetKeyId": {"Ref": "Key"}},
            },
            "Policy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": "shared-bucket",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "OtherAccountReadsModels",
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                                "Action": "s3:GetObject",
                                "Resource": f"{BUCKET}/models/*",
                            },
                            {
                                "Sid": "NobodyDeletes",
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": "s3:DeleteObject",
                                "Resource": f"{BUCKET}/*",
                            },
                        ],
                    },
                },
            },
        }
    }
    other = {
        "Resources": {
            "Consumer": _role(
                "consumer",
                [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "kms:Decrypt", "s3:DeleteObject"],
                        "Resource": "*",
                    }
                ],
            )
        }
    }
    return [
        StackTemplate("home", "Data", "home-Data", HOME, "eu-west-1", home),
        StackTemplate("other", "Access", "other-Access", OTHER, "eu-west-1", other),
    ]


@pytest.fixture(scope="module")
def accounts() -> Accounts:
    return Accounts.from_templates(ResolvedTemplates(_stacks()))


def _verdict(
    accounts: Accounts, principal: str | Outsider, action: str, resource: str, **context: Any
) -> str:
    account = HOME if ":s3:::" in resource or f":{HOME}:" in resource else OTHER
    request = Request("unit", "unit", principal, action, resource, account, True, context)
    return Evaluator(accounts).evaluate([request])[0].decision


READER = f"arn:aws:iam::{HOME}:role/reader"
CONSUMER = f"arn:aws:iam::{OTHER}:role/consumer"


def test_roles_policies_and_aliases_are_read_with_intrinsics_resolved(accounts: Accounts) -> None:
    reader = accounts.role(READER)
    assert reader.boundary_arn is not None and reader.boundary_arn.startswith(f"arn:aws:iam::{HOME}:policy/")
    key = accounts.key_arn(HOME, "alias/shared")
    assert key.startswith(f"arn:aws:kms:eu-west-1:{HOME}:key/")
    assert accounts.aliases_of(key) == ["alias/shared"]
    assert accounts.resource_policy(f"{BUCKET}/models/m.tar.gz") is not None


def test_cross_account_needs_both_sides(accounts: Accounts) -> None:
    assert _verdict(accounts, CONSUMER, "s3:GetObject", f"{BUCKET}/models/m.tar.gz") == "Allowed"
    # The consumer's own policy allows everything; the bucket does not grant this prefix.
    assert _verdict(accounts, CONSUMER, "s3:GetObject", f"{BUCKET}/data/d.csv") == "ImplicitlyDenied"


def test_an_explicit_deny_wins(accounts: Accounts) -> None:
    assert _verdict(accounts, CONSUMER, "s3:DeleteObject", f"{BUCKET}/models/m.tar.gz") == "ExplicitlyDenied"


def test_kms_via_service_and_the_key_policy(accounts: Accounts) -> None:
    key = accounts.key_arn(HOME, "alias/shared")
    assert _verdict(
        accounts, CONSUMER, "kms:Decrypt", key, **{"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    ) == ("Allowed")
    assert _verdict(accounts, CONSUMER, "kms:Decrypt", key) == "ImplicitlyDenied"
    # In the key's account, the key policy delegates to IAM: the reader's own policy decides.
    assert _verdict(accounts, READER, "kms:Decrypt", key) == "Allowed"


def test_a_permissions_boundary_caps_what_the_identity_policy_allows(accounts: Accounts) -> None:
    key = accounts.key_arn(HOME, "alias/shared")
    subnet = accounts.templates.ref("Subnet", accounts.templates.stacks[0])
    context = {"sagemaker:VolumeKmsKeyArn": key, "sagemaker:VpcSubnets": [subnet]}
    job = f"arn:aws:sagemaker:eu-west-1:{HOME}:training-job/j"
    # Allowed by the identity policy, but the boundary lists no SageMaker action.
    assert _verdict(accounts, READER, "sagemaker:CreateTrainingJob", job, **context) == "ImplicitlyDenied"


def test_arn_and_multivalued_operators(accounts: Accounts) -> None:
    """The identity side alone (the boundary removed): ARN keys, ForAllValues and the Null guard."""
    reader = accounts.role(READER)
    saved, reader.boundary_arn = reader.boundary_arn, None
    try:
        key = accounts.key_arn(HOME, "alias/shared")
        subnet = accounts.templates.ref("Subnet", accounts.templates.stacks[0])
        job = f"arn:aws:sagemaker:eu-west-1:{HOME}:training-job/j"
        good = {"sagemaker:VolumeKmsKeyArn": key, "sagemaker:VpcSubnets": [subnet]}
        assert _verdict(accounts, READER, "sagemaker:CreateTrainingJob", job, **good) == "Allowed"
        other_key = key.replace(key[-4:], "ffff")
        assert (
            _verdict(
                accounts,
                READER,
                "sagemaker:CreateTrainingJob",
                job,
                **{**good, "sagemaker:VolumeKmsKeyArn": other_key},
            )
            == "ImplicitlyDenied"
        )
        two_subnets = {**good, "sagemaker:VpcSubnets": [subnet, "subnet-0f0f0f0f0f0f0f0f0"]}
        assert (
            _verdict(accounts, READER, "sagemaker:CreateTrainingJob", job, **two_subnets)
            == "ImplicitlyDenied"
        )
        no_vpc = {"sagemaker:VolumeKmsKeyArn": key}
        assert _verdict(accounts, READER, "sagemaker:CreateTrainingJob", job, **no_vpc) == "ImplicitlyDenied"
    finally:
        reader.boundary_arn = saved


def test_a_service_assumes_a_role_its_trust_policy_names(accounts: Accounts) -> None:
    assert _verdict(accounts, Outsider("sagemaker.amazonaws.com"), "sts:AssumeRole", READER) == "Allowed"
    assert (
        _verdict(accounts, Outsider("lambda.amazonaws.com"), "sts:AssumeRole", READER) == "ImplicitlyDenied"
    )


def test_a_colon_variable_key_is_evaluated_not_dropped(accounts: Accounts) -> None:
    """kms:EncryptionContext:<key> is a variable key after a colon, which the simulator alone would drop."""
    key = accounts.templates.get_att("LogsKey", "Arn", accounts.templates.stacks[0])
    logs = Outsider("logs.eu-west-1.amazonaws.com")
    context = LOGS_CONTEXT
    own = f"arn:aws:logs:eu-west-1:{HOME}:log-group:flow-logs"
    assert _verdict(accounts, logs, "kms:GenerateDataKey", key, **{context: own}) == "Allowed"
    foreign = own.replace(HOME, OTHER)
    assert _verdict(accounts, logs, "kms:GenerateDataKey", key, **{context: foreign}) == "ImplicitlyDenied"
    assert _verdict(accounts, logs, "kms:GenerateDataKey", key) == "ImplicitlyDenied"


def test_an_unknown_action_is_an_error_not_a_denial(accounts: Accounts) -> None:
    assert _verdict(accounts, READER, "s3:GetObjekt", f"{BUCKET}/models/m") == "Error"
