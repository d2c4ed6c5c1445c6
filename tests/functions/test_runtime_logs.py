"""functions/_runtime/logs.py: one line per event with its fields, at INFO unless Lambda sets the level."""

from __future__ import annotations

import logging

import pytest

from functions._runtime.logs import event_log


def test_one_line_with_json_values_and_the_fields_as_extra(caplog: pytest.LogCaptureFixture) -> None:
    log = event_log("runtime_logs_test")
    with caplog.at_level(logging.INFO, logger="runtime_logs_test"):
        log(logging.WARNING, "guard rejected", group="churn", version=3, reasons=["low accuracy"])

    (record,) = caplog.records
    assert record.getMessage() == 'guard rejected group="churn" version=3 reasons=["low accuracy"]'
    assert record.levelno == logging.WARNING
    assert record.__dict__["group"] == "churn" and record.__dict__["version"] == 3


def test_a_field_named_like_a_record_attribute_stays_in_the_line(caplog: pytest.LogCaptureFixture) -> None:
    log = event_log("runtime_logs_test")
    with caplog.at_level(logging.INFO, logger="runtime_logs_test"):
        log(logging.INFO, "deleted", name="churn-model", message="x")

    (record,) = caplog.records
    assert record.getMessage() == 'deleted name="churn-model" message="x"'
    assert record.name == "runtime_logs_test"


@pytest.mark.parametrize(("lambda_level", "expected"), [(None, logging.INFO), ("ERROR", logging.NOTSET)])
def test_info_by_default_and_lambdas_level_when_it_sets_one(
    monkeypatch: pytest.MonkeyPatch, lambda_level: str | None, expected: int
) -> None:
    name = f"runtime_logs_level_{lambda_level}"
    if lambda_level is not None:
        monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", lambda_level)
    else:
        monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL", raising=False)

    assert event_log(name).logger.level == expected
