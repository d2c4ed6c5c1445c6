"""The approval guard end to end against moto: SageMaker's model registry, S3 reports, the SNS topic."""

from __future__ import annotations

import copy
import logging
from typing import Any, Literal

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from functions.approval_guard.handler import (
    MAX_APPROVAL_DESCRIPTION,
    MAX_REPORT_BYTES,
    Clients,
    handler,
)
from tests.functions.support import (
    BUCKET,
    CLASSIFIER,
    JSON,
    REGRESSOR,
    UNGUARDED,
    Registry,
    model_quality,
    state_change,
)

BINARY_CLASSIFICATION_REPORT = {
    "version": 0.0,
    "dataset": {"item_count": 1000, "evaluation_time": "2026-01-01T12:00:00Z"},
    "binary_classification_metrics": {
        "accuracy": {"value": 0.93, "standard_deviation": "NaN"},
        "recall": {"value": 0.88, "standard_deviation": 0.01},
    },
}


STATUS_AFTER = {"passed": "Approved", "rejected": "Rejected"}


def run(registry: Registry, event: object) -> dict[str, Any]:
    return handler(event, None, clients=registry.clients)


# --- passing and rejecting ---------------------------------------------------------------------------


def test_a_package_that_meets_its_baseline_stays_approved_and_is_announced(registry: Registry) -> None:
    uri = registry.put_report("evaluation/v1/statistics.json", BINARY_CLASSIFICATION_REPORT)
    event = registry.register(model_metrics=model_quality(uri))

    summary = run(registry, event)

    assert summary["action"] == "passed"
    assert summary["value"] == 0.93
    assert summary["reason"] == "accuracy 0.93 meets the baseline 0.9 (greater_than_or_equal)"
    assert summary["source"] == f"ModelMetrics.ModelQuality.Statistics ({uri})"
    package = registry.package(event)
    assert package["ModelApprovalStatus"] == "Approved"
    assert "ApprovalDescription" not in package
    [(_, message, subject, attributes, _)] = registry.notifications()
    assert subject == f"Model approval guard: {CLASSIFIER} v1 passed the gate"
    assert "stays Approved" in message
    assert event["detail"]["ModelPackageArn"] in message
    assert attributes is not None
    assert attributes["action"]["Value"] == "passed"


def test_a_package_below_its_baseline_is_rejected_with_the_reason(registry: Registry) -> None:
    report = copy.deepcopy(BINARY_CLASSIFICATION_REPORT)
    report["binary_classification_metrics"]["accuracy"]["value"] = 0.82  # type: ignore[index]
    uri = registry.put_report("evaluation/v1/statistics.json", report)
    registry.register(model_metrics=model_quality(uri))  # version 1, approved earlier
    event = registry.register(model_metrics=model_quality(uri))  # version 2

    summary = run(registry, event)

    reason = "accuracy 0.82 is below the baseline 0.9 (greater_than_or_equal)"
    assert summary["action"] == "rejected"
    assert summary["value"] == 0.82
    assert summary["reason"] == reason
    package = registry.package(event)
    assert package["ModelApprovalStatus"] == "Rejected"
    assert package["ApprovalDescription"] == f"Rejected by the approval guard: {reason}"
    [(_, message, subject, attributes, _)] = registry.notifications()
    assert subject == f"Model approval guard: {CLASSIFIER} v2 REJECTED"
    for expected in (CLASSIFIER, "Version: 2", event["detail"]["ModelPackageArn"], reason):
        assert expected in message
    assert attributes is not None
    assert attributes["action"]["Value"] == "rejected"


def test_the_version_comes_from_the_registry_when_the_event_lacks_it(registry: Registry) -> None:
    registry.register(metadata={"accuracy": "0.95"})
    event = registry.register(metadata={"accuracy": "0.95"})
    del event["detail"]["ModelPackageVersion"]

    summary = run(registry, event)

    assert summary["model_package_version"] == 2
    [(_, message, subject, _, _)] = registry.notifications()
    assert subject == f"Model approval guard: {CLASSIFIER} v2 passed the gate"
    assert "Version: 2" in message


def test_a_package_without_any_metric_is_rejected_as_missing(registry: Registry) -> None:
    event = registry.register()

    summary = run(registry, event)

    assert summary["action"] == "rejected"
    assert "value" not in summary
    package = registry.package(event)
    assert package["ModelApprovalStatus"] == "Rejected"
    assert package["ApprovalDescription"] == (
        "Rejected by the approval guard: accuracy is missing (CustomerMetadataProperties has no accuracy)"
    )
    assert len(registry.notifications()) == 1


