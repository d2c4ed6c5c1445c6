"""The action-pattern helper the boundary tests use."""

from __future__ import annotations

import pytest

from tests.iam.action_patterns import denied_overlaps, overlap


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


def test_denied_overlaps_pairs_each_action_with_what_it_reaches() -> None:
    assert denied_overlaps(["s3:Get*", "iam:*"], ["iam:Create*"]) == [("iam:*", "iam:Create*")]
    assert denied_overlaps(["iam:PassRole"], ["iam:Create*", "iam:Delete*"]) == []
