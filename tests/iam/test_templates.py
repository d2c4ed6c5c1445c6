"""Intrinsics resolve to one consistent value per resource, within and across stacks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam.templates import ResolvedTemplates, StackTemplate

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def resolved() -> ResolvedTemplates:
    producer = {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Named": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "fixed", "Path": "/team/"}},
            "Unnamed": {"Type": "AWS::S3::Bucket", "Properties": {}},
        },
        "Outputs": {
            "VpcOut": {"Value": {"Ref": "Vpc"}},
            "KeyOut": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}, "Export": {"Name": "shared-key"}},
        },
    }
    consumer: dict[str, Any] = {"Resources": {}}
    return ResolvedTemplates(
        [
            StackTemplate("env", "Producer", "env-Producer", ACCOUNT, "eu-west-1", producer),
            StackTemplate("env", "Consumer", "env-Consumer", ACCOUNT, "eu-west-1", consumer),
        ]
    )


def test_the_same_resource_reads_the_same_from_another_stack(resolved: ResolvedTemplates) -> None:
    producer, consumer = resolved.stacks
    vpc_here = resolved.resolve({"Ref": "Vpc"}, producer)
    vpc_there = resolved.resolve(
        {"Fn::GetStackOutput": {"StackName": "env-Producer", "Region": "eu-west-1", "OutputName": "VpcOut"}},
        consumer,
    )
    assert vpc_here == vpc_there and vpc_here.startswith("vpc-")
    key = resolved.resolve({"Fn::GetAtt": ["Key", "Arn"]}, producer)
    assert resolved.resolve({"Fn::ImportValue": "shared-key"}, consumer) == key
    assert key.startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")


def test_names_paths_and_string_functions(resolved: ResolvedTemplates) -> None:
    producer = resolved.stacks[0]
    assert (
        resolved.resolve({"Fn::GetAtt": ["Named", "Arn"]}, producer)
        == f"arn:aws:iam::{ACCOUNT}:role/team/fixed"
    )
    bucket = resolved.resolve({"Ref": "Unnamed"}, producer)
    assert bucket == bucket.lower() and len(bucket) <= 63
    joined = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Unnamed"}, "/*"]]}
    assert resolved.resolve(joined, producer) == f"arn:aws:s3:::{bucket}/*"
    sub = {"Fn::Sub": ["${Bucket}-${AWS::Region}-${Vpc}", {"Bucket": {"Ref": "Unnamed"}}]}
    assert resolved.resolve(sub, producer) == f"{bucket}-eu-west-1-{resolved.ref('Vpc', producer)}"
    select = {"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]}
    assert resolved.resolve(select, producer) == "b"


def test_an_intrinsic_the_model_does_not_know_fails_loudly(resolved: ResolvedTemplates) -> None:
    with pytest.raises(NotImplementedError, match="Fn::Cidr"):
        resolved.resolve({"Fn::Cidr": ["10.0.0.0/16", 4, 8]}, resolved.stacks[0])
