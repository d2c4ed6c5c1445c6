"""The guard's configuration: a misconfigured function fails on every event, it never approves silently."""

from __future__ import annotations

import json

import pytest

from functions._runtime.entry import ConfigurationError
from functions.approval_guard.handler import (
    Baseline,
    Comparison,
    handler,
    load_settings,
)
from tests.functions.support import BASELINES, CLASSIFIER, TOPIC_ARN, Registry

GOOD = {"metric": "accuracy", "threshold": 0.9, "comparison": "greater_than_or_equal"}


def environ(baselines: object, topic_arn: str = TOPIC_ARN) -> dict[str, str]:
    raw = baselines if isinstance(baselines, str) else json.dumps(baselines)
    return {"BASELINES": raw, "TOPIC_ARN": topic_arn}


def test_the_sample_configuration_loads() -> None:
    settings = load_settings(environ(BASELINES))

    assert settings.topic_arn == TOPIC_ARN
    assert settings.baselines[CLASSIFIER] == Baseline(
        metric="accuracy", threshold=0.9, comparison=Comparison.GREATER_THAN_OR_EQUAL
    )
    assert settings.baselines["demand-regressor"].comparison is Comparison.LESS_THAN_OR_EQUAL


def test_an_integer_threshold_is_a_number() -> None:
    settings = load_settings(environ({CLASSIFIER: {**GOOD, "threshold": 1}}))

    assert settings.baselines[CLASSIFIER].threshold == 1.0


@pytest.mark.parametrize(
    ("baselines", "message"),
    [
        ("{accuracy: 0.9", "BASELINES is not valid JSON"),
        ("", "BASELINES is not set"),
        ("[]", "BASELINES must be a JSON object"),
        ("{}", "BASELINES has no groups"),
        (
            f'{{"{CLASSIFIER}": {json.dumps(GOOD)}, "{CLASSIFIER}": {json.dumps(GOOD)}}}',
            f"BASELINES: duplicate keys ['{CLASSIFIER}']",
        ),
        ({"churn_classifier": GOOD}, 'BASELINES["churn_classifier"]: not a model package group name'),
        ({CLASSIFIER: 0.9}, f'BASELINES["{CLASSIFIER}"]: expected an object'),
        (
            {CLASSIFIER: {**GOOD, "comparison": "greater_than"}},
            f"BASELINES[\"{CLASSIFIER}\"].comparison: 'greater_than' is not one of "
            "['greater_than_or_equal', 'less_than_or_equal']",
        ),
        ({CLASSIFIER: {**GOOD, "threshold": "0.9"}}, ".threshold: expected a number, got '0.9'"),
        ({CLASSIFIER: {**GOOD, "threshold": "high"}}, ".threshold: expected a number, got 'high'"),
        ({CLASSIFIER: {**GOOD, "threshold": True}}, ".threshold: expected a number, got True"),
        ({CLASSIFIER: {**GOOD, "threshold": None}}, ".threshold: expected a number, got None"),
        (
            f'{{"{CLASSIFIER}": {{"metric": "accuracy", "threshold": NaN, "comparison": '
            '"less_than_or_equal"}}',
            ".threshold: expected a finite number, got nan",
        ),
        ({CLASSIFIER: {**GOOD, "metric": ""}}, ".metric: expected a non-empty string"),
        ({CLASSIFIER: {**GOOD, "metric": ["accuracy"]}}, ".metric: expected a non-empty string"),
        ({CLASSIFIER: {"metric": "accuracy", "threshold": 0.9}}, "missing keys ['comparison']"),
        ({CLASSIFIER: {**GOOD, "minimum": 0.8}}, "unknown keys ['minimum']"),
    ],
)
def test_a_malformed_baselines_variable_is_refused(baselines: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ(baselines))

    assert message in str(raised.value)


def test_unset_variables_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="BASELINES is not set"):
        load_settings({"TOPIC_ARN": TOPIC_ARN})
    with pytest.raises(ConfigurationError, match="TOPIC_ARN: expected an SNS topic ARN, got ''"):
        load_settings({"BASELINES": json.dumps(BASELINES)})


def test_a_topic_arn_that_is_not_one_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="TOPIC_ARN: expected an SNS topic ARN"):
        load_settings(environ(BASELINES, topic_arn="model-approvals"))


def test_a_misconfigured_function_raises_on_every_event_and_touches_nothing(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = registry.register()  # approved, no metric
    monkeypatch.setenv("BASELINES", json.dumps({CLASSIFIER: {**GOOD, "comparison": "at_least"}}))

    for _ in range(2):  # the failure is not cached: the second event fails the same way
        with pytest.raises(ConfigurationError, match="'at_least' is not one of"):
            handler(event, None, clients=registry.clients)
    # Even an event the guard would ignore fails: the function is broken, and must say so.
    with pytest.raises(ConfigurationError):
        handler(None, None, clients=registry.clients)

    assert registry.package(event)["ModelApprovalStatus"] == "Approved"
    assert registry.notifications() == []

    monkeypatch.setenv("BASELINES", json.dumps({CLASSIFIER: GOOD}))
    assert handler(event, None, clients=registry.clients)["action"] == "rejected"


def test_the_configuration_is_read_once_per_cold_start(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = registry.register(metadata={"accuracy": "0.8"})
    assert handler(first, None, clients=registry.clients)["action"] == "rejected"

    monkeypatch.setenv("BASELINES", "not json")  # a warm environment does not read it again
    second = registry.register(metadata={"accuracy": "0.95"})

    assert handler(second, None, clients=registry.clients)["action"] == "passed"
