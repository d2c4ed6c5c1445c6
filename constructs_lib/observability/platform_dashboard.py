"""One CloudWatch dashboard per environment: endpoints, pipelines, training metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from constructs_lib.observability.endpoint_alarms import INSTANCE_NAMESPACE, INVOCATION_NAMESPACE
from constructs_lib.observability.pipeline_alarms import pipeline_metric

PERIOD = Duration.minutes(5)
TRAINING_NAMESPACE = "/aws/sagemaker/TrainingJobs"
DATA_QUALITY_NAMESPACE = "/aws/sagemaker/Endpoints/data-metric"
WIDTH = 24


@dataclass(frozen=True)
class DashboardEndpoint:
    name: str
    variant_name: str
    on_instances: bool


class PlatformDashboard(Construct):
    """Rows per endpoint (traffic and errors, latency, CPU and memory, baseline drift per feature), per
    pipeline (executions started, succeeded, failed) and training metrics of every training job (found by
    a search, since job names are chosen at run time). Exposes `dashboard`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        endpoints: Sequence[DashboardEndpoint] = (),
        pipeline_names: Sequence[str] = (),
        training_metric_names: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if not (endpoints or pipeline_names or training_metric_names):
            raise ValueError(
                f"dashboard {dashboard_name}: nothing to show (no endpoints, pipelines or metrics)"
            )
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name, default_interval=Duration.days(1)
        )
        for endpoint in endpoints:
            self.dashboard.add_widgets(*_endpoint_row(endpoint))
        if pipeline_names:
            self.dashboard.add_widgets(
                cloudwatch.TextWidget(markdown="## Pipelines", width=WIDTH, height=1),
                *(
                    cloudwatch.GraphWidget(
                        title=f"{name}: executions",
                        left=[
                            pipeline_metric(name, metric).with_(label=metric.removeprefix("Execution"))
                            for metric in ("ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed")
                        ],
                        width=WIDTH // min(len(pipeline_names), 3),
                    )
                    for name in pipeline_names
                ),
            )
        if training_metric_names:
            self.dashboard.add_widgets(
                cloudwatch.TextWidget(
                    markdown="## Training metrics (every training job)", width=WIDTH, height=1
                ),
                *(
                    cloudwatch.GraphWidget(
                        title=f"Training: {metric}",
                        left=[
                            cloudwatch.MathExpression(
                                expression=f"SEARCH('{{{TRAINING_NAMESPACE},Host}} MetricName=\"{metric}\"', "
                                "'Maximum', 300)",
                                using_metrics={},
                                label=metric,
                                period=PERIOD,
                            )
                        ],
                        width=WIDTH // min(len(training_metric_names), 3),
                    )
                    for metric in training_metric_names
                ),
            )


def _endpoint_row(endpoint: DashboardEndpoint) -> list[cloudwatch.IWidget]:
    dimensions = {"EndpointName": endpoint.name, "VariantName": endpoint.variant_name}

    def metric(name: str, statistic: str, namespace: str = INVOCATION_NAMESPACE) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=PERIOD,
            label=f"{name} ({statistic})",
        )

    widgets: list[cloudwatch.IWidget] = [
        cloudwatch.TextWidget(markdown=f"## Endpoint {endpoint.name}", width=WIDTH, height=1),
        cloudwatch.GraphWidget(
            title="Invocations and errors",
            left=[metric("Invocations", "Sum")],
            right=[metric("Invocation4XXErrors", "Sum"), metric("Invocation5XXErrors", "Sum")],
            width=6,
        ),
        cloudwatch.GraphWidget(
            title="Model latency (microseconds)",
            left=[metric("ModelLatency", "p50"), metric("ModelLatency", "p99")],
            width=6,
        ),
    ]
    if endpoint.on_instances:
        widgets.append(
            cloudwatch.GraphWidget(
                title="CPU and memory (%)",
                left=[
                    metric("CPUUtilization", "Average", INSTANCE_NAMESPACE),
                    metric("MemoryUtilization", "Average", INSTANCE_NAMESPACE),
                ],
                width=6,
            )
        )
        widgets.append(
            cloudwatch.GraphWidget(
                title="Baseline drift per feature (data quality)",
                left=[
                    cloudwatch.MathExpression(
                        expression=(
                            f"SEARCH('{{{DATA_QUALITY_NAMESPACE},EndpointName,ScheduleName}} "
                            f"EndpointName=\"{endpoint.name}\" feature_baseline_drift', 'Sum', 3600)"
                        ),
                        using_metrics={},
                        label="drift",
                        period=Duration.hours(1),
                    )
                ],
                width=6,
            )
        )
    return widgets