@pytest.mark.parametrize(
    ("recorded", "action", "reason"),
    [
        ("0.95", "passed", "accuracy 0.95 meets the baseline 0.9"),
        (" 0.9 ", "passed", "accuracy 0.9 meets the baseline 0.9"),
        ("0.5", "rejected", "accuracy 0.5 is below the baseline 0.9"),
        ("NaN", "rejected", "CustomerMetadataProperties[accuracy] = 'NaN' is not a finite number"),
        ("inf", "rejected", "CustomerMetadataProperties[accuracy] = 'inf' is not a finite number"),
        ("high", "rejected", "CustomerMetadataProperties[accuracy] = 'high' is not a finite number"),
    ],
)
def test_the_metric_falls_back_to_customer_metadata(
    registry: Registry, recorded: str, action: str, reason: str
) -> None:
    event = registry.register(metadata={"accuracy": recorded, "owner": "churn-team"})

    summary = run(registry, event)

    assert summary["action"] == action
    assert reason in summary["reason"]
    assert registry.package(event)["ModelApprovalStatus"] == (
        "Approved" if action == "passed" else "Rejected"
    )
    if action == "passed":
        assert summary["source"] == "CustomerMetadataProperties"


def test_a_report_in_s3_wins_over_customer_metadata(registry: Registry) -> None:
    uri = registry.put_report("evaluation/statistics.json", {"metrics": {"accuracy": {"value": 0.7}}})
    event = registry.register(model_metrics=model_quality(uri), metadata={"accuracy": "0.99"})

    summary = run(registry, event)

    assert summary["action"] == "rejected"
    assert summary["value"] == 0.7


@pytest.mark.parametrize(
    ("rmse", "action", "reason"),
    [
        (2.0, "passed", "rmse 2.0 meets the baseline 2.5 (less_than_or_equal)"),
        (2.5, "passed", "rmse 2.5 meets the baseline 2.5 (less_than_or_equal)"),
        (3.1, "rejected", "rmse 3.1 is above the baseline 2.5 (less_than_or_equal)"),
    ],
)
def test_a_less_than_or_equal_baseline(registry: Registry, rmse: float, action: str, reason: str) -> None:
    report = {"regression_metrics": {"mse": {"value": rmse**2}, "rmse": {"value": rmse}}}
    uri = registry.put_report("regression/statistics.json", report)
    event = registry.register(REGRESSOR, model_metrics=model_quality(uri))

    summary = run(registry, event)

    assert summary["action"] == action
    assert summary["reason"] == reason
    assert registry.package(event)["ModelApprovalStatus"] == (
        "Approved" if action == "passed" else "Rejected"
    )


def test_model_quality_statistics_come_before_other_reports(registry: Registry) -> None:
    statistics = registry.put_report("statistics.json", {"metrics": {"accuracy": {"value": 0.85}}})
    evaluation = registry.put_report("evaluation.json", {"metrics": {"accuracy": {"value": 0.99}}})
    event = registry.register(
        model_metrics={
            "Bias": {"Report": {"ContentType": JSON, "S3Uri": evaluation}},
            "ModelQuality": {
                "Constraints": {"ContentType": JSON, "S3Uri": evaluation},
                "Statistics": {"ContentType": JSON, "S3Uri": statistics},
            },
        }
    )

    summary = run(registry, event)

    assert summary["action"] == "rejected"
    assert summary["source"] == f"ModelMetrics.ModelQuality.Statistics ({statistics})"


def test_other_json_reports_are_searched_when_the_statistics_lack_the_metric(registry: Registry) -> None:
    statistics = registry.put_report("statistics.json", {"metrics": {"recall": {"value": 0.5}}})
    explainability = registry.put_report("shap.csv", b"feature,value\nage,0.3\n")
    evaluation = registry.put_report("evaluation.json", {"metrics": {"accuracy": {"value": 0.95}}})
    event = registry.register(
        model_metrics={
            "ModelQuality": {"Statistics": {"ContentType": JSON, "S3Uri": statistics}},
            "Explainability": {"Report": {"ContentType": "text/csv", "S3Uri": explainability}},
            "ModelDataQuality": {
                "Statistics": {"ContentType": "application/json; charset=utf-8", "S3Uri": evaluation}
            },
        }
    )

    summary = run(registry, event)

    assert summary["action"] == "passed"
    assert summary["value"] == 0.95
    assert summary["source"] == f"ModelMetrics.ModelDataQuality.Statistics ({evaluation})"


