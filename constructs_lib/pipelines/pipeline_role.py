"""The role a SageMaker pipeline and the jobs it starts run as."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.shared.compliance import (
    BUCKET_READ_GRANT_ACTIONS,
    READ_WRITE_GRANT_ACTIONS,
    acknowledge_wildcard_actions,
    acknowledge_wildcard_resource,
)
from constructs_lib.shared.job_guardrails import (
    SAGEMAKER_VPC_ACTIONS,
    JobNetwork,
    encrypted_with,
    pass_role_to_sagemaker,
)

_JOB_KINDS = ("processing-job", "training-job", "transform-job", "model")
# Code objects (step scripts, notebooks) per code policy: each adds its object ARN to the statement (about
# 110 characters resolved), and IAM takes 6,144 per managed policy. The first policy holds everything else.
CODE_OBJECTS_PER_POLICY = 20


class PipelineRole(Construct):
    """SageMaker execution role of the platform's pipelines: start and follow their jobs (in `job_network`,
    volumes and outputs under the data key), create models (in `job_network`),
    register into the given model package groups, read source data, read and write the artifact bucket,
    pull images, run in the VPC. Fixed `role_name`: the artifact bucket's policy names it as the one writer
    of model artifacts. Exposes `role`, `policy` (everything but code) and `policies` (with the code
    policies `grant_code_read` adds, CODE_OBJECTS_PER_POLICY objects each, so a growing number of pipelines
    never outgrows IAM's managed policy size).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        artifact_bucket: s3.IBucket,
        data_bucket: s3.IBucket,
        model_package_groups: Sequence[str],
        job_network: JobNetwork,
        data_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs the platform's SageMaker pipelines and the jobs they start",
        )
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        self._code_policies: list[iam.ManagedPolicy] = []
        self._code_objects = 0

        def _arn(kind: str) -> str:
            return stack.format_arn(service="sagemaker", resource=kind, resource_name="*")

        job_resources = [_arn(kind) for kind in _JOB_KINDS]
        group_versions = [
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{name}/*")
            for group in model_package_groups
            for name in sorted({group, group.lower()})
        ]
        groups = [
            stack.format_arn(service="sagemaker", resource="model-package-group", resource_name=group)
            for group in model_package_groups
        ]
        logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        statements = [
            iam.PolicyStatement(
                sid="FollowPipelineJobs",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:DescribeModel",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:DescribeTransformJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:StopTransformJob",
                ],
                resources=job_resources,
            ),
            # The same guardrails as the personas' jobs: the platform's subnets and security group, volumes
            # and outputs under the data key. The definitions pass exactly those (tests/iam evaluates each
            # rendered step against this role), so a changed definition cannot quietly drop them.
            iam.PolicyStatement(
                sid="CreateJobsInTheVpc",
                actions=["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"],
                resources=[_arn("processing-job"), _arn("training-job")],
                conditions={**job_network.conditions(), **encrypted_with(data_key_arn, output=True)},
            ),
            iam.PolicyStatement(
                sid="CreateModelsInTheVpc",
                actions=["sagemaker:CreateModel"],
                resources=[_arn("model")],
                conditions=job_network.conditions(),
            ),
            # Transform jobs run in their model's VPC (above); no network keys of their own.
            iam.PolicyStatement(
                sid="CreateEncryptedTransformJobs",
                actions=["sagemaker:CreateTransformJob"],
                resources=[_arn("transform-job")],
                conditions=encrypted_with(data_key_arn, output=True),
            ),
            pass_role_to_sagemaker("PassItselfToJobs", self.role.role_arn),
            iam.PolicyStatement(
                sid="PullImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[
                    stack.format_arn(service="ecr", account="*", resource="repository", resource_name="*")
                ],
            ),
            iam.PolicyStatement(
                sid="AccountWideCalls",
                actions=[
                    "cloudwatch:PutMetricData",
                    *SAGEMAKER_VPC_ACTIONS,
                    "ecr:GetAuthorizationToken",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="JobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[logs],
            ),
        ]
        if model_package_groups:
            statements.append(
                iam.PolicyStatement(
                    sid="RegisterModels",
                    actions=[
                        "sagemaker:CreateModelPackage",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:DescribeModelPackageGroup",
                    ],
                    resources=[*groups, *group_versions],
                )
            )
        self.policy.add_statements(*statements)
        artifact_bucket.grant_read_write(self.policy)
        data_bucket.grant_read(self.policy)
        reason_jobs = (
            "Pipelines name their jobs and models per execution; the grant covers those resource types here."
        )
        for resource in [*job_resources, *group_versions]:
            acknowledge_wildcard_resource(self.policy, resource, reason_jobs)
        acknowledge_wildcard_resource(
            self.policy,
            stack.format_arn(service="ecr", account="*", resource="repository", resource_name="*"),
            "AWS publishes its prebuilt training and processing images from per-region accounts; pulls only.",
        )
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "Metrics, network-interface and registry-token calls support no resource-level permissions.",
        )
        acknowledge_wildcard_resource(self.policy, logs, "SageMaker names job log streams at run time.")
        acknowledge_wildcard_resource(
            self.policy, artifact_bucket.arn_for_objects("*"), "Pipelines write their outputs by execution."
        )
        acknowledge_wildcard_resource(
            self.policy, data_bucket.arn_for_objects("*"), "Pipelines read the source data they are given."
        )
        acknowledge_wildcard_actions(
            self.policy,
            READ_WRITE_GRANT_ACTIONS,
            "Action groups of CDK's grant_read_write and grant_read, each on one platform bucket or key.",
        )

    @property
    def policies(self) -> list[iam.ManagedPolicy]:
        return [self.policy, *self._code_policies]

    def grant_code_read(self, bucket: s3.IBucket, object_key: str) -> None:
        """Read one shipped code object (an asset), in the code policies rather than the main one."""
        if self._code_objects % CODE_OBJECTS_PER_POLICY == 0:
            policy = iam.ManagedPolicy(self, f"CodePolicy{len(self._code_policies) + 1}", roles=[self.role])
            acknowledge_wildcard_actions(
                policy,
                BUCKET_READ_GRANT_ACTIONS,
                "CDK's grant_read, on single code objects of the assets bucket.",
            )
            self._code_policies.append(policy)
        bucket.grant_read(self._code_policies[-1], object_key)
        self._code_objects += 1
