"""The bucket that receives S3 server access logs of the platform's buckets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge
from constructs_lib.shared.encrypted_bucket import quiet_auto_delete_provider


class AccessLogsBucket(Construct):
    """Versioned, TLS-only, private bucket for server access logs; exposes `bucket`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        retention_days: int = 365,
        auto_delete_objects: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            # S3 server access logging cannot deliver to a bucket whose default encryption is SSE-KMS.
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=removal_policy,
            # A disposable environment only (needs DESTROY): CDK's provider empties every version first.
            auto_delete_objects=auto_delete_objects,
        )
        if auto_delete_objects:
            quiet_auto_delete_provider(Stack.of(self))
        reason_loop = "This bucket is the access-log destination; logging it into itself would loop."
        acknowledge(self.bucket, "AwsSolutions-S1", reason_loop)
        acknowledge(self.bucket, "NIST.800.53.R5-S3BucketLoggingEnabled", reason_loop)
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "S3 server access logging only delivers to SSE-S3 buckets, not SSE-KMS ones.",
        )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "Access logs are operational records kept for a year in-region; no replica is required.",
        )