# --- unreadable reports ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"accuracy: 0.95\n", "is not valid JSON"),
        (b"\xff\xfe\x00garbage", "is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON"),  # deeper than the parser goes
        (b" " * MAX_REPORT_BYTES + b'{"accuracy": 0.95}', f"is too big ({MAX_REPORT_BYTES + 18} bytes"),
        (b'{"metrics": {"accuracy": {"value": "0.95"}}}', "has no finite accuracy"),
        (b'{"metrics": {"accuracy": {"value": NaN}}}', "has no finite accuracy"),
        (b'{"metrics": [{"accuracy": 0.95}]}', "has no finite accuracy"),
    ],
)
def test_an_unusable_report_counts_as_a_missing_metric(
    registry: Registry, content: bytes, problem: str
) -> None:
    uri = registry.put_report("evaluation/statistics.json", content)
    event = registry.register(model_metrics=model_quality(uri))

    summary = run(registry, event)

    assert summary["action"] == "rejected"
    package = registry.package(event)
    assert package["ModelApprovalStatus"] == "Rejected"
    description = package["ApprovalDescription"]
    assert description.startswith("Rejected by the approval guard: accuracy is missing (")
    assert uri in description
    assert problem in description


def test_a_report_that_does_not_exist_counts_as_a_missing_metric(registry: Registry) -> None:
    uri = f"s3://{BUCKET}/evaluation/never-written.json"
    event = registry.register(model_metrics=model_quality(uri))

    summary = run(registry, event)

    assert summary["action"] == "rejected"
    assert f"{uri} does not exist (NoSuchKey)" in registry.package(event)["ApprovalDescription"]


def test_a_report_that_is_not_json_by_content_type_is_not_read(registry: Registry) -> None:
    uri = registry.put_report("evaluation/statistics.csv", {"accuracy": 0.99})  # JSON inside, CSV declared
    event = registry.register(model_metrics=model_quality(uri, content_type="text/csv"))

    summary = run(registry, event)

    assert summary["action"] == "rejected"
    assert "is not JSON (content type 'text/csv')" in summary["reason"]


def test_a_long_reason_is_clipped_to_the_approval_description_limit(registry: Registry) -> None:
    reports = {
        category: {
            report: {"ContentType": JSON, "S3Uri": f"s3://{BUCKET}/{category}/{report}/{'x' * 300}.json"}
            for report in ("Statistics", "Constraints")
        }
        for category in ("ModelQuality", "ModelDataQuality")
    }
    event = registry.register(model_metrics=reports)

    summary = run(registry, event)

    assert len(summary["reason"]) > MAX_APPROVAL_DESCRIPTION
    description = registry.package(event)["ApprovalDescription"]
    assert len(description) == MAX_APPROVAL_DESCRIPTION
    assert description.endswith("...")


# --- what the guard leaves alone ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_other_statuses_are_ignored(registry: Registry, status: str) -> None:
    event = registry.register(status=status)  # no metric: the guard would reject it if it looked

    summary = run(registry, event)

    assert summary == {
        "action": "ignored",
        "reason": f"status is {status}, not Approved",
        "model_package_arn": event["detail"]["ModelPackageArn"],
        "model_package_group": CLASSIFIER,
        "model_package_version": 1,
    }
    assert registry.package(event)["ModelApprovalStatus"] == status
    assert registry.notifications() == []


def test_a_group_without_a_baseline_is_ignored(registry: Registry) -> None:
    event = registry.register(UNGUARDED)

    summary = run(registry, event)

    assert summary["action"] == "ignored"
    assert summary["reason"] == f"group {UNGUARDED} has no baseline"
    assert registry.package(event)["ModelApprovalStatus"] == "Approved"
    assert registry.notifications() == []


@pytest.mark.parametrize("now", ["PendingManualApproval", "Rejected"])
def test_a_package_whose_status_changed_again_is_left_to_the_person(
    registry: Registry, now: Literal["PendingManualApproval", "Rejected"]
) -> None:
    event = registry.register()  # approved, no metric
    registry.set_status(event, now)  # someone changed their mind before the guard ran

    summary = run(registry, event)

    assert summary["action"] == "ignored"
    assert summary["reason"] == f"status is now {now}, no longer Approved"
    package = registry.package(event)
    assert package["ModelApprovalStatus"] == now
    assert "ApprovalDescription" not in package
    assert registry.notifications() == []


def test_the_guards_own_rejection_event_is_ignored(registry: Registry) -> None:
    event = registry.register()
    assert run(registry, event)["action"] == "rejected"

    rejected = state_change(event["detail"]["ModelPackageArn"], CLASSIFIER, status="Rejected")
    assert run(registry, rejected)["action"] == "ignored"
    assert len(registry.notifications()) == 1


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in mapping.items() if name != key}


def _with_detail(event: dict[str, Any], name: str, value: object) -> dict[str, Any]:
    return {**event, "detail": {**event["detail"], name: value}}


