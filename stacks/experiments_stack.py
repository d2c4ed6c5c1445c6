"""Experiment tracking in the build environment."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.experiments.mlflow_tracking_server import MlflowTrackingServer
from platform_config import naming


class ExperimentsStack(Stack):
    """A SageMaker managed MLflow tracking server storing artifacts under `mlflow/` of the artifact bucket.
    Runs and models it tracks live in its own store; replacing the server loses them, so its name is fixed
    and its settings are update-in-place. Exposes `tracking_server_arn`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tracking_server_name: str,
        artifact_bucket_name: str,
        data_key: kms.IKey,
        size: str,
        mlflow_version: str | None,
        automatic_model_registration: bool,
        weekly_maintenance_window: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        server = MlflowTrackingServer(
            self,
            "Mlflow",
            tracking_server_name=tracking_server_name,
            # By name: the Data stack owns the bucket; with its key, so the grant covers encryption.
            artifact_bucket=s3.Bucket.from_bucket_attributes(
                self, "ArtifactBucket", bucket_name=artifact_bucket_name, encryption_key=data_key
            ),
            artifact_prefix=naming.MLFLOW_ARTIFACT_PREFIX,
            size=size,
            mlflow_version=mlflow_version,
            automatic_model_registration=automatic_model_registration,
            weekly_maintenance_window=weekly_maintenance_window,
        )
        self.tracking_server_arn = server.arn
