"""The guard's pure parts: reading the event, finding a metric in a report, SNS-safe text."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from functions.approval_guard.handler import (
    MAX_REPORT_BYTES,
    Baseline,
    Comparison,
    MalformedEventError,
    StateChange,
    clip,
    finite_number,
    metric_sources,
    parse_event,
    read_json_report,
    search_metric,
    subject_line,
)
from tests.functions.support import CLASSIFIER, state_change

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-classifier/3"


def test_a_state_change_event_is_read() -> None:
    assert parse_event(state_change(ARN, CLASSIFIER, version=3)) == StateChange(
        model_package_arn=ARN, group=CLASSIFIER, status="Approved", version=3
    )


def test_the_version_is_optional_in_the_event() -> None:
    event = state_change(ARN, CLASSIFIER)
    del event["detail"]["ModelPackageVersion"]

    assert parse_event(event).version is None


def test_a_huge_foreign_value_is_clipped_in_the_reason() -> None:
    with pytest.raises(MalformedEventError) as raised:
        parse_event({"source": "x" * 10_000})

    assert len(str(raised.value)) < 200


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"binary_classification_metrics": {"accuracy": {"value": 0.93, "standard_deviation": "NaN"}}}, 0.93),
        ({"multiclass_classification_metrics": {"accuracy": {"value": 1}}}, 1.0),
        ({"regression_metrics": {"mse": {"value": 1.2}, "accuracy": {"value": 1.1}}}, 1.1),
        ({"metrics": {"accuracy": {"value": 0.91}}}, 0.91),
        ({"accuracy": 0.8}, 0.8),
        # The shallowest wins, whatever the order of keys.
        ({"detail": {"deeper": {"accuracy": 0.1}}, "metrics": {"accuracy": 0.7}}, 0.7),
        ({"metrics": {"accuracy": 0.7}, "detail": {"deeper": {"accuracy": 0.1}}}, 0.7),
        # An unusable value is passed over for a usable one elsewhere.
        ({"accuracy": {"value": "NaN"}, "metrics": {"accuracy": {"value": 0.6}}}, 0.6),
        ({"accuracy": float("inf"), "metrics": {"accuracy": 0.5}}, 0.5),
        ({"accuracy": True}, None),
        ({"accuracy": "0.9"}, None),
        ({"accuracy": {"value": None}}, None),
        ({"accuracy": 10**400}, None),
        ({"metrics": [{"accuracy": 0.9}]}, None),
        ({"Accuracy": 0.9}, None),
        ([{"accuracy": 0.9}], None),
        ("accuracy", None),
    ],
)
def test_a_metric_is_found_in_nested_reports(document: object, expected: float | None) -> None:
    assert search_metric(document, "accuracy") == expected


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [(0.5, 0.5), (3, 3.0), ({"value": 2}, 2.0), (float("nan"), None), (False, None), ({"val": 1}, None)],
)
def test_a_finite_number(candidate: object, expected: float | None) -> None:
    assert finite_number(candidate) == expected


def test_model_quality_statistics_are_read_first() -> None:
    source = {"ContentType": "application/json", "S3Uri": "s3://b/k"}
    model_metrics: dict[str, Any] = {
        "Bias": {"Report": source, "PostTrainingReport": source},
        "Explainability": {"Report": source},
        "ModelDataQuality": {"Statistics": source},
        "ModelQuality": {"Constraints": source, "Statistics": source},
    }

    labels = [label for label, _ in metric_sources(model_metrics)]

    assert labels == [
        "ModelMetrics.ModelQuality.Statistics",
        "ModelMetrics.Bias.PostTrainingReport",
        "ModelMetrics.Bias.Report",
        "ModelMetrics.Explainability.Report",
        "ModelMetrics.ModelDataQuality.Statistics",
        "ModelMetrics.ModelQuality.Constraints",
    ]


@pytest.mark.parametrize(
    ("comparison", "value", "passes", "judgement"),
    [
        (Comparison.GREATER_THAN_OR_EQUAL, 0.9, True, "m 0.9 meets the baseline 0.9"),
        (Comparison.GREATER_THAN_OR_EQUAL, 0.89, False, "m 0.89 is below the baseline 0.9"),
        (Comparison.LESS_THAN_OR_EQUAL, 0.9, True, "m 0.9 meets the baseline 0.9"),
        (Comparison.LESS_THAN_OR_EQUAL, 0.91, False, "m 0.91 is above the baseline 0.9"),
    ],
)
def test_a_baseline_compares_inclusively(
    comparison: Comparison, value: float, passes: bool, judgement: str
) -> None:
    baseline = Baseline(metric="m", threshold=0.9, comparison=comparison)

    assert baseline.passes(value) is passes
    assert baseline.judgement(value) == f"{judgement} ({comparison.value})"


def test_a_subject_is_one_line_of_ascii_under_100_characters() -> None:
    subject = subject_line("Model approval guard: modèle\nv1 " + "x" * 200)

    assert len(subject) == 99
    assert subject.isascii()
    assert "\n" not in subject
    assert subject.startswith("Model approval guard: mod?le?v1 ")


def test_clip_keeps_short_text_and_marks_cut_text() -> None:
    assert clip("short", 10) == "short"
    assert clip("a" * 20, 10) == "aaaaaaa..."


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"metrics": {"accuracy": 0.9}}', ({"metrics": {"accuracy": 0.9}}, None)),
        (b" " * (MAX_REPORT_BYTES + 10), (None, f"s3://b/k.json is too big (over {MAX_REPORT_BYTES} bytes)")),
    ],
)
def test_a_report_of_unknown_length_is_read_no_further_than_the_limit(
    boto_session: boto3.Session, content: bytes, expected: tuple[object, str | None]
) -> None:
    s3 = boto_session.client("s3")
    with Stubber(s3) as stub:
        # No ContentLength: the guard cannot trust the header, only what it reads.
        stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(content), len(content))})

        assert read_json_report(s3, "s3://b/k.json") == expected


@pytest.mark.parametrize("uri", ["https://b.s3.amazonaws.com/k.json", "s3://b", "s3://b/", "s3:///k.json"])
def test_a_uri_that_is_not_an_s3_object_is_not_fetched(boto_session: boto3.Session, uri: str) -> None:
    s3 = boto_session.client("s3")
    with Stubber(s3):  # no responses queued: any call would fail the test
        assert read_json_report(s3, uri) == (None, f"{uri} is not an s3:// URI")
