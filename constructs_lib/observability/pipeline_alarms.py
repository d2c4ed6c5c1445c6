"""CloudWatch alarms on failed pipeline executions."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

PIPELINE_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"


def pipeline_metric(pipeline_name: str, metric_name: str) -> cloudwatch.Metric:
    """A SageMaker Pipelines execution metric (ExecutionStarted, ExecutionFailed, ExecutionSucceeded...)."""
    return cloudwatch.Metric(
        namespace=PIPELINE_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"PipelineName": pipeline_name},
        statistic="Sum",
        period=Duration.minutes(5),
    )


class PipelineAlarms(Construct):
    """One alarm per pipeline, `<alarm_name_prefix>-<pipeline>-failed`, when an execution fails; it notifies
    `topic` when it fires and clears. Exposes `alarms` (by pipeline name).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_names: Sequence[str],
        alarm_name_prefix: str,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name in pipeline_names:
            alarm = cloudwatch.Alarm(
                self,
                name,
                alarm_name=f"{alarm_name_prefix}-{name}-failed",
                alarm_description=f"An execution of pipeline {name} failed",
                metric=pipeline_metric(name, "ExecutionFailed"),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(topic))
            alarm.add_ok_action(actions.SnsAction(topic))
            self.alarms[name] = alarm
