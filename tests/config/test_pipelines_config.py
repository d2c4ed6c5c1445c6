"""Bad pipeline configuration is reported with its file and field path."""

from __future__ import annotations

import pytest

from platform_config import load_platform
from tests.config.conftest import EditConfig, append, check_problem, only_problem, set_value

PIPELINE = ("pipelines", 0)


@pytest.mark.parametrize("name", ["churn_build", "-churn", "a" * 257])
def test_pipeline_names_follow_the_api_pattern(config_copy: EditConfig, name: str) -> None:
    config_dir = config_copy("dev", set_value(*PIPELINE, "name", value=name))
    problem = only_problem(config_dir)
    assert "pipelines[0].name" in problem, problem


def test_unknown_definition_lists_the_dags(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*PIPELINE, "definition", value="fraud_build"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "pipelines[0].definition",
        "'model_build'",
        "'batch_inference'",
    )


def test_model_build_needs_a_group_of_the_registry(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*PIPELINE, "model_package_group", value="fraud-model"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "pipelines[0].model_package_group",
        "'fraud-model' is not a group of model_registry",
    )


def test_duplicate_pipelines(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        append("pipelines", value={"name": "churn-model-build", "definition": "batch_inference"}),
    )
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", "pipelines", "duplicate pipeline names")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        (("cache_expire_after",), "30 days", "ISO 8601 duration"),
        (("max_parallel_steps",), 0, "is below the minimum 1"),
        (("trigger", "schedule"), "every day", "not a schedule"),
        (("trigger", "data_prefix"), "/incoming", "not an S3 key prefix"),
    ],
)
def test_bad_pipeline_settings(
    config_copy: EditConfig, field: tuple[str, ...], value: object, words: str
) -> None:
    config_dir = config_copy("dev", set_value(*PIPELINE, *field, value=value))
    problem = only_problem(config_dir)
    assert f"pipelines[0].{'.'.join(field)}" in problem and words in problem, problem


def test_a_scheduled_pipeline_with_caching_is_refused_naming_the_field(config_copy: EditConfig) -> None:
    """A schedule starts each run with the same arguments: cached steps would ignore new data at the key."""
    config_dir = config_copy("dev", set_value(*PIPELINE, "trigger", "schedule", value="rate(1 day)"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "pipelines[0].cache_expire_after",
        "with trigger.schedule 'rate(1 day)'",
        "remove cache_expire_after",
    )


def test_a_scheduled_pipeline_without_caching_is_accepted(config_copy: EditConfig) -> None:
    config_copy("dev", set_value(*PIPELINE, "trigger", "schedule", value="rate(1 day)"))
    config_dir = config_copy("dev", set_value(*PIPELINE, "cache_expire_after", value=None))
    pipeline = load_platform(config_dir).environments["dev"].pipelines[0]
    assert (pipeline.trigger.schedule, pipeline.cache_expire_after) == ("rate(1 day)", None)
