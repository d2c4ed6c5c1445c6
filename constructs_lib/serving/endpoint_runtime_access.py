"""What the serving execution role needs to run endpoints and their monitors in this account."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.shared.compliance import (
    READ_WRITE_GRANT_ACTIONS,
    acknowledge_wildcard_actions,
    acknowledge_wildcard_resource,
)
from constructs_lib.shared.job_guardrails import SAGEMAKER_VPC_ACTIONS


class EndpointRuntimeAccess(Construct):
    """A managed policy on `role`: network interfaces in the VPC, the capture bucket (data capture writes,
    monitors read captures and write reports) with its key, and the Model Monitor analyzer image
    (`monitor_repository_arn`, in AWS's account). Exposes `policy`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role: iam.IRole,
        capture_bucket: s3.IBucket,
        capture_key: kms.IKey,
        monitor_repository_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[role],
            description=f"{Stack.of(self).stack_name}: endpoints and monitors in the VPC, capture bucket",
        )
        self.policy.add_statements(
            iam.PolicyStatement(sid="VpcPlacement", actions=SAGEMAKER_VPC_ACTIONS, resources=["*"])
        )
        capture_bucket.grant_read_write(self.policy)
        capture_key.grant_encrypt_decrypt(self.policy)
        if monitor_repository_arn is not None:
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="PullModelMonitorImage",
                    actions=[
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    resources=[monitor_repository_arn],
                )
            )
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "SageMaker creates the network interfaces of endpoints and monitoring jobs at run time; EC2's "
            "describe calls support no resource-level permissions.",
        )
        acknowledge_wildcard_resource(
            self.policy,
            capture_bucket.arn_for_objects("*"),
            "Data capture and monitoring reports are written under per-endpoint prefixes SageMaker "
            "names at run time, in the capture bucket only.",
        )
        acknowledge_wildcard_actions(
            self.policy,
            READ_WRITE_GRANT_ACTIONS,
            "Action groups of CDK's read-write grant, on the capture bucket and its key only.",
        )
