"""PipelineAlarms: one alarm per pipeline on failed executions, `<prefix>-<pipeline>-failed`, notifying the
topic when it fires and clears; `pipeline_metric` reads SageMaker Pipelines' execution metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from constructs_lib.observability.alarm_topic import AlarmTopic
from constructs_lib.observability.pipeline_alarms import PIPELINE_NAMESPACE, PipelineAlarms, pipeline_metric
from tests.constructs.support import ACCOUNT, REGION, bare_stack, logical_id, resource, synthesize

PIPELINES = ("churn-model-build", "churn-batch-scoring")


@dataclass(frozen=True)
class Alarms:
    template: Template
    nag_errors: list[str]
    alarms: PipelineAlarms
    topic: str

    def alarm(self, pipeline: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, logical_id(self.alarms.alarms[pipeline]))[
            "Properties"
        ]
        return written


@pytest.fixture(scope="module")
def alarms(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Alarms:
    outdir = tmp_path_factory.mktemp("pipeline-alarms")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    topic = AlarmTopic(stack, "Alarms", display_name="dev alarms").topic
    construct = PipelineAlarms(
        stack, "PipelineAlarms", pipeline_names=PIPELINES, alarm_name_prefix="dev", topic=topic
    )
    synthesized = synthesize(stack, outdir)
    return Alarms(synthesized.template, synthesized.nag_errors, construct, logical_id(topic))


def test_one_alarm_per_pipeline(alarms: Alarms) -> None:
    alarms.template.resource_count_is("AWS::CloudWatch::Alarm", len(PIPELINES))
    assert list(alarms.alarms.alarms) == list(PIPELINES)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_alarm_on_any_failed_execution(alarms: Alarms, pipeline: str) -> None:
    alarm = alarms.alarm(pipeline)
    topic = {"Ref": alarms.topic}
    assert alarm == {
        "AlarmName": f"dev-{pipeline}-failed",
        "AlarmDescription": f"An execution of pipeline {pipeline} failed",
        "Namespace": "AWS/Sagemaker/ModelBuildingPipeline",
        "MetricName": "ExecutionFailed",
        "Dimensions": [{"Name": "PipelineName", "Value": pipeline}],
        "Statistic": "Sum",
        "Period": 300,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [topic],
        "OKActions": [topic],
    }


def test_no_pipeline_no_alarm(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    topic = sns.Topic.from_topic_arn(stack, "Topic", f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms")
    construct = PipelineAlarms(
        stack, "PipelineAlarms", pipeline_names=[], alarm_name_prefix="dev", topic=topic
    )
    assert construct.alarms == {}
    assert construct.node.children == []


@pytest.mark.parametrize("metric_name", ["ExecutionStarted", "ExecutionFailed", "ExecutionSucceeded"])
def test_pipeline_metric(metric_name: str) -> None:
    metric = pipeline_metric("churn-model-build", metric_name)
    assert PIPELINE_NAMESPACE == "AWS/Sagemaker/ModelBuildingPipeline"
    assert metric.namespace == PIPELINE_NAMESPACE
    assert metric.metric_name == metric_name
    assert metric.dimensions == {"PipelineName": "churn-model-build"}
    assert metric.statistic == "Sum"
    assert metric.period.to_seconds() == cdk.Duration.minutes(5).to_seconds()


def test_passes_the_compliance_packs(alarms: Alarms) -> None:
    assert alarms.nag_errors == []
