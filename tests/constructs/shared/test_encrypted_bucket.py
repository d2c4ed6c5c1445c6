"""EncryptedBucket: SSE-KMS with the given key and bucket key, private, TLS-only, access-logged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.shared.access_logs_bucket import AccessLogsBucket
from constructs_lib.shared.encrypted_bucket import EncryptedBucket
from constructs_lib.shared.platform_key import PlatformKey
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


# Roles of other accounts reading one prefix (serving accounts reading model artifacts).
SERVING_ROLE = "arn:aws:iam::330000000003:role/prod-sagemaker-platform-serving"
DEPLOYMENT_ROLE = "arn:aws:iam::330000000003:role/prod-sagemaker-platform-deployment"
STAGING_ROLE = "arn:aws:iam::220000000002:role/staging-sagemaker-platform-serving"


@dataclass(frozen=True)
class SharedBuckets:
    template: Template
    read: str  # three roles of two accounts (one listed twice) may read "models/"
    unread: str  # allow_read_by_roles with no role

    def statements(self, bucket: str) -> list[dict[str, Any]]:
        policies = self.template.find_resources(
            "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": getattr(self, bucket)}}}
        )
        (policy,) = policies.values()
        written: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
        return written

    def allowed(self, bucket: str) -> list[dict[str, Any]]:
        return [statement for statement in self.statements(bucket) if statement["Effect"] == "Allow"]


@pytest.fixture(scope="module")
def shared_buckets(cdk_context: dict[str, Any]) -> SharedBuckets:
    stack = bare_stack(cdk_context)
    key, logs = key_and_logs_bucket(stack)

    def bucket(construct_id: str, role_arns: list[str]) -> str:
        encrypted = EncryptedBucket(
            stack,
            construct_id,
            encryption_key=key.key,
            access_logs_bucket=logs.bucket,
            access_logs_prefix=f"{construct_id}/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        encrypted.allow_read_by_roles(prefix="models", role_arns=role_arns)
        return logical_id(encrypted.bucket)

    read = bucket("Read", [SERVING_ROLE, STAGING_ROLE, DEPLOYMENT_ROLE, SERVING_ROLE])
    unread = bucket("Unread", [])
    return SharedBuckets(Template.from_stack(stack), read=read, unread=unread)


def test_the_roles_may_only_get_objects_under_the_prefix(shared_buckets: SharedBuckets) -> None:
    assert shared_buckets.allowed("read") == [
        {
            "Sid": "OtherAccountRolesRead",
            "Effect": "Allow",
            # The roles' accounts, deduplicated and sorted...
            "Principal": {"AWS": ["arn:aws:iam::220000000002:root", "arn:aws:iam::330000000003:root"]},
            "Action": "s3:GetObject",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [shared_buckets.read, "Arn"]}, "/models/*"]]},
            # ... and exactly the roles, deduplicated and sorted.
            "Condition": {"ArnEquals": {"aws:PrincipalArn": [STAGING_ROLE, DEPLOYMENT_ROLE, SERVING_ROLE]}},
        }
    ]


def test_sharing_keeps_the_tls_only_statements(shared_buckets: SharedBuckets) -> None:
    assert_denies_requests_without_tls(shared_buckets.template, shared_buckets.read)
    assert [statement["Effect"] for statement in shared_buckets.statements("read")] == [
        "Deny",
        "Deny",
        "Allow",
    ]


def test_no_role_no_read_statement(shared_buckets: SharedBuckets) -> None:
    assert shared_buckets.allowed("unread") == []
    assert [statement["Effect"] for statement in shared_buckets.statements("unread")] == ["Deny", "Deny"]


def test_a_principal_that_is_not_a_role_is_refused(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    key, logs = key_and_logs_bucket(stack)
    bucket = EncryptedBucket(
        stack,
        "Artifacts",
        encryption_key=key.key,
        access_logs_bucket=logs.bucket,
        access_logs_prefix="artifacts/",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    with pytest.raises(ValueError, match="is not an IAM role ARN"):
        bucket.allow_read_by_roles(prefix="models", role_arns=["arn:aws:iam::330000000003:root"])


def test_a_shared_bucket_passes_the_compliance_packs(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    key, logs = key_and_logs_bucket(stack)
    EncryptedBucket(
        stack,
        "Artifacts",
        encryption_key=key.key,
        access_logs_bucket=logs.bucket,
        access_logs_prefix="artifacts/",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    ).allow_read_by_roles(prefix="models", role_arns=[SERVING_ROLE, STAGING_ROLE])
    synth(stack)  # raises on any unacknowledged cdk-nag finding


# A prefix only named roles may write: the model artifacts the served environments read.
PIPELINE_ROLE = "arn:aws:iam::123456789012:role/dev-sagemaker-platform-pipelines"
RELEASE_ROLE = "arn:aws:iam::123456789012:role/release/model-publisher"


@dataclass(frozen=True)
class ReservedBuckets:
    template: Template
    named: str  # two writers (one listed twice)
    nobody: str  # no writer at all
    disposable: str  # auto-deleted with the stack, one writer
    provider_role: str  # CDK's auto-delete provider role

    def deny(self, bucket: str) -> dict[str, Any]:
        policies = self.template.find_resources(
            "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": getattr(self, bucket)}}}
        )
        (policy,) = policies.values()
        (statement,) = [
            statement
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement.get("Sid") == "OnlyNamedRolesWriteModels"
        ]
        written: dict[str, Any] = statement
        return written


@pytest.fixture(scope="module")
def reserved_buckets(cdk_context: dict[str, Any]) -> ReservedBuckets:
    stack = bare_stack(cdk_context)
    key, logs = key_and_logs_bucket(stack)

    def bucket(construct_id: str, writers: list[str], *, disposable: bool = False) -> str:
        encrypted = EncryptedBucket(
            stack,
            construct_id,
            encryption_key=key.key,
            access_logs_bucket=logs.bucket,
            access_logs_prefix=f"{construct_id}/",
            removal_policy=cdk.RemovalPolicy.DESTROY if disposable else cdk.RemovalPolicy.RETAIN,
            auto_delete_objects=disposable,
        )
        encrypted.reserve_prefix_for_writers(prefix="models", writer_role_arns=writers)
        return logical_id(encrypted.bucket)

    named = bucket("Named", [RELEASE_ROLE, PIPELINE_ROLE, RELEASE_ROLE])
    nobody = bucket("Nobody", [])
    disposable = bucket("Disposable", [PIPELINE_ROLE], disposable=True)
    provider = stack.node.find_child("Custom::S3AutoDeleteObjectsCustomResourceProvider")
    return ReservedBuckets(
        Template.from_stack(stack),
        named=named,
        nobody=nobody,
        disposable=disposable,
        provider_role=stack.get_logical_id(provider.node.find_child("Role")),  # type: ignore[arg-type]
    )


OBJECT_WRITES = [
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectVersionTagging",
    "s3:ReplicateDelete",
    "s3:ReplicateObject",
    "s3:ReplicateTags",
]


def test_every_principal_but_the_named_roles_is_denied_object_writes_under_the_prefix(
    reserved_buckets: ReservedBuckets,
) -> None:
    assert reserved_buckets.deny("named") == {
        "Sid": "OnlyNamedRolesWriteModels",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": OBJECT_WRITES,
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [reserved_buckets.named, "Arn"]}, "/models/*"]]},
        # By ARN: the writers may live in another stack, and need not exist yet.
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [PIPELINE_ROLE, RELEASE_ROLE]}},
    }


def test_writes_deletes_and_their_variants_are_all_denied() -> None:
    # Writes that change what a reader of an object gets; bucket-level settings are not object writes.
    assert {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectTagging"} <= set(
        OBJECT_WRITES
    )
    assert not {"s3:PutLifecycleConfiguration", "s3:RestoreObject", "s3:GetObject"} & set(OBJECT_WRITES)


def test_without_writers_nobody_may_write_under_the_prefix(reserved_buckets: ReservedBuckets) -> None:
    deny = reserved_buckets.deny("nobody")
    assert (deny["Principal"], deny["Action"], "Condition" in deny) == ({"AWS": "*"}, OBJECT_WRITES, False)


def test_an_auto_deleted_bucket_can_still_be_emptied_by_cdks_provider(
    reserved_buckets: ReservedBuckets,
) -> None:
    # Same stack: the provider's role by reference, after the named writers.
    assert reserved_buckets.deny("disposable")["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [PIPELINE_ROLE, {"Fn::GetAtt": [reserved_buckets.provider_role, "Arn"]}]
        }
    }
    # The other buckets keep only their own writers.
    assert "Fn::GetAtt" not in str(reserved_buckets.deny("named")["Condition"])


def test_reserving_keeps_the_tls_only_statements(reserved_buckets: ReservedBuckets) -> None:
    assert_denies_requests_without_tls(reserved_buckets.template, reserved_buckets.named)


def test_a_reserved_auto_deleted_bucket_passes_the_compliance_packs(
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
        removal_policy=cdk.RemovalPolicy.DESTROY,
        auto_delete_objects=True,
    ).reserve_prefix_for_writers(prefix="models", writer_role_arns=[PIPELINE_ROLE])
    synth(stack)  # raises on any unacknowledged cdk-nag finding
