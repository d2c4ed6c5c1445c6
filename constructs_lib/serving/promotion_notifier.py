"""Tells a serving environment's team when a newer version of a model it serves is approved."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.shared.model_package_events import model_package_state_changes
from constructs_lib.shared.platform_function import PlatformFunction


@dataclass(frozen=True)
class PinnedEndpoint:
    """An endpoint and the model package version its configuration pins."""

    endpoint: str
    source: str
    source_account: str
    group: str
    version: int


class PromotionNotifier(Construct):
    """An EventBridge rule on approvals forwarded from the source accounts (groups the endpoints serve),
    and a function (functions/promotion_notifier) that publishes to `topic` the exact configuration change
    that promotes the approved version: the file, the field, the old and new version, and the commands to
    review, deploy and smoke-test it. It deploys nothing: endpoints change only by a reviewed change
    (docs/decisions/0010). Exposes `function`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        config_file: str,
        endpoints: Sequence[PinnedEndpoint],
        topic: sns.ITopic,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if not endpoints:
            raise ValueError("PromotionNotifier needs at least one endpoint pinned to a model package")
        # Its own key: EventBridge (the rule's dead letters) must be allowed in the key policy.
        dead_letters_key = kms.Key(
            self,
            "DeadLetterKey",
            description=f"{environment_name}: dead letters of the promotion notifier",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        dead_letters_key.grant(
            iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey"
        )
        notifier = PlatformFunction(
            self,
            "Notifier",
            package="promotion_notifier",
            description=f"{environment_name}: tells which configuration change promotes an approved model",
            environment={
                "ENVIRONMENT_NAME": environment_name,
                "CONFIG_FILE": config_file,
                "TOPIC_ARN": topic.topic_arn,
                "ENDPOINTS": json.dumps([asdict(endpoint) for endpoint in endpoints], sort_keys=True),
            },
            vpc=vpc,
            subnets=subnets,
            logs_key=logs_key,
            dead_letters_key=dead_letters_key,
            removal_policy=removal_policy,
        )
        topic.grant_publish(notifier.policy)

        self.function = notifier.function
        dead_letter_queue = notifier.function.dead_letter_queue
        rule = events.Rule(
            self,
            "OnApproval",
            description=f"{environment_name}: approvals of the model packages its endpoints serve",
            event_pattern=model_package_state_changes(
                group_names={endpoint.group for endpoint in endpoints},
                approved_only=True,
                accounts={endpoint.source_account for endpoint in endpoints},
            ),
        )
        rule.add_target(
            targets.LambdaFunction(self.function, dead_letter_queue=dead_letter_queue, retry_attempts=4)
        )
