"""Experiment tracking: a SageMaker managed MLflow tracking server."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.shared.compliance import (
    READ_WRITE_GRANT_ACTIONS,
    acknowledge,
    acknowledge_wildcard_actions,
    acknowledge_wildcard_resource,
)

MLFLOW_ACTIONS = ["sagemaker-mlflow:*"]
TRACKING_SERVER_ACTIONS = [
    "sagemaker:CreatePresignedMlflowTrackingServerUrl",
    "sagemaker:DescribeMlflowTrackingServer",
]


def grant_tracking_server_access(policy: iam.ManagedPolicy, tracking_server_arn: str) -> None:
    """What a client (a Studio user, a pipeline job) needs to log to and browse one tracking server. Run
    artifacts go straight to the artifact store, which the client's bucket grants cover."""
    policy.add_statements(
        iam.PolicyStatement(
            sid="UseMlflowTrackingServer",
            actions=[*MLFLOW_ACTIONS, *TRACKING_SERVER_ACTIONS],
            resources=[tracking_server_arn],
        )
    )
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Action::sagemaker-mlflow:*]",
        "The MLflow REST API of one tracking server (its ARN is the only resource): logging and reading "
        "runs, experiments and models are all sagemaker-mlflow actions.",
    )


class MlflowTrackingServer(Construct):
    """The tracking server (fixed name: clients are granted its ARN from configuration) with its artifact
    store under `artifact_prefix` of the artifact bucket, and the role it runs as (reads and writes that
    prefix; registers models in the registry only with `automatic_model_registration`).
    Exposes `tracking_server`, `arn`, `role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tracking_server_name: str,
        artifact_bucket: s3.IBucket,
        artifact_prefix: str,
        size: str,
        mlflow_version: str | None = None,
        automatic_model_registration: bool = False,
        weekly_maintenance_window: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="MLflow tracking server: its artifact store in the artifact bucket",
        )
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        artifact_bucket.grant_read_write(policy, f"{artifact_prefix}/*")
        acknowledge_wildcard_resource(
            policy,
            artifact_bucket.arn_for_objects(f"{artifact_prefix}/*"),
            "MLflow names run artifacts at run time, under the tracking server's own prefix only.",
        )
        acknowledge_wildcard_actions(
            policy,
            READ_WRITE_GRANT_ACTIONS,
            "Action groups of CDK's read-write grant, on the tracking server's prefix and bucket key.",
        )
        if automatic_model_registration:
            policy.add_statements(
                iam.PolicyStatement(
                    sid="RegisterMlflowModels",
                    actions=[
                        "sagemaker:AddTags",
                        "sagemaker:CreateModelPackage",
                        "sagemaker:CreateModelPackageGroup",
                        "sagemaker:DescribeModelPackageGroup",
                        "sagemaker:UpdateModelPackage",
                    ],
                    resources=[
                        stack.format_arn(
                            service="sagemaker", resource="model-package-group", resource_name="*"
                        ),
                        stack.format_arn(service="sagemaker", resource="model-package", resource_name="*"),
                    ],
                )
            )
            for resource in ("model-package-group", "model-package"):
                acknowledge_wildcard_resource(
                    policy,
                    stack.format_arn(service="sagemaker", resource=resource, resource_name="*"),
                    "Automatic registration names groups after the MLflow models people register.",
                )
        self.tracking_server = sagemaker.CfnMlflowTrackingServer(
            self,
            "TrackingServer",
            tracking_server_name=tracking_server_name,
            artifact_store_uri=artifact_bucket.s3_url_for_object(artifact_prefix),
            role_arn=self.role.role_arn,
            tracking_server_size=size,
            mlflow_version=mlflow_version,
            automatic_model_registration=automatic_model_registration,
            weekly_maintenance_window_start=weekly_maintenance_window,
        )
        self.tracking_server.node.add_dependency(policy)
        self.arn = self.tracking_server.attr_tracking_server_arn
