"""What an environment's operators watch: the alarm topic, pipeline alarms, the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from constructs import Construct

from constructs_lib.observability.alarm_topic import AlarmTopic
from constructs_lib.observability.pipeline_alarms import PipelineAlarms
from constructs_lib.observability.platform_dashboard import DashboardEndpoint, PlatformDashboard


class MonitoringStack(Stack):
    """The encrypted alarm topic every alarm of the environment notifies, an alarm per pipeline on failed
    executions, and the environment's dashboard (endpoints, pipelines, training metrics). Replaceable.
    Exposes `topic`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        alarm_emails: Sequence[str],
        pipeline_names: Sequence[str],
        endpoints: Sequence[DashboardEndpoint],
        training_metric_names: Sequence[str],
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.topic = AlarmTopic(
            self,
            "Alarms",
            display_name=f"SageMaker platform {environment_name}: alarms",
            emails=alarm_emails,
            removal_policy=removal_policy,
        ).topic
        if pipeline_names:
            PipelineAlarms(
                self,
                "PipelineAlarms",
                pipeline_names=pipeline_names,
                alarm_name_prefix=environment_name,
                topic=self.topic,
            )
        PlatformDashboard(
            self,
            "Dashboard",
            dashboard_name=f"{environment_name}-sagemaker-platform",
            endpoints=endpoints,
            pipeline_names=pipeline_names,
            training_metric_names=training_metric_names,
        )
