"""AccessLogsBucket: SSE-S3 (logging cannot deliver to SSE-KMS), private, TLS-only, logs expire."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from constructs_lib.shared.access_logs_bucket import AccessLogsBucket
from tests.constructs.support import (
    assert_denies_requests_without_tls,
    bare_stack,
    logical_id,
    resource,
    synth,
)


@dataclass(frozen=True)
class Buckets:
    template: Template
    default: str  # 365 days, deleted with the stack
    long_kept: str  # 731 days, retained


@pytest.fixture(scope="module")
def buckets(cdk_context: dict[str, Any]) -> Buckets:
    stack = bare_stack(cdk_context)
    default = AccessLogsBucket(stack, "Default", removal_policy=cdk.RemovalPolicy.DESTROY)
    long_kept = AccessLogsBucket(
        stack, "LongKept", removal_policy=cdk.RemovalPolicy.RETAIN, retention_days=731
    )
    return Buckets(Template.from_stack(stack), logical_id(default.bucket), logical_id(long_kept.bucket))


def test_encrypted_with_s3_managed_keys_not_kms(buckets: Buckets) -> None:
    buckets.template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_equals({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}})
                ]
            }
        },
    )


def test_versioned_private_and_owner_enforced(buckets: Buckets) -> None:
    buckets.template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            # It is the destination of access logs, not a source.
            "LoggingConfiguration": Match.absent(),
        },
    )


@pytest.mark.parametrize(("bucket", "days"), [("default", 365), ("long_kept", 731)])
def test_logs_and_old_versions_expire(buckets: Buckets, bucket: str, days: int) -> None:
    rules = resource(buckets.template, getattr(buckets, bucket))["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    assert rules == [
        {
            "Id": "expire-access-logs",
            "Status": "Enabled",
            "ExpirationInDays": days,
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }
    ]


def test_denies_requests_without_tls(buckets: Buckets) -> None:
    assert_denies_requests_without_tls(buckets.template, buckets.default)


@pytest.mark.parametrize(("bucket", "policy"), [("default", "Delete"), ("long_kept", "Retain")])
def test_removal_policy_applies(buckets: Buckets, bucket: str, policy: str) -> None:
    written = resource(buckets.template, getattr(buckets, bucket))
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


def test_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    AccessLogsBucket(stack, "AccessLogs", removal_policy=cdk.RemovalPolicy.RETAIN)
    synth(stack)  # raises on any unacknowledged cdk-nag finding
