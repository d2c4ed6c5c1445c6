"""The role a serving environment's models and endpoints run as."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge_wildcard_resource


@dataclass(frozen=True)
class ModelSource:
    """Where a serving environment's models come from: another environment's artifacts and images."""

    account_id: str
    region: str
    artifact_bucket_name: str
    model_prefix: str
    key_aliases: Sequence[str]  # the source's data key (S3) and images key (ECR)
    repository_names: Sequence[str]


class ServingExecutionRole(Construct):
    """SageMaker execution role (fixed name: other accounts name it) of a serving environment.

    It reads exactly the model artifacts (one prefix of each source's artifact bucket) and pulls exactly
    the images (the source's repositories) it serves, decrypting only through S3 and ECR with the
    sources' keys, named by alias. Exposes `role`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, role_name: str, sources: Sequence[ModelSource]
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Serving models and endpoints: reads the model artifacts and images it serves",
        )
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        for index, source in enumerate(sources):
            objects = f"arn:{stack.partition}:s3:::{source.artifact_bucket_name}/{source.model_prefix}/*"
            keys = stack.format_arn(
                service="kms",
                region=source.region,
                account=source.account_id,
                resource="key",
                resource_name="*",
            )
            policy.add_statements(
                iam.PolicyStatement(
                    sid=f"ReadModelArtifacts{index}", actions=["s3:GetObject"], resources=[objects]
                ),
                iam.PolicyStatement(
                    sid=f"DecryptThroughS3AndEcr{index}",
                    actions=["kms:Decrypt"],
                    resources=[keys],
                    conditions={
                        "ForAnyValue:StringEquals": {"kms:ResourceAliases": list(source.key_aliases)},
                        "StringEquals": {
                            "kms:ViaService": [
                                f"s3.{source.region}.amazonaws.com",
                                f"ecr.{source.region}.amazonaws.com",
                            ]
                        },
                    },
                ),
            )
            if source.repository_names:
                policy.add_statements(
                    iam.PolicyStatement(
                        sid=f"PullModelImages{index}",
                        actions=[
                            "ecr:BatchCheckLayerAvailability",
                            "ecr:BatchGetImage",
                            "ecr:GetDownloadUrlForLayer",
                        ],
                        resources=[
                            stack.format_arn(
                                service="ecr",
                                region=source.region,
                                account=source.account_id,
                                resource="repository",
                                resource_name=name,
                            )
                            for name in source.repository_names
                        ],
                    )
                )
            acknowledge_wildcard_resource(
                policy,
                objects,
                "Model artifacts are read under one prefix of the source's artifact bucket, by the names its "
                "pipelines give them.",
            )
            acknowledge_wildcard_resource(
                policy,
                keys,
                "A key of another account is named by alias: the condition admits only the source's data "
                "and images keys, and only through S3 and ECR.",
            )
        logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        policy.add_statements(
            iam.PolicyStatement(sid="RegistryToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                sid="EndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[logs],
            ),
            iam.PolicyStatement(
                sid="EndpointMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
        )
        acknowledge_wildcard_resource(
            policy,
            "*",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level permissions; "
            "metrics are limited to SageMaker's namespaces.",
        )
        acknowledge_wildcard_resource(
            policy, logs, "SageMaker names endpoint and job log groups at run time, under /aws/sagemaker/."
        )
