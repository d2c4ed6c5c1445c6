"""EndpointAlarms: latency p99, 5XX and 4XX rates, no invocations, CPU and memory (on instances) and
monitoring violations, each named `<prefix>-<what>` and notifying the topic when it fires and clears."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from constructs_lib.observability.endpoint_alarms import EndpointAlarms, EndpointThresholds
from tests.constructs.support import ACCOUNT, REGION, bare_stack, logical_id, resource, synthesize

TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:staging-alarms"
SCHEDULE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/churn-model-data-quality"
THRESHOLDS = EndpointThresholds(
    model_latency_p99_ms=300,
    error_5xx_rate_percent=0.5,
    error_4xx_rate_percent=5,
    no_invocations_minutes=60,
    cpu_utilization_percent=80,
    memory_utilization_percent=85,
)
DIMENSIONS = [
    {"Name": "EndpointName", "Value": "churn-model"},
    {"Name": "VariantName", "Value": "AllTraffic"},
]
ON_INSTANCES = (
    "model-latency-p99",
    "5xx-error-rate",
    "4xx-error-rate",
    "no-invocations",
    "cpu-utilization",
    "memory-utilization",
)
SERVERLESS = ("model-latency-p99", "5xx-error-rate", "4xx-error-rate")


@dataclass(frozen=True)
class Alarms:
    template: Template
    nag_errors: list[str]
    instances: EndpointAlarms  # on instances, with a violations alarm
    serverless: EndpointAlarms  # serverless, no alarm on missing traffic
    rule: events.Rule

    def alarm(self, alarms: str, what: str) -> dict[str, Any]:
        construct = getattr(self, alarms).alarms[what]
        written: dict[str, Any] = resource(self.template, logical_id(construct))["Properties"]
        return written


@pytest.fixture(scope="module")
def alarms(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Alarms:
    outdir = tmp_path_factory.mktemp("alarms")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    topic = sns.Topic.from_topic_arn(stack, "Topic", TOPIC_ARN)
    instances = EndpointAlarms(
        stack,
        "Churn",
        endpoint_name="churn-model",
        variant_name="AllTraffic",
        alarm_name_prefix="prod-churn-model",
        thresholds=THRESHOLDS,
        topic=topic,
        on_instances=True,
    )
    rule = instances.add_violations_alarm(
        events.EventPattern(
            source=["aws.sagemaker"],
            detail_type=["SageMaker Processing Job State Change"],
            detail={"MonitoringScheduleArn": [SCHEDULE_ARN]},
        )
    )
    serverless = EndpointAlarms(
        stack,
        "Serverless",
        endpoint_name="churn-serverless",
        variant_name="AllTraffic",
        alarm_name_prefix="prod-churn-serverless",
        thresholds=replace(THRESHOLDS, no_invocations_minutes=None),
        topic=topic,
        on_instances=False,
    )
    synthesized = synthesize(stack, outdir)
    return Alarms(synthesized.template, synthesized.nag_errors, instances, serverless, rule)


def all_alarm_names(template: Template) -> set[str]:
    return {
        alarm["Properties"]["AlarmName"]
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
    }


# --- names, actions, the rollback list -------------------------------------------------------------------


def test_alarms_are_named_after_the_prefix(alarms: Alarms) -> None:
    assert list(alarms.instances.alarms) == [*ON_INSTANCES, "monitoring-violations"]
    assert list(alarms.serverless.alarms) == list(SERVERLESS)
    assert all_alarm_names(alarms.template) == {
        *(f"prod-churn-model-{what}" for what in (*ON_INSTANCES, "monitoring-violations")),
        *(f"prod-churn-serverless-{what}" for what in SERVERLESS),
    }
    for what, alarm in alarms.instances.alarms.items():
        assert logical_id(alarms.instances.alarms_by_name[f"prod-churn-model-{what}"]) == logical_id(alarm)


def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_clears(alarms: Alarms) -> None:
    found = alarms.template.find_resources("AWS::CloudWatch::Alarm")
    assert len(found) == len(ON_INSTANCES) + 1 + len(SERVERLESS)
    for alarm in found.values():
        assert alarm["Properties"]["AlarmActions"] == [TOPIC_ARN]
        assert alarm["Properties"]["OKActions"] == [TOPIC_ARN]


def test_latency_and_5xx_roll_deployments_back(alarms: Alarms) -> None:
    assert alarms.instances.rollback_alarm_names == [
        "prod-churn-model-model-latency-p99",
        "prod-churn-model-5xx-error-rate",
    ]
    assert alarms.serverless.rollback_alarm_names == [
        "prod-churn-serverless-model-latency-p99",
        "prod-churn-serverless-5xx-error-rate",
    ]
    # Every name a deployment may roll back on is an alarm of the template.
    assert set(alarms.instances.rollback_alarm_names) <= all_alarm_names(alarms.template)


# --- each alarm -----------------------------------------------------------------------------------------


def test_latency_p99_in_microseconds(alarms: Alarms) -> None:
    alarm = alarms.alarm("instances", "model-latency-p99")
    assert {key: alarm[key] for key in ("Namespace", "MetricName", "Dimensions", "ExtendedStatistic")} == {
        "Namespace": "AWS/SageMaker",
        "MetricName": "ModelLatency",
        "Dimensions": DIMENSIONS,
        "ExtendedStatistic": "p99",
    }
    assert "Statistic" not in alarm
    assert alarm["Threshold"] == 300 * 1000  # ModelLatency is in microseconds
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 3, 2)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmDescription"] == "churn-model: model latency p99 above 300 ms"


@pytest.mark.parametrize(("kind", "threshold"), [("5XX", 0.5), ("4XX", 5)])
def test_error_rates_are_percentages_of_invocations(alarms: Alarms, kind: str, threshold: float) -> None:
    alarm = alarms.alarm("instances", f"{kind.lower()}-error-rate")
    assert alarm["Threshold"] == threshold
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert "MetricName" not in alarm  # a math expression, not one metric

    def stat(metric_name: str, metric_id: str) -> dict[str, Any]:
        return {
            "Id": metric_id,
            "MetricStat": {
                "Metric": {"Dimensions": DIMENSIONS, "MetricName": metric_name, "Namespace": "AWS/SageMaker"},
                "Period": 300,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }

    (expression,) = [metric for metric in alarm["Metrics"] if "Expression" in metric]
    # No traffic is no error rate, not a division by zero.
    assert expression["Expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
    assert expression["Label"] == f"{kind} errors (% of invocations)"
    assert expression.get("ReturnData", True) is True
    assert sorted(
        (metric for metric in alarm["Metrics"] if "Expression" not in metric), key=lambda metric: metric["Id"]
    ) == [stat(f"Invocation{kind}Errors", "errors"), stat("Invocations", "invocations")]


def test_no_invocations_is_breaching_when_data_is_missing(alarms: Alarms) -> None:
    alarm = alarms.alarm("instances", "no-invocations")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/SageMaker",
        "Invocations",
        "Sum",
    )
    assert alarm["Dimensions"] == DIMENSIONS
    assert alarm["Period"] == 60 * 60
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)
    # No request means no data point: that is the condition itself.
    assert alarm["TreatMissingData"] == "breaching"


@pytest.mark.parametrize(
    ("what", "metric_name", "threshold"),
    [("cpu-utilization", "CPUUtilization", 80), ("memory-utilization", "MemoryUtilization", 85)],
)
def test_instance_utilization_on_average(
    alarms: Alarms, what: str, metric_name: str, threshold: float
) -> None:
    alarm = alarms.alarm("instances", what)
    assert {
        key: alarm[key]
        for key in (
            "Namespace",
            "MetricName",
            "Dimensions",
            "Statistic",
            "Period",
            "Threshold",
            "ComparisonOperator",
        )
    } == {
        "Namespace": "/aws/sagemaker/Endpoints",
        "MetricName": metric_name,
        "Dimensions": DIMENSIONS,
        "Statistic": "Average",
        "Period": 300,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
    }


def test_serverless_has_no_instance_alarms_and_none_on_missing_traffic(alarms: Alarms) -> None:
    for what in ("cpu-utilization", "memory-utilization", "no-invocations"):
        assert what not in alarms.serverless.alarms
    assert "prod-churn-serverless-no-invocations" not in all_alarm_names(alarms.template)
    latency = alarms.alarm("serverless", "model-latency-p99")
    assert latency["Dimensions"] == [
        {"Name": "EndpointName", "Value": "churn-serverless"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]


@pytest.mark.parametrize(("minutes", "window"), [(5, 5), (7, 10), (30, 30), (1440, 1440)])
def test_no_invocations_window_is_rounded_up_to_five_minutes(
    cdk_context: dict[str, Any], minutes: int, window: int
) -> None:
    stack = bare_stack(cdk_context)
    construct = EndpointAlarms(
        stack,
        "Alarms",
        endpoint_name="churn-model",
        variant_name="AllTraffic",
        alarm_name_prefix="dev-churn-model",
        thresholds=replace(THRESHOLDS, no_invocations_minutes=minutes),
        topic=sns.Topic.from_topic_arn(stack, "Topic", TOPIC_ARN),
        on_instances=False,
    )
    alarm = Template.from_stack(stack).to_json()["Resources"][logical_id(construct.alarms["no-invocations"])]
    assert alarm["Properties"]["Period"] == window * 60
    assert alarm["Properties"]["AlarmDescription"] == f"churn-model: no invocations for {window} minutes"


# --- monitoring violations --------------------------------------------------------------------------------


def test_the_violations_rule_uses_the_pattern_and_tells_the_topic_where_the_report_is(alarms: Alarms) -> None:
    rule = resource(alarms.template, logical_id(alarms.rule))["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {"MonitoringScheduleArn": [SCHEDULE_ARN]},
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == TOPIC_ARN
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {
        "detail-ProcessingJobName": "$.detail.ProcessingJobName",
        "detail-ExitMessage": "$.detail.ExitMessage",
        "detail-ProcessingOutputConfig-Outputs-0--S3Output-S3Uri": (
            "$.detail.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri"
        ),
    }
    assert transformer["InputTemplate"] == (
        '"churn-model: data-quality monitoring execution <detail-ProcessingJobName> found violations '
        '(<detail-ExitMessage>). Reports: <detail-ProcessingOutputConfig-Outputs-0--S3Output-S3Uri>"'
    )
    alarms.template.resource_count_is("AWS::Events::Rule", 1)


def test_the_violations_alarm_counts_the_rules_matches(alarms: Alarms) -> None:
    alarm = alarms.alarm("instances", "monitoring-violations")
    assert alarm["AlarmName"] == "prod-churn-model-monitoring-violations"
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/Events",
        "TriggeredRules",
        "Sum",
    )
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": logical_id(alarms.rule)}}]
    assert alarm["Period"] == 3600
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    # Not a rollback alarm: violations say the data drifted, not that the deployment is broken.
    assert alarm["AlarmName"] not in alarms.instances.rollback_alarm_names


def test_passes_the_compliance_packs(alarms: Alarms) -> None:
    assert alarms.nag_errors == []
