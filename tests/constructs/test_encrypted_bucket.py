"""EncryptedBucket: SSE-KMS with the given key and bucket key, private, TLS-only, access-logged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.access_logs_bucket import AccessLogsBucket
from constructs_lib.encrypted_bucket import EncryptedBucket
from constructs_lib.platform_key import PlatformKey
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
    key: str
    logs_bucket: str
    artifacts: str  # CDK-named, retained, default retention of old versions
    shared: str  # fixed name, deleted with the stack, 30 days of old versions


def key_and_logs_bucket(stack: cdk.Stack) -> tuple[PlatformKey, AccessLogsBucket]:
    retain = cdk.RemovalPolicy.RETAIN
    key = PlatformKey(stack, "DataKey", alias="alias/data", description="Data", removal_policy=retain)
    return key, AccessLogsBucket(stack, "AccessLogs", removal_policy=retain)


@pytest.fixture(scope="module")
def buckets(cdk_context: dict[str, Any]) -> Buckets:
    stack = bare_stack(cdk_context)
    key, logs = key_and_logs_bucket(stack)
    artifacts = EncryptedBucket(
        stack,
        "Artifacts",
        encryption_key=key.key,
        access_logs_bucket=logs.bucket,
        access_logs_prefix="artifacts/",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    shared = EncryptedBucket(
        stack,
        "Shared",
        bucket_name="platform-shared-123456789012",
        encryption_key=key.key,
        access_logs_bucket=logs.bucket,
        access_logs_prefix="shared/",
        removal_policy=cdk.RemovalPolicy.DESTROY,
        noncurrent_version_retention_days=30,
    )
    return Buckets(
        Template.from_stack(stack),
        key=logical_id(key.key),
        logs_bucket=logical_id(logs.bucket),
        artifacts=logical_id(artifacts.bucket),
        shared=logical_id(shared.bucket),
    )


def properties(buckets: Buckets, bucket: str) -> dict[str, Any]:
    written: dict[str, Any] = resource(buckets.template, getattr(buckets, bucket))["Properties"]
    return written


def test_encrypted_with_the_given_key_and_a_bucket_key(buckets: Buckets) -> None:
    assert properties(buckets, "artifacts")["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": {"Fn::GetAtt": [buckets.key, "Arn"]},
                },
            }
        ]
    }


@pytest.mark.parametrize("bucket", ["artifacts", "shared"])
def test_versioned_private_and_owner_enforced(buckets: Buckets, bucket: str) -> None:
    written = properties(buckets, bucket)
    assert written["VersioningConfiguration"] == {"Status": "Enabled"}
    assert written["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert written["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


@pytest.mark.parametrize(("bucket", "prefix"), [("artifacts", "artifacts/"), ("shared", "shared/")])
def test_logs_to_the_access_logs_bucket_under_its_prefix(buckets: Buckets, bucket: str, prefix: str) -> None:
    assert properties(buckets, bucket)["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": buckets.logs_bucket},
        "LogFilePrefix": prefix,
    }


@pytest.mark.parametrize(("bucket", "days"), [("artifacts", 90), ("shared", 30)])
def test_old_versions_expire(buckets: Buckets, bucket: str, days: int) -> None:
    assert properties(buckets, bucket)["LifecycleConfiguration"]["Rules"] == [
        {
            "Id": "expire-old-versions",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }
    ]


def test_bucket_name_only_when_given(buckets: Buckets) -> None:
    assert "BucketName" not in properties(buckets, "artifacts")
    assert properties(buckets, "shared")["BucketName"] == "platform-shared-123456789012"


@pytest.mark.parametrize("bucket", ["artifacts", "shared"])
def test_denies_requests_without_tls(buckets: Buckets, bucket: str) -> None:
    assert_denies_requests_without_tls(buckets.template, getattr(buckets, bucket))


@pytest.mark.parametrize(("bucket", "policy"), [("artifacts", "Retain"), ("shared", "Delete")])
def test_removal_policy_applies(buckets: Buckets, bucket: str, policy: str) -> None:
    written = resource(buckets.template, getattr(buckets, bucket))
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


def test_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    key, logs = key_and_logs_bucket(stack)
    EncryptedBucket(
        stack,
        "Artifacts",
        encryption_key=key.key,
        access_logs_bucket=logs.bucket,
        access_logs_prefix="artifacts/",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding


# Expiry of current objects, for transient content such as build sources.
@pytest.fixture(scope="module")
def source_buckets(cdk_context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stack = bare_stack(cdk_context)
    retain = cdk.RemovalPolicy.RETAIN
    key = PlatformKey(stack, "DataKey", alias="alias/data", description="Data", removal_policy=retain)
    logs = AccessLogsBucket(stack, "AccessLogs", removal_policy=retain)
    buckets = {
        name: EncryptedBucket(
            stack,
            name,
            encryption_key=key.key,
            access_logs_bucket=logs.bucket,
            access_logs_prefix=f"{name}/",
            removal_policy=retain,
            expire_objects_after_days=days,
        )
        for name, days in (("Expiring", 7), ("Kept", None))
    }
    template = Template.from_stack(stack)
    return {
        name: resource(template, logical_id(bucket.bucket))["Properties"] for name, bucket in buckets.items()
    }


def test_encrypted_bucket_expires_current_objects_when_asked(
    source_buckets: dict[str, dict[str, Any]],
) -> None:
    (rule,) = source_buckets["Expiring"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 7
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}


def test_encrypted_bucket_keeps_current_objects_by_default(source_buckets: dict[str, dict[str, Any]]) -> None:
    (rule,) = source_buckets["Kept"]["LifecycleConfiguration"]["Rules"]
    assert "ExpirationInDays" not in rule
    assert rule["Id"] == "expire-old-versions"
