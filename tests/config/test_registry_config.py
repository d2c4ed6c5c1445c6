"""Bad registry and cross-account configuration is reported with its file and field path."""

from __future__ import annotations

import pytest

from tests.config.conftest import EditConfig, append, check_problem, only_problem, set_value

GROUP = ("model_registry", "groups", 0)


@pytest.mark.parametrize("name", ["churn_model", "-churn", "a" * 64])
def test_group_names_follow_the_api_pattern(config_copy: EditConfig, name: str) -> None:
    config_dir = config_copy("dev", set_value(*GROUP, "name", value=name))
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", "model_registry.groups[0].name", "SageMaker name"
    )


def test_duplicate_groups(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev", append("model_registry", "groups", value={"name": "churn-model", "description": "again"})
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "model_registry.groups",
        "duplicate model package group",
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("metric", "1accuracy", "not a metric name"),
        ("threshold", "0.9", "'0.9' is not a number; give one such as 0.9"),
        ("threshold", float("nan"), "finite number"),
        ("comparison", "greater_than", "greater_than_or_equal"),
    ],
)
def test_bad_baselines(config_copy: EditConfig, field: str, value: object, words: str) -> None:
    config_dir = config_copy("dev", set_value(*GROUP, "baseline", field, value=value))
    problem = only_problem(config_dir)
    assert f"model_registry.groups[0].baseline.{field}" in problem and words in problem, problem


def test_a_description_is_required(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*GROUP, "description", value=""))
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", "model_registry.groups[0].description", "is empty"
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("external_id", "x", "is not an external id; use 2-1224"),
        ("organization_id", "org-123", "AWS Organizations id"),
    ],
)
def test_bad_cross_account_conditions(config_copy: EditConfig, field: str, value: str, words: str) -> None:
    config_dir = config_copy("prod", set_value("cross_account", field, value=value))
    check_problem(only_problem(config_dir), config_dir, "prod.yaml", f"cross_account.{field}", words)


def test_bad_notification_email(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value("model_registry", "notification_emails", value=["ml-platform"]))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "model_registry.notification_emails",
        "not an e-mail",
    )