MALFORMED_EVENTS: list[tuple[str, Any, str]] = [
    ("none", lambda event: None, "event is a NoneType, not an object"),
    ("list", lambda event: [event], "event is a list, not an object"),
    ("string", lambda event: "Approved", "event is a str, not an object"),
    ("wrong source", lambda event: {**event, "source": "custom.pipeline"}, "source is 'custom.pipeline'"),
    (
        "wrong detail-type",
        lambda event: {**event, "detail-type": "SageMaker Model State Change"},
        "detail-type is 'SageMaker Model State Change'",
    ),
    ("no detail", lambda event: _without(event, "detail"), "detail is missing or not an object"),
    ("detail a string", lambda event: {**event, "detail": "{}"}, "detail is missing or not an object"),
    (
        "no ModelPackageArn",
        lambda event: {**event, "detail": _without(event["detail"], "ModelPackageArn")},
        "detail.ModelPackageArn is missing",
    ),
    (
        "ModelPackageArn a number",
        lambda event: _with_detail(event, "ModelPackageArn", 42),
        "detail.ModelPackageArn is missing or not a non-empty string",
    ),
    (
        "ModelPackageArn a list",
        lambda event: _with_detail(event, "ModelPackageArn", [event["detail"]["ModelPackageArn"]]),
        "detail.ModelPackageArn is missing or not a non-empty string",
    ),
    (
        "ModelPackageArn not an ARN",
        lambda event: _with_detail(event, "ModelPackageArn", "churn-classifier/1"),
        "detail.ModelPackageArn is not a model package ARN",
    ),
    (
        "no group",
        lambda event: {**event, "detail": _without(event["detail"], "ModelPackageGroupName")},
        "detail.ModelPackageGroupName is missing",
    ),
    (
        "status null",
        lambda event: _with_detail(event, "ModelApprovalStatus", None),
        "detail.ModelApprovalStatus is missing",
    ),
    (
        "version a string",
        lambda event: _with_detail(event, "ModelPackageVersion", "1"),
        "detail.ModelPackageVersion is not an integer",
    ),
    (
        "version a bool",
        lambda event: _with_detail(event, "ModelPackageVersion", True),
        "detail.ModelPackageVersion is not an integer",
    ),
]


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [pytest.param(corrupt, reason, id=name) for name, corrupt, reason in MALFORMED_EVENTS],
)
def test_a_malformed_event_is_ignored_and_nothing_is_touched(
    registry: Registry, corrupt: Any, reason: str
) -> None:
    event = registry.register()  # approved, no metric: acting on it would reject it
    assert "detail" in event

    summary = run(registry, corrupt(copy.deepcopy(event)))

    assert summary["action"] == "ignored"
    assert summary["reason"].startswith("malformed event: ")
    assert reason in summary["reason"]
    package = registry.package(event)
    assert package["ModelApprovalStatus"] == "Approved"
    assert "ApprovalDescription" not in package
    assert registry.notifications() == []


# --- failures that must be retried -------------------------------------------------------------------


def test_a_sagemaker_error_is_raised_for_lambda_to_retry(registry: Registry) -> None:
    event = registry.register()
    missing = state_change(event["detail"]["ModelPackageArn"].replace("/1", "/7"), CLASSIFIER, version=7)

    with pytest.raises(ClientError) as raised:
        run(registry, missing)

    assert raised.value.operation_name == "DescribeModelPackage"
    assert registry.notifications() == []


def test_an_s3_access_error_is_raised_not_taken_for_a_missing_metric(registry: Registry) -> None:
    uri = registry.put_report("evaluation/statistics.json", BINARY_CLASSIFICATION_REPORT)
    event = registry.register(model_metrics=model_quality(uri))
    clients = registry.clients
    denied = Clients(sagemaker=clients.sagemaker, s3=registry.session.client("s3"), sns=clients.sns)

    with Stubber(denied.s3) as s3_stub:
        s3_stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(ClientError) as raised:
            handler(event, None, clients=denied)

    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert registry.package(event)["ModelApprovalStatus"] == "Approved"
    assert registry.notifications() == []


# --- Lambda's own path: default clients, logs --------------------------------------------------------


def test_without_injected_clients_the_handler_uses_the_lambda_region(registry: Registry) -> None:
    event = registry.register(metadata={"accuracy": "0.5"})

    summary = handler(event, None)

    assert summary["action"] == "rejected"
    assert registry.package(event)["ModelApprovalStatus"] == "Rejected"


def test_a_decision_is_logged_as_searchable_fields(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    event = registry.register(metadata={"accuracy": "0.5"})

    with caplog.at_level(logging.INFO, logger="approval_guard"):
        run(registry, event)

    [record] = [record for record in caplog.records if "rejected a model package" in record.getMessage()]
    assert record.levelno == logging.WARNING
    assert 'action="rejected"' in record.getMessage()
    assert f'model_package_arn="{event["detail"]["ModelPackageArn"]}"' in record.getMessage()
    assert record.__dict__["value"] == 0.5
