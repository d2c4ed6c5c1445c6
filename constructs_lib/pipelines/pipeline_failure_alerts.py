"""Publish failed pipeline executions to an encrypted notification topic."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class PipelineFailureAlerts(Construct):
    """An EventBridge rule on failed executions of the given pipelines, publishing to an SNS topic encrypted
    with its own key (EventBridge must be allowed in the key policy). Exposes `topic`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_arns: Sequence[str],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        if not pipeline_arns:
            raise ValueError(
                "PipelineFailureAlerts needs at least one pipeline (EventBridge refuses an empty list)"
            )
        key = kms.Key(
            self,
            "Key",
            description="Pipeline failure notifications",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        key.grant(iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey")
        self.topic = sns.Topic(
            self, "Topic", display_name="SageMaker pipeline failures", master_key=key, enforce_ssl=True
        )
        events.Rule(
            self,
            "OnFailure",
            description="Failed executions of the platform's pipelines",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Building Pipeline Execution Status Change"],
                detail={"pipelineArn": sorted(pipeline_arns), "currentPipelineExecutionStatus": ["Failed"]},
            ),
            targets=[targets.SnsTopic(self.topic)],
        )
