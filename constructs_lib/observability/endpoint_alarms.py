"""CloudWatch alarms on one endpoint, to the environment's alarm topic."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct

INVOCATION_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
PERIOD = Duration.minutes(5)
# Two of three 5-minute periods: one noisy period does not page anybody.
EVALUATION_PERIODS = 3
DATAPOINTS_TO_ALARM = 2
# A deployment that trips these during its baking period is rolled back.
ROLLBACK_ALARMS = ("model-latency-p99", "5xx-error-rate")


@dataclass(frozen=True)
class EndpointThresholds:
    model_latency_p99_ms: float
    error_5xx_rate_percent: float
    error_4xx_rate_percent: float
    no_invocations_minutes: int | None
    cpu_utilization_percent: float
    memory_utilization_percent: float


class EndpointAlarms(Construct):
    """Alarms named `<alarm_name_prefix>-<what>`: model latency p99, 5XX and 4XX rates (percent of
    invocations), no invocations for a while, and on instances CPU and memory utilization. Each notifies
    `topic` when it fires and when it clears. `add_violations_alarm` adds one on monitoring violations.
    Exposes `alarms` (by what) and `rollback_alarm_names` (latency and 5XX: a deployment that trips them is
    rolled back).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant_name: str,
        alarm_name_prefix: str,
        thresholds: EndpointThresholds,
        topic: sns.ITopic,
        on_instances: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = alarm_name_prefix
        self._topic = topic
        self._endpoint_name = endpoint_name
        dimensions = {"EndpointName": endpoint_name, "VariantName": variant_name}
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.alarms_by_name: dict[str, cloudwatch.Alarm] = {}

        def invocation_metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=INVOCATION_NAMESPACE,
                metric_name=name,
                dimensions_map=dimensions,
                statistic=statistic,
                period=PERIOD,
            )

        invocations = invocation_metric("Invocations", "Sum")
        self._add(
            "model-latency-p99",
            invocation_metric("ModelLatency", "p99"),
            # ModelLatency is in microseconds.
            threshold=thresholds.model_latency_p99_ms * 1000,
            description=f"{endpoint_name}: model latency p99 above {thresholds.model_latency_p99_ms:g} ms",
        )
        for kind, threshold in (
            ("5XX", thresholds.error_5xx_rate_percent),
            ("4XX", thresholds.error_4xx_rate_percent),
        ):
            rate = cloudwatch.MathExpression(
                # No traffic is no error rate, not a division by zero.
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                using_metrics={
                    "errors": invocation_metric(f"Invocation{kind}Errors", "Sum"),
                    "invocations": invocations,
                },
                label=f"{kind} errors (% of invocations)",
                period=PERIOD,
            )
            self._add(
                f"{kind.lower()}-error-rate",
                rate,
                threshold=threshold,
                description=f"{endpoint_name}: more than {threshold:g}% of invocations answered {kind}",
            )
        if thresholds.no_invocations_minutes is not None:
            window = Duration.minutes(math.ceil(thresholds.no_invocations_minutes / 5) * 5)
            self._add(
                "no-invocations",
                invocation_metric("Invocations", "Sum").with_(period=window),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                # No request means no data point: that is exactly the condition.
                missing=cloudwatch.TreatMissingData.BREACHING,
                evaluation_periods=1,
                datapoints=1,
                description=f"{endpoint_name}: no invocations for {window.to_minutes()} minutes",
            )
        if on_instances:
            for metric_name, what, threshold in (
                ("CPUUtilization", "cpu-utilization", thresholds.cpu_utilization_percent),
                ("MemoryUtilization", "memory-utilization", thresholds.memory_utilization_percent),
            ):
                self._add(
                    what,
                    cloudwatch.Metric(
                        namespace=INSTANCE_NAMESPACE,
                        metric_name=metric_name,
                        dimensions_map=dimensions,
                        statistic="Average",
                        period=PERIOD,
                    ),
                    threshold=threshold,
                    description=f"{endpoint_name}: {metric_name} above {threshold:g}% on average",
                )
        self.rollback_alarm_names = [f"{alarm_name_prefix}-{what}" for what in ROLLBACK_ALARMS]

    def add_violations_alarm(self, violations_pattern: events.EventPattern) -> events.Rule:
        """An EventBridge rule on monitoring executions with violations, which tells the topic where the
        report is, and an alarm on the rule's matches (the endpoint's alarm list shows it)."""
        rule = events.Rule(
            self,
            "Violations",
            description=f"{self._endpoint_name}: data-quality monitoring found violations",
            event_pattern=violations_pattern,
        )
        rule.add_target(
            targets.SnsTopic(
                self._topic,
                message=events.RuleTargetInput.from_text(
                    f"{self._endpoint_name}: data-quality monitoring execution "
                    f"{events.EventField.from_path('$.detail.ProcessingJobName')} found violations "
                    f"({events.EventField.from_path('$.detail.ExitMessage')}). Reports: "
                    f"{events.EventField.from_path('$.detail.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri')}"
                ),
            )
        )
        self._add(
            "monitoring-violations",
            cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="TriggeredRules",
                dimensions_map={"RuleName": rule.rule_name},
                statistic="Sum",
                period=Duration.hours(1),
            ),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            datapoints=1,
            description=f"{self._endpoint_name}: the data-quality monitor found violations of the baseline",
        )
        return rule

    def _add(
        self,
        what: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        evaluation_periods: int = EVALUATION_PERIODS,
        datapoints: int = DATAPOINTS_TO_ALARM,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            what,
            alarm_name=f"{self._prefix}-{what}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self._topic))
        alarm.add_ok_action(actions.SnsAction(self._topic))
        self.alarms[what] = alarm
        self.alarms_by_name[f"{self._prefix}-{what}"] = alarm
