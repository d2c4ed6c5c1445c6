"""Stateful data of one environment: KMS keys and buckets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.shared.access_logs_bucket import AccessLogsBucket
from constructs_lib.shared.encrypted_bucket import EncryptedBucket
from constructs_lib.shared.platform_key import PlatformKey
from platform_config import naming


class DataStack(Stack):
    """Keys (data, Studio storage, logs) and the artifact bucket with its access-log bucket.

    Model artifacts (`models/` of the artifact bucket, which served environments read) may be written and
    deleted only by `model_writer_role_arns` (the pipeline role, named by ARN); by nobody where it is empty.

    The Studio key exists only where Studio is hosted, the data bucket only where pipelines run, and the
    capture bucket (endpoints' captured requests and monitoring reports) only where endpoints serve.
    Retained and termination-protected unless the environment is disposable.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        artifact_bucket_name: str,
        hosts_studio: bool,
        removal_policy: RemovalPolicy,
        model_reader_role_arns: Sequence[str] = (),
        model_writer_role_arns: Sequence[str] = (),
        data_bucket_name: str | None = None,
        capture_bucket_name: str | None = None,
        capture_retention_days: int = 90,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        data_key = PlatformKey(
            self,
            "DataKey",
            alias=naming.key_alias(environment_name, "data"),
            description=f"{environment_name}: model artifacts, datasets and job volumes",
            removal_policy=removal_policy,
        )
        # The served environments' serving roles read model artifacts, decrypting through S3 only.
        data_key.allow_decrypt_through(service="s3", role_arns=model_reader_role_arns)
        self.data_key: kms.IKey = data_key.key
        self.studio_key: kms.IKey | None = (
            PlatformKey(
                self,
                "StudioKey",
                alias=naming.key_alias(environment_name, "studio"),
                description=f"{environment_name}: Studio home file systems and space volumes",
                removal_policy=removal_policy,
            ).key
            if hosts_studio
            else None
        )
        logs_key = PlatformKey(
            self,
            "LogsKey",
            alias=naming.key_alias(environment_name, "logs"),
            description=f"{environment_name}: CloudWatch log groups of the platform",
            removal_policy=removal_policy,
        )
        logs_key.allow_cloudwatch_logs()
        self.logs_key: kms.IKey = logs_key.key
        # A disposable environment's buckets are emptied (every version) when they are deleted.
        disposable = removal_policy == RemovalPolicy.DESTROY
        self.access_logs_bucket: s3.IBucket = AccessLogsBucket(
            self, "AccessLogsBucket", removal_policy=removal_policy, auto_delete_objects=disposable
        ).bucket
        artifact_bucket = EncryptedBucket(
            self,
            "ArtifactBucket",
            bucket_name=artifact_bucket_name,
            encryption_key=self.data_key,
            access_logs_bucket=self.access_logs_bucket,
            access_logs_prefix="artifact-bucket/",
            removal_policy=removal_policy,
            auto_delete_objects=disposable,
        )
        artifact_bucket.allow_read_by_roles(
            prefix=naming.MODEL_ARTIFACT_PREFIX, role_arns=model_reader_role_arns
        )
        # What the served environments read is written by the pipelines alone: no persona, job or admin
        # session can overwrite or delete a served model artifact.
        artifact_bucket.reserve_prefix_for_writers(
            prefix=naming.MODEL_ARTIFACT_PREFIX, writer_role_arns=model_writer_role_arns
        )
        self.artifact_bucket: s3.IBucket = artifact_bucket.bucket
        # Source data of the pipelines: versioned, and its new objects announced to EventBridge.
        self.data_bucket: s3.IBucket | None = None
        if data_bucket_name is not None:
            self.data_bucket = EncryptedBucket(
                self,
                "DataBucket",
                bucket_name=data_bucket_name,
                encryption_key=self.data_key,
                access_logs_bucket=self.access_logs_bucket,
                access_logs_prefix="data-bucket/",
                removal_policy=removal_policy,
                auto_delete_objects=disposable,
                event_bridge_enabled=True,
            ).bucket
        # Captured requests and responses and the monitors' reports: they expire, as the configuration says.
        self.capture_bucket: s3.IBucket | None = None
        if capture_bucket_name is not None:
            self.capture_bucket = EncryptedBucket(
                self,
                "CaptureBucket",
                bucket_name=capture_bucket_name,
                encryption_key=self.data_key,
                access_logs_bucket=self.access_logs_bucket,
                access_logs_prefix="capture-bucket/",
                removal_policy=removal_policy,
                auto_delete_objects=disposable,
                noncurrent_version_retention_days=min(capture_retention_days, 90),
                expire_objects_after_days=capture_retention_days,
            ).bucket
