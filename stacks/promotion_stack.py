"""How models leave an environment: the approval guard, event forwarding and the promotion role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.registry.model_approval_guard import ApprovalBaseline, ModelApprovalGuard
from constructs_lib.registry.model_event_forwarding import ModelEventForwarding
from constructs_lib.registry.promotion_role import PromotionRole
from platform_config.models import ModelRegistryConfig


class PromotionStack(Stack):
    """The approval guard of the registry's guarded groups; the forwarding of package state changes to the
    served environments' event buses; the promotion role that may assume their deployment roles.
    Replaceable. Exposes `approval_guard` and `promotion_role` (each None when not configured).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registry: ModelRegistryConfig | None,
        promotion_role_name: str | None,
        deployment_role_arns: Sequence[str],
        served_bus_arns: Sequence[str],
        artifact_bucket_name: str,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.approval_guard: ModelApprovalGuard | None = None
        self.promotion_role: PromotionRole | None = None
        baselines = {
            group.name: ApprovalBaseline(
                metric=group.baseline.metric,
                threshold=group.baseline.threshold,
                comparison=group.baseline.comparison,
            )
            for group in (registry.groups if registry else ())
            if group.baseline is not None
        }
        if registry is not None and baselines:
            self.approval_guard = ModelApprovalGuard(
                self,
                "ApprovalGuard",
                baselines=baselines,
                # By its fixed name, so the function's policy holds a literal ARN.
                metrics_bucket=s3.Bucket.from_bucket_attributes(
                    self, "ArtifactBucket", bucket_name=artifact_bucket_name, encryption_key=data_key
                ),
                encryption_key=data_key,
                logs_key=logs_key,
                vpc=vpc,
                subnets=subnets,
                notification_emails=registry.notification_emails,
                removal_policy=removal_policy,
            )
        if registry is not None and served_bus_arns:
            ModelEventForwarding(
                self,
                "EventForwarding",
                group_names=[group.name for group in registry.groups],
                target_bus_arns=served_bus_arns,
            )
        if promotion_role_name is not None and deployment_role_arns:
            self.promotion_role = PromotionRole(
                self,
                "PromotionRole",
                role_name=promotion_role_name,
                deployment_role_arns=deployment_role_arns,
            )
