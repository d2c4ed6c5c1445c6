"""The environment's alarm topic: where CloudWatch alarms and platform notices go."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class AlarmTopic(Construct):
    """An SNS topic encrypted with its own key, which CloudWatch alarms and EventBridge rules may use (the
    platform's data key should not name those services), with e-mail subscriptions. Exposes `topic`, `key`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        display_name: str,
        emails: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"{display_name}: SNS messages",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
            self.key.grant(iam.ServicePrincipal(service), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(
            self, "Topic", display_name=display_name, master_key=self.key, enforce_ssl=True
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
