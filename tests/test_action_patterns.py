"""The action-pattern helper the boundary tests decide with."""

from __future__ import annotations

import pytest

from tests.action_patterns import decision, denied_overlaps, overlap


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("s3:DeleteBucket", "s3:DeleteBucket", True),
        ("s3:deletebucket", "S3:DeleteBucket", True),
        ("s3:DeleteObject*", "s3:DeleteBucket", False),
        ("s3:DeleteObject*", "s3:Delete*", True),
        ("s3:*", "s3:DeleteBucket", True),
        ("*", "iam:CreateRole", True),
        ("iam:Create*", "iam:PassRole", False),
        ("iam:*Role", "iam:Create*", True),
        ("iam:?assRole", "iam:PassRole", True),
        ("kms:GenerateDataKey*", "kms:DisableKey", False),
        ("sagemaker-mlflow:*", "sagemaker:DeleteDomain", False),
    ],
)
def test_overlap(first: str, second: str, expected: bool) -> None:
    assert overlap(first, second) is expected
    assert overlap(second, first) is expected


def test_an_explicit_deny_wins_and_conditions_are_not_guessed() -> None:
    document = {
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["iam:Create*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"x": "true"}}},
        ]
    }
    assert decision(document, "iam:CreateRole") == "Deny"
    assert decision(document, "iam:PassRole") == "Allow"
    assert decision(document, "s3:GetObject") == "Allow"
    assert decision({"Statement": []}, "s3:GetObject") == "ImplicitDeny"
    assert denied_overlaps(["s3:Get*", "iam:*"], ["iam:Create*"]) == [("iam:*", "iam:Create*")]
