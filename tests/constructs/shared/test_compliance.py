"""compliance: acknowledgements need reasons, and wildcard ARNs are named as cdk-nag names them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from constructs_lib.shared.compliance import (
    acknowledge,
    acknowledge_wildcard_actions,
    acknowledge_wildcard_resource,
    nag_rendering,
)
from tests.constructs.support import bare_stack, synth, validation_errors


@pytest.fixture(scope="module")
def stack(cdk_context: dict[str, Any]) -> cdk.Stack:
    return bare_stack(cdk_context)


@pytest.mark.parametrize(
    ("value", "rendering"),
    [
        ("arn:aws:s3:::platform-artifacts/*", "arn:aws:s3:::platform-artifacts/*"),
        ("*", "*"),
        (cdk.Fn.ref("ArtifactBucket1234"), "<ArtifactBucket1234>"),
        (cdk.Aws.ACCOUNT_ID, "<AWS::AccountId>"),
        (cdk.Fn.get_att("ArtifactBucket1234", "Arn").to_string(), "<ArtifactBucket1234.Arn>"),
        (
            cdk.Fn.join("", [cdk.Fn.get_att("ArtifactBucket1234", "Arn").to_string(), "/*"]),
            "<ArtifactBucket1234.Arn>/*",
        ),
        # Tokens inside a Python string become an Fn::Join with an empty delimiter.
        (
            f"arn:{cdk.Aws.PARTITION}:sagemaker:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:app/"
            f"{cdk.Fn.get_att('Domain1234', 'DomainId').to_string()}/*",
            "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:app/<Domain1234.DomainId>/*",
        ),
        (
            cdk.Fn.select(0, cdk.Fn.split(",", cdk.Fn.ref("SubnetList"))),
            '{"Fn::Select":[0,{"Fn::Split":[",",{"Ref":"SubnetList"}]}]}',
        ),
        (
            cdk.Fn.condition_if("IsProduction", "arn:aws:s3:::prod/*", "arn:aws:s3:::dev/*").to_string(),
            '{"Fn::If":["IsProduction","arn:aws:s3:::prod/*","arn:aws:s3:::dev/*"]}',
        ),
    ],
    ids=["literal", "star", "ref", "pseudo", "get-att", "join", "f-string", "select", "if"],
)
def test_nag_rendering(stack: cdk.Stack, value: str, rendering: str) -> None:
    assert nag_rendering(stack, value) == rendering


def test_an_acknowledgement_needs_a_real_reason(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="acknowledging AwsSolutions-S1 needs a real reason"):
        acknowledge(stack, "AwsSolutions-S1", "x" * 19)
    acknowledge(stack, "AwsSolutions-S1", "x" * 20)  # the shortest accepted


def test_wildcard_helpers_need_real_reasons_too(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="needs a real reason"):
        acknowledge_wildcard_resource(stack, "arn:aws:s3:::bucket/*", "because")
    with pytest.raises(ValueError, match="needs a real reason"):
        acknowledge_wildcard_actions(stack, ["s3:GetObject*"], "because")


REASON = "A test of the acknowledgement helpers, on purpose."


def policy_with(stack: cdk.Stack, *, actions: list[str], resource: str) -> iam.ManagedPolicy:
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    return iam.ManagedPolicy(
        stack, "Policy", roles=[role], statements=[iam.PolicyStatement(actions=actions, resources=[resource])]
    )


def test_acknowledged_wildcard_actions_pass_cdk_nag(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    policy = policy_with(stack, actions=["s3:GetObject*", "s3:List*"], resource="arn:aws:s3:::bucket")
    acknowledge_wildcard_actions(policy, ["s3:GetObject*", "s3:List*"], REASON)
    synth(stack)


def test_unacknowledged_wildcard_actions_fail_cdk_nag(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    policy = policy_with(stack, actions=["s3:GetObject*", "s3:List*"], resource="arn:aws:s3:::bucket")
    acknowledge_wildcard_actions(policy, ["s3:GetObject*"], REASON)
    with pytest.raises(Exception, match="ValidationFailed"):
        synth(stack)
    assert validation_errors(tmp_path) == ["AwsSolutions-IAM5[Action::s3:List*]"]


Resource = Callable[[cdk.Stack], str]

# Each builds a wildcard resource ARN; the acknowledgement must silence cdk-nag's finding on it exactly.
ACKNOWLEDGED: dict[str, Resource] = {
    "literal": lambda stack: "arn:aws:s3:::platform-artifacts/*",
    "pseudo": lambda stack: f"arn:aws:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/*",
    "get-att": lambda stack: f"{iam.Role(stack, 'Other', assumed_by=iam.AccountRootPrincipal()).role_arn}/*",
    "join-with-delimiter": lambda stack: cdk.Fn.join(":", ["arn:aws:s3::", cdk.Aws.ACCOUNT_ID, "*"]),
    "import-value": lambda stack: cdk.Fn.join("", [cdk.Fn.import_value("ArtifactBucketArn"), "/*"]),
    "sub": lambda stack: cdk.Fn.sub("arn:aws:s3:::${AWS::AccountId}-artifacts/*"),
    "policy-variable": lambda stack: "arn:aws:s3:::platform-artifacts/home/${aws:username}/*",
}


@pytest.mark.parametrize("build", [pytest.param(build, id=name) for name, build in ACKNOWLEDGED.items()])
def test_acknowledge_wildcard_resource_silences_exactly_the_cdk_nag_finding(
    cdk_context: dict[str, Any], tmp_path: Path, build: Resource
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    resource = build(stack)
    policy = policy_with(stack, actions=["s3:GetObject"], resource=resource)
    acknowledge_wildcard_resource(policy, resource, REASON)
    synth(stack)
