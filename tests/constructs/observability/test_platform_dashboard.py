"""PlatformDashboard: a row per endpoint (traffic and errors, latency, on instances CPU and memory and
baseline drift), per pipeline (executions) and training metrics found by a search."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.observability.platform_dashboard import DashboardEndpoint, PlatformDashboard
from tests.constructs.support import bare_stack, logical_id, resource, synthesize

TOKEN = "<token>"
ENDPOINTS = (
    DashboardEndpoint(name="churn-model", variant_name="AllTraffic", on_instances=True),
    DashboardEndpoint(name="churn-serverless", variant_name="AllTraffic", on_instances=False),
)
PIPELINES = ("churn-model-build", "churn-batch-scoring")
TRAINING_METRICS = ("validation:auc",)


def render(template: Template, dashboard: PlatformDashboard) -> dict[str, Any]:
    """The dashboard body as CloudWatch reads it, with every CloudFormation token written as TOKEN."""
    body = resource(template, logical_id(dashboard.dashboard))["Properties"]["DashboardBody"]
    if isinstance(body, str):
        text = body
    else:
        separator, parts = body["Fn::Join"]
        text = separator.join(part if isinstance(part, str) else TOKEN for part in parts)
    rendered: dict[str, Any] = json.loads(text)
    return rendered


@dataclass(frozen=True)
class Dashboard:
    template: Template
    nag_errors: list[str]
    dashboard: PlatformDashboard
    body: dict[str, Any]

    @property
    def widgets(self) -> list[dict[str, Any]]:
        widgets: list[dict[str, Any]] = self.body["widgets"]
        return widgets

    def titled(self, title: str) -> list[dict[str, Any]]:
        return [widget for widget in self.widgets if widget["properties"].get("title") == title]

    def texts(self) -> list[str]:
        return [widget["properties"]["markdown"] for widget in self.widgets if widget["type"] == "text"]


@pytest.fixture(scope="module")
def dashboard(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Dashboard:
    outdir = tmp_path_factory.mktemp("dashboard")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    construct = PlatformDashboard(
        stack,
        "Dashboard",
        dashboard_name="staging-sagemaker-platform",
        endpoints=ENDPOINTS,
        pipeline_names=PIPELINES,
        training_metric_names=TRAINING_METRICS,
    )
    synthesized = synthesize(stack, outdir)
    return Dashboard(
        synthesized.template, synthesized.nag_errors, construct, render(synthesized.template, construct)
    )


def endpoint_metric(namespace: str, name: str, endpoint: str, stat: str, **extra: str) -> list[Any]:
    options = {"label": f"{name} ({stat})", **({"stat": stat} if stat != "Average" else {}), **extra}
    return [namespace, name, "EndpointName", endpoint, "VariantName", "AllTraffic", options]


def test_one_named_dashboard_over_a_day(dashboard: Dashboard) -> None:
    dashboard.template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    written = resource(dashboard.template, logical_id(dashboard.dashboard.dashboard))["Properties"]
    assert written["DashboardName"] == "staging-sagemaker-platform"
    assert dashboard.body["start"] == "-P1D"


def test_rows_in_order(dashboard: Dashboard) -> None:
    assert dashboard.texts() == [
        "## Endpoint churn-model",
        "## Endpoint churn-serverless",
        "## Pipelines",
        "## Training metrics (every training job)",
    ]
    # Every metric widget shows the stack's region.
    assert {widget["properties"]["region"] for widget in dashboard.widgets if widget["type"] == "metric"} == {
        TOKEN
    }


# --- endpoints --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["churn-model", "churn-serverless"])
def test_traffic_and_errors_per_endpoint(dashboard: Dashboard, endpoint: str) -> None:
    (widget,) = [
        widget
        for widget in dashboard.titled("Invocations and errors")
        if widget["properties"]["metrics"][0][3] == endpoint
    ]
    assert widget["width"] == 6
    assert widget["properties"]["metrics"] == [
        endpoint_metric("AWS/SageMaker", "Invocations", endpoint, "Sum"),
        endpoint_metric("AWS/SageMaker", "Invocation4XXErrors", endpoint, "Sum", yAxis="right"),
        endpoint_metric("AWS/SageMaker", "Invocation5XXErrors", endpoint, "Sum", yAxis="right"),
    ]


@pytest.mark.parametrize("endpoint", ["churn-model", "churn-serverless"])
def test_latency_percentiles_per_endpoint(dashboard: Dashboard, endpoint: str) -> None:
    (widget,) = [
        widget
        for widget in dashboard.titled("Model latency (microseconds)")
        if widget["properties"]["metrics"][0][3] == endpoint
    ]
    assert widget["properties"]["metrics"] == [
        endpoint_metric("AWS/SageMaker", "ModelLatency", endpoint, "p50"),
        endpoint_metric("AWS/SageMaker", "ModelLatency", endpoint, "p99"),
    ]


def test_cpu_and_memory_only_for_the_endpoint_on_instances(dashboard: Dashboard) -> None:
    (widget,) = dashboard.titled("CPU and memory (%)")
    assert widget["properties"]["metrics"] == [
        endpoint_metric("/aws/sagemaker/Endpoints", "CPUUtilization", "churn-model", "Average"),
        endpoint_metric("/aws/sagemaker/Endpoints", "MemoryUtilization", "churn-model", "Average"),
    ]


def test_baseline_drift_searches_the_endpoints_data_quality_metrics(dashboard: Dashboard) -> None:
    (widget,) = dashboard.titled("Baseline drift per feature (data quality)")
    assert widget["properties"]["metrics"] == [
        [
            {
                "label": "drift",
                "expression": "SEARCH('{/aws/sagemaker/Endpoints/data-metric,EndpointName,ScheduleName} "
                "EndpointName=\"churn-model\" feature_baseline_drift', 'Sum', 3600)",
                "period": 3600,
            }
        ]
    ]


def test_an_endpoint_row_has_three_or_five_widgets(dashboard: Dashboard) -> None:
    headers = [index for index, widget in enumerate(dashboard.widgets) if widget["type"] == "text"]
    assert headers[1] - headers[0] == 5  # header, traffic, latency, CPU and memory, drift
    assert headers[2] - headers[1] == 3  # header, traffic, latency (serverless)


# --- pipelines and training --------------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_executions_per_pipeline(dashboard: Dashboard, pipeline: str) -> None:
    (widget,) = dashboard.titled(f"{pipeline}: executions")
    assert widget["width"] == 12  # two pipelines share the row
    assert widget["properties"]["metrics"] == [
        [
            "AWS/Sagemaker/ModelBuildingPipeline",
            f"Execution{what}",
            "PipelineName",
            pipeline,
            {"label": what, "stat": "Sum"},
        ]
        for what in ("Started", "Succeeded", "Failed")
    ]


def test_training_metrics_search_every_training_job(dashboard: Dashboard) -> None:
    (widget,) = dashboard.titled("Training: validation:auc")
    assert widget["width"] == 24
    assert widget["properties"]["metrics"] == [
        [
            {
                "label": "validation:auc",
                "expression": "SEARCH('{/aws/sagemaker/TrainingJobs,Host} MetricName=\"validation:auc\"', "
                "'Maximum', 300)",
            }
        ]
    ]


@pytest.mark.parametrize(("count", "width"), [(1, 24), (2, 12), (3, 8), (5, 8)])
def test_training_widgets_share_rows_up_to_three(cdk_context: dict[str, Any], count: int, width: int) -> None:
    stack = bare_stack(cdk_context)
    construct = PlatformDashboard(
        stack,
        "Dashboard",
        dashboard_name="dev-sagemaker-platform",
        training_metric_names=[f"metric{index}" for index in range(count)],
    )
    body = render(Template.from_stack(stack), construct)
    metrics = [widget for widget in body["widgets"] if widget["type"] == "metric"]
    assert [widget["properties"]["title"] for widget in metrics] == [
        f"Training: metric{i}" for i in range(count)
    ]
    assert {widget["width"] for widget in metrics} == {width}
    assert not [text for text in body["widgets"] if "Pipelines" in text["properties"].get("markdown", "")]


# --- refusals and compliance -------------------------------------------------------------------------------


def test_an_empty_dashboard_is_refused(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="dashboard dev-sagemaker-platform: nothing to show"):
        PlatformDashboard(bare_stack(cdk_context), "Dashboard", dashboard_name="dev-sagemaker-platform")


def test_passes_the_compliance_packs(dashboard: Dashboard) -> None:
    assert dashboard.nag_errors == []


def test_the_rendering_keeps_only_the_region_as_a_token(dashboard: Dashboard) -> None:
    body = resource(dashboard.template, logical_id(dashboard.dashboard.dashboard))["Properties"][
        "DashboardBody"
    ]
    tokens = [part for part in body["Fn::Join"][1] if not isinstance(part, str)]
    assert tokens and all(token == {"Ref": "AWS::Region"} for token in tokens)
