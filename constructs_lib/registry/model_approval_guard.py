"""The registry's quality gate: an approval stands only if the package's metrics meet the group's baseline."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge_wildcard_actions, acknowledge_wildcard_resource
from constructs_lib.shared.model_package_events import model_package_state_changes
from constructs_lib.shared.platform_function import PlatformFunction

# The function's code: ordinary Python, tested on its own (tests/functions), packaged with the shared
# runtime like every platform function.
HANDLER_PACKAGE = "approval_guard"


@dataclass(frozen=True)
class ApprovalBaseline:
    """A group's quality gate: the package's `metric` must be at least (`greater_than_or_equal`) or at most
    (`less_than_or_equal`) `threshold`."""

    metric: str
    threshold: float
    comparison: Literal["greater_than_or_equal", "less_than_or_equal"]


class ModelApprovalGuard(Construct):
    """When a package of a guarded group is approved, a function (a `PlatformFunction`: in the VPC, reserved
    concurrency, a dead-letter queue) checks its metrics against the group's baseline and rejects it, with
    the reason in the approval description, when they are missing or short. Every verdict goes to an
    encrypted SNS topic.

    `baselines` maps group names to their baseline. Exposes `function`, `topic`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        baselines: Mapping[str, ApprovalBaseline],
        metrics_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        logs_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        notification_emails: Sequence[str] = (),
        log_retention_days: int = 365,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if not baselines:
            raise ValueError("ModelApprovalGuard needs at least one group with a baseline")
        stack = Stack.of(self)
        self.topic = sns.Topic(
            self, "Topic", display_name="Model approval guard", master_key=encryption_key, enforce_ssl=True
        )
        for email in notification_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        # Its own key: EventBridge (the rule's dead letters) must be allowed in the key policy, which the
        # platform's data key, in another stack, should not carry.
        queue_key = kms.Key(
            self,
            "DeadLetterKey",
            description="Dead letters of the model approval guard",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        queue_key.grant(iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey")
        # "Default": CDK leaves the id out of logical ids, so the function's resources (its log group above
        # all) keep the ids they had before the guard was built on PlatformFunction.
        guard = PlatformFunction(
            self,
            "Default",
            package=HANDLER_PACKAGE,
            description="Rejects approved model packages whose metrics miss their group's baseline",
            environment={"BASELINES": _baselines_json(baselines), "TOPIC_ARN": self.topic.topic_arn},
            vpc=vpc,
            subnets=subnets,
            logs_key=logs_key,
            dead_letters_key=queue_key,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        self.function = guard.function
        # SageMaker writes a group's name lower-cased in its versions' ARNs.
        versions = [
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{name}/*")
            for name in sorted({variant for group in baselines for variant in (group, group.lower())})
        ]
        guard.policy.add_statements(
            iam.PolicyStatement(
                sid="ReadAndRejectGuardedPackages",
                actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                resources=versions,
            )
        )
        metrics_bucket.grant_read(guard.policy)
        self.topic.grant_publish(guard.policy)
        for version in versions:
            acknowledge_wildcard_resource(
                guard.policy,
                version,
                "Package versions are numbered at registration; the grant covers the guarded groups only.",
            )
        acknowledge_wildcard_resource(
            guard.policy,
            metrics_bucket.arn_for_objects("*"),
            "Evaluation reports are wherever the pipelines write them in the artifact bucket; read-only.",
        )
        acknowledge_wildcard_actions(
            guard.policy,
            ["s3:GetBucket*", "s3:GetObject*", "s3:List*"],
            "Action groups of CDK's grant_read, on the artifact bucket only.",
        )
        rule = events.Rule(
            self,
            "OnApproval",
            description="Model package approvals of guarded groups",
            event_pattern=model_package_state_changes(group_names=baselines, approved_only=True),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.function, dead_letter_queue=self.function.dead_letter_queue, retry_attempts=4
            )
        )


def _baselines_json(baselines: Mapping[str, ApprovalBaseline]) -> str:
    """The function's BASELINES, by group name (sorted: the template does not follow the configuration's
    order)."""
    return json.dumps(
        {
            name: {
                "metric": baseline.metric,
                "threshold": baseline.threshold,
                "comparison": baseline.comparison,
            }
            for name, baseline in sorted(baselines.items())
        },
        sort_keys=True,
    )
