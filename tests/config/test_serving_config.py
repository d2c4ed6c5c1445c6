"""Serving, alarms and experiments configuration: the sample's sections load with the expected values, and
each bad input is one problem naming its file and field path."""

from __future__ import annotations

from typing import Any

import pytest

from platform_config import PlatformConfig, load_platform
from platform_config.models import (
    MONITORING_SCHEDULES,
    DataCaptureConfig,
    DataQualityMonitoringConfig,
    EndpointAlarmsConfig,
    EndpointConfig,
    InstancesConfig,
    ServerlessConfig,
    ServingConfig,
)
from tests.config.conftest import (
    EditConfig,
    check_problem,
    combine,
    copy_item,
    delete,
    only_problem,
    problems_of,
    set_value,
)

ENDPOINT = ("serving", "endpoints", 0)
SERVERLESS = {"memory_size_mb": 2048, "max_concurrency": 4}
# The keys an endpoint on instances has in the sample (staging and prod) besides `instances`.
INSTANCE_ONLY = ("autoscaling", "data_capture", "monitoring")


def endpoints_of(platform: PlatformConfig, environment: str) -> tuple[EndpointConfig, ...]:
    serving = platform.environments[environment].serving
    assert serving is not None
    return serving.endpoints


def to_serverless(*keep: str) -> Any:
    """Staging's endpoint made serverless, keeping the named instance-only sections (which it refuses)."""
    return combine(
        delete(*ENDPOINT, "instances"),
        *(delete(*ENDPOINT, key) for key in INSTANCE_ONLY if key not in keep),
        set_value(*ENDPOINT, "serverless", value=SERVERLESS),
    )


def minimal_endpoint(**changes: Any) -> dict[str, Any]:
    endpoint: dict[str, Any] = {
        "name": "churn-model",
        "model_package": {"source": "dev", "group": "churn-model", "version": 3},
        "smoke_tests": [{"name": "one", "body": "1,2,3\n", "expect": {"answers": 1}}],
    }
    return endpoint | changes


# --- the sample -----------------------------------------------------------------------------------------


def test_staging_serves_the_churn_model_on_one_instance(sample_platform: PlatformConfig) -> None:
    (endpoint,) = endpoints_of(sample_platform, "staging")
    assert endpoint.name == "churn-model"
    assert (endpoint.model_package.source, endpoint.model_package.group, endpoint.model_package.version) == (
        "dev",
        "churn-model",
        3,
    )
    assert endpoint.instances is not None
    assert (endpoint.instances.instance_type, endpoint.instances.initial_instance_count) == ("ml.m5.large", 1)
    assert endpoint.serverless is None
    assert endpoint.autoscaling is not None
    assert endpoint.autoscaling.model_dump() == {
        "min_instances": 1,
        "max_instances": 2,
        "target_invocations_per_instance": 500,
        "scale_in_cooldown_seconds": 300,
        "scale_out_cooldown_seconds": 60,
    }
    assert endpoint.capture == DataCaptureConfig(sampling_percentage=100)
    assert endpoint.data_quality is not None
    assert endpoint.data_quality.schedule_expression == "cron(0 * ? * * *)"
    assert endpoint.alarms.model_latency_p99_ms == 500
    assert endpoint.alarms.no_invocations_minutes is None  # staging sees traffic only when someone tests
    assert endpoint.alarms.error_5xx_rate_percent == EndpointAlarmsConfig().error_5xx_rate_percent
    serving = sample_platform.environments["staging"].serving
    assert serving is not None and serving.capture_retention_days == 30


def test_staging_smoke_test_sends_two_csv_rows_expecting_probabilities(
    sample_platform: PlatformConfig,
) -> None:
    (endpoint,) = endpoints_of(sample_platform, "staging")
    (smoke,) = endpoint.smoke_tests
    assert smoke.name == "two-customers"
    assert (smoke.content_type, smoke.accept) == ("text/csv", "text/csv")
    assert len(smoke.body.splitlines()) == 2
    assert smoke.expect.model_dump() == {
        "answers": 2,
        "one_of": (),
        "min_value": 0.0,
        "max_value": 1.0,
        "contains": None,
    }


def test_prod_serves_the_same_version_on_more_instances(sample_platform: PlatformConfig) -> None:
    (endpoint,) = endpoints_of(sample_platform, "prod")
    (staging,) = endpoints_of(sample_platform, "staging")
    assert endpoint.model_package == staging.model_package
    assert endpoint.instances is not None
    assert (endpoint.instances.instance_type, endpoint.instances.initial_instance_count) == (
        "ml.m5.xlarge",
        2,
    )
    assert endpoint.autoscaling is not None
    assert (
        endpoint.autoscaling.min_instances,
        endpoint.autoscaling.max_instances,
        endpoint.autoscaling.target_invocations_per_instance,
    ) == (2, 6, 750)
    assert endpoint.capture is not None and endpoint.capture.sampling_percentage == 20
    monitoring = endpoint.data_quality
    assert monitoring is not None
    assert monitoring.model_dump() == {
        "enabled": True,
        "schedule": "hourly",
        "instance_type": "ml.m5.xlarge",
        "volume_size_gb": 20,
        "max_runtime_minutes": 50,
        "baseline": None,
    }
    assert (
        endpoint.alarms.model_latency_p99_ms,
        endpoint.alarms.error_5xx_rate_percent,
        endpoint.alarms.no_invocations_minutes,
    ) == (300, 0.5, 30)
    serving = sample_platform.environments["prod"].serving
    assert serving is not None and serving.capture_retention_days == 365


def test_alarm_emails_per_environment(sample_platform: PlatformConfig) -> None:
    environments = sample_platform.environments
    assert environments["dev"].alarms.emails == ("ml-platform@example.com",)
    assert environments["staging"].alarms.emails == ("ml-platform@example.com",)
    assert environments["prod"].alarms.emails == ("ml-platform@example.com", "ml-oncall@example.com")


def test_dev_tracks_experiments_and_serves_nothing(sample_platform: PlatformConfig) -> None:
    dev = sample_platform.environments["dev"]
    assert dev.serving is None
    assert dev.experiments is not None
    assert dev.experiments.model_dump() == {
        "tracking_server_size": "Small",
        "mlflow_version": None,
        "automatic_model_registration": False,
        "weekly_maintenance_window": None,
    }
    assert sample_platform.environments["staging"].experiments is None
    assert sample_platform.environments["prod"].experiments is None


def test_the_default_bootstrap_qualifier(sample_platform: PlatformConfig) -> None:
    for environment in sample_platform.environments.values():
        assert environment.cross_account.bootstrap_qualifier == "hnb659fds"


# --- what the models derive ------------------------------------------------------------------------------


def test_capture_and_monitoring_are_on_by_default_on_instances() -> None:
    endpoint = EndpointConfig.model_validate(minimal_endpoint(instances={"instance_type": "ml.m5.large"}))
    assert endpoint.data_capture is None and endpoint.monitoring is None
    assert endpoint.capture == DataCaptureConfig(sampling_percentage=100)
    assert endpoint.data_quality == DataQualityMonitoringConfig()
    assert endpoint.data_quality.schedule == "hourly"
    assert endpoint.data_quality.instance_type == "ml.m5.large"
    assert endpoint.instances is not None and endpoint.instances.initial_instance_count == 1


def test_given_capture_and_monitoring_are_kept() -> None:
    endpoint = EndpointConfig.model_validate(
        minimal_endpoint(
            instances={"instance_type": "ml.m5.large"},
            data_capture={"sampling_percentage": 5},
            monitoring={"schedule": "daily", "volume_size_gb": 50},
        )
    )
    assert endpoint.capture == DataCaptureConfig(sampling_percentage=5)
    assert endpoint.data_quality is not None
    assert (endpoint.data_quality.schedule_expression, endpoint.data_quality.volume_size_gb) == (
        "cron(0 0 ? * * *)",
        50,
    )


@pytest.mark.parametrize(
    ("capacity", "kind"),
    [
        ({"instances": {"instance_type": "ml.m5.large"}}, InstancesConfig),
        ({"serverless": SERVERLESS}, ServerlessConfig),
    ],
)
def test_capacity_is_the_one_kind_the_file_sets(capacity: dict[str, Any], kind: type) -> None:
    endpoint = EndpointConfig.model_validate(minimal_endpoint(**capacity))
    assert isinstance(endpoint.capacity, kind)
    assert endpoint.capacity is (endpoint.instances if kind is InstancesConfig else endpoint.serverless)


def test_a_serverless_endpoint_has_neither_capture_nor_monitoring() -> None:
    endpoint = EndpointConfig.model_validate(minimal_endpoint(serverless=SERVERLESS))
    assert endpoint.serverless is not None and endpoint.serverless.provisioned_concurrency is None
    assert endpoint.capture is None
    assert endpoint.data_quality is None


@pytest.mark.parametrize(
    ("schedule", "expression"),
    [
        ("hourly", "cron(0 * ? * * *)"),
        ("daily", "cron(0 0 ? * * *)"),
        ("cron(0 */6 ? * * *)", "cron(0 */6 ? * * *)"),
        ("cron(0 17/12 ? * * *)", "cron(0 17/12 ? * * *)"),
    ],
)
def test_schedule_expression(schedule: str, expression: str) -> None:
    assert DataQualityMonitoringConfig(schedule=schedule).schedule_expression == expression


def test_named_schedules() -> None:
    assert MONITORING_SCHEDULES == {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}


def test_alarm_defaults() -> None:
    assert EndpointAlarmsConfig().model_dump() == {
        "model_latency_p99_ms": 1000.0,
        "error_5xx_rate_percent": 1.0,
        "error_4xx_rate_percent": 5.0,
        "no_invocations_minutes": 60,
        "cpu_utilization_percent": 80.0,
        "memory_utilization_percent": 85.0,
    }


def test_capture_retention_defaults_to_90_days() -> None:
    serving = ServingConfig.model_validate(
        {"endpoints": [minimal_endpoint(instances={"instance_type": "ml.m5.large"})]}
    )
    assert serving.capture_retention_days == 90


# --- variations that load ---------------------------------------------------------------------------------


def test_a_serverless_endpoint_without_instance_only_sections_loads(config_copy: EditConfig) -> None:
    platform = load_platform(config_copy("staging", to_serverless()))
    (endpoint,) = endpoints_of(platform, "staging")
    assert endpoint.serverless is not None
    assert (endpoint.serverless.memory_size_mb, endpoint.serverless.max_concurrency) == (2048, 4)
    assert endpoint.instances is None and endpoint.capture is None and endpoint.data_quality is None


def test_an_endpoint_name_of_50_characters_loads(config_copy: EditConfig) -> None:
    platform = load_platform(config_copy("staging", set_value(*ENDPOINT, "name", value="e" * 50)))
    assert endpoints_of(platform, "staging")[0].name == "e" * 50


def test_experiments_with_every_option_load(config_copy: EditConfig) -> None:
    experiments = {
        "tracking_server_size": "Large",
        "mlflow_version": "2.16.2",
        "automatic_model_registration": True,
        "weekly_maintenance_window": "Sun:23:59",
    }
    platform = load_platform(config_copy("dev", set_value("experiments", value=experiments)))
    loaded = platform.environments["dev"].experiments
    assert loaded is not None and loaded.model_dump() == experiments


def test_a_custom_bootstrap_qualifier_loads(config_copy: EditConfig) -> None:
    platform = load_platform(
        config_copy("prod", set_value("cross_account", "bootstrap_qualifier", value="mlplat01"))
    )
    assert platform.environments["prod"].cross_account.bootstrap_qualifier == "mlplat01"


# --- capacity -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        set_value(*ENDPOINT, "serverless", value=SERVERLESS),  # both
        combine(*(delete(*ENDPOINT, key) for key in ("instances", *INSTANCE_ONLY))),  # neither
    ],
    ids=["both", "neither"],
)
def test_exactly_one_kind_of_capacity(config_copy: EditConfig, change: Any) -> None:
    config_dir = config_copy("staging", change)
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0]",
        "has both or neither of instances and serverless; set exactly one of instances (real-time",
    )


@pytest.mark.parametrize("section", INSTANCE_ONLY)
def test_serverless_refuses_instance_only_sections(config_copy: EditConfig, section: str) -> None:
    config_dir = config_copy("staging", to_serverless(section))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        f"serving.endpoints[0].{section}",
        "is not available for serverless endpoints",
        "; remove it or serve from instances",
    )


def test_serverless_lists_every_instance_only_section_at_once(config_copy: EditConfig) -> None:
    config_dir = config_copy("staging", to_serverless(*INSTANCE_ONLY))
    problems = problems_of(config_dir)
    assert len(problems) == len(INSTANCE_ONLY), problems
    for problem, section in zip(problems, INSTANCE_ONLY, strict=True):
        check_problem(
            problem,
            config_dir,
            "staging.yaml",
            f"serving.endpoints[0].{section}",
            "is not available for serverless endpoints",
        )


@pytest.mark.parametrize("count", [3, 100])
def test_initial_instance_count_within_autoscaling_bounds(config_copy: EditConfig, count: int) -> None:
    config_dir = config_copy(
        "staging", set_value(*ENDPOINT, "instances", "initial_instance_count", value=count)
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].instances.initial_instance_count",
        f"{count} is outside autoscaling's [1, 2]",
    )


def test_initial_instance_count_below_autoscaling_minimum(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value(*ENDPOINT, "instances", "initial_instance_count", value=1))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "serving.endpoints[0].instances.initial_instance_count",
        "1 is outside autoscaling's [2, 6]",
    )


def test_min_instances_above_max_instances(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value(*ENDPOINT, "autoscaling", "min_instances", value=7))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "serving.endpoints[0].autoscaling.min_instances",
        "7 is above max_instances 6",
    )


def test_provisioned_concurrency_above_max_concurrency(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "staging",
        combine(to_serverless(), set_value(*ENDPOINT, "serverless", "provisioned_concurrency", value=5)),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].serverless.provisioned_concurrency",
        "5 exceeds max_concurrency 4",
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        (("instances", "instance_type"), "m5.large", "not a SageMaker instance type"),
        (("instances", "initial_instance_count"), "2", "is not a whole number"),
        (("autoscaling", "target_invocations_per_instance"), 0, "is below the minimum 1"),
        (("autoscaling", "scale_in_cooldown_seconds"), 3601, "is above the maximum 3600"),
    ],
)
def test_bad_instance_settings(
    config_copy: EditConfig, field: tuple[str, ...], value: object, words: str
) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, *field, value=value))
    check_problem(
        only_problem(config_dir), config_dir, "staging.yaml", f"serving.endpoints[0].{'.'.join(field)}", words
    )


def test_serverless_memory_sizes_are_sagemakers(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "staging", combine(to_serverless(), set_value(*ENDPOINT, "serverless", "memory_size_mb", value=1000))
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].serverless.memory_size_mb",
        "1024",
        "6144",
    )


# --- capture and monitoring ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"), [(0, "is below the minimum 1"), (101, "is above the maximum 100")]
)
def test_sampling_percentage_is_1_to_100(config_copy: EditConfig, value: int, words: str) -> None:
    config_dir = config_copy(
        "staging", set_value(*ENDPOINT, "data_capture", "sampling_percentage", value=value)
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].data_capture.sampling_percentage",
        words,
        f"{value} is ",
    )


@pytest.mark.parametrize("schedule", ["weekly", "rate(1 hour)", "cron()", "0 * ? * * *"])
def test_bad_monitoring_schedule(config_copy: EditConfig, schedule: str) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, "monitoring", "schedule", value=schedule))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].monitoring.schedule",
        f"'{schedule}' is not a monitoring schedule",
        "hourly, daily",
    )


@pytest.mark.parametrize(
    "schedule", ["cron(*/10 * ? * * *)", "cron(30 6 * * ? *)", "cron(0 24 ? * * *)", "cron(0 */25 ? * * *)"]
)
def test_a_cron_model_monitor_cannot_run_is_refused(config_copy: EditConfig, schedule: str) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, "monitoring", "schedule", value=schedule))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].monitoring.schedule",
        "not a monitoring schedule",
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("max_runtime_minutes", 61, "is above the maximum 60"),
        ("volume_size_gb", 0, "is below the minimum 1"),
        ("instance_type", "ml.m5", "not a SageMaker instance type"),
    ],
)
def test_bad_monitoring_settings(config_copy: EditConfig, field: str, value: object, words: str) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, "monitoring", field, value=value))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        f"serving.endpoints[0].monitoring.{field}",
        words,
    )


@pytest.mark.parametrize(
    ("field", "uri"),
    [
        ("constraints_uri", "https://dev-artifacts.s3.amazonaws.com/constraints.json"),
        ("constraints_uri", "s3://dev-artifacts"),
        ("statistics_uri", "s3://Dev_Artifacts/statistics.json"),
    ],
)
def test_bad_baseline_uri(config_copy: EditConfig, field: str, uri: str) -> None:
    baseline = {
        "constraints_uri": "s3://dev-artifacts/baselines/constraints.json",
        "statistics_uri": "s3://dev-artifacts/baselines/statistics.json",
    } | {field: uri}
    config_dir = config_copy("staging", set_value(*ENDPOINT, "monitoring", "baseline", value=baseline))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        f"serving.endpoints[0].monitoring.baseline.{field}",
        f"'{uri}' is not an S3 object URI",
    )


def test_a_baseline_needs_both_files(config_copy: EditConfig) -> None:
    baseline = {"constraints_uri": "s3://dev-artifacts/baselines/constraints.json"}
    config_dir = config_copy("staging", set_value(*ENDPOINT, "monitoring", "baseline", value=baseline))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].monitoring.baseline.statistics_uri",
        "required but missing",
    )


# --- names and smoke tests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"), [("e" * 51, "is longer than 50 characters"), ("churn_model", "SageMaker name")]
)
def test_bad_endpoint_name(config_copy: EditConfig, name: str, words: str) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, "name", value=name))
    check_problem(only_problem(config_dir), config_dir, "staging.yaml", "serving.endpoints[0].name", words)


def test_duplicate_endpoint_names(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", copy_item(*ENDPOINT))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "serving.endpoints",
        "duplicate endpoint names: churn-model",
    )


def test_no_endpoint(config_copy: EditConfig) -> None:
    config_dir = config_copy("staging", set_value("serving", "endpoints", value=[]))
    check_problem(
        only_problem(config_dir), config_dir, "staging.yaml", "serving.endpoints", "needs at least 1 item(s)"
    )


def test_duplicate_smoke_test_names(config_copy: EditConfig) -> None:
    config_dir = config_copy("staging", copy_item(*ENDPOINT, "smoke_tests", 0))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].smoke_tests",
        "duplicate smoke test names: two-customers; list each once",
    )


def test_an_endpoint_needs_a_smoke_test(config_copy: EditConfig) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, "smoke_tests", value=[]))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].smoke_tests",
        "needs at least 1 item(s)",
    )


def test_a_smoke_test_must_check_something(config_copy: EditConfig) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, "smoke_tests", 0, "expect", value={}))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].smoke_tests[0].expect",
        "checks nothing; give answers, one_of, min_value, max_value or contains",
    )


@pytest.mark.parametrize(
    "expect",
    [{"answers": 0}, {"one_of": ["0", "1"]}, {"min_value": 0}, {"max_value": 1}, {"contains": "0."}],
)
def test_any_one_check_is_enough(config_copy: EditConfig, expect: dict[str, object]) -> None:
    platform = load_platform(
        config_copy("staging", set_value(*ENDPOINT, "smoke_tests", 0, "expect", value=expect))
    )
    (smoke,) = endpoints_of(platform, "staging")[0].smoke_tests
    assert smoke.expect.model_dump(exclude_defaults=True) == {
        key: tuple(value) if isinstance(value, list) else value for key, value in expect.items()
    }


def test_min_value_above_max_value(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "staging", set_value(*ENDPOINT, "smoke_tests", 0, "expect", "min_value", value=2)
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].smoke_tests[0].expect.min_value",
        "2.0 is above max_value 1.0",
    )


# --- the model package -------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["prod", "staging"])
def test_the_source_must_be_trusted(config_copy: EditConfig, source: str) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, "model_package", "source", value=source))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].model_package.source",
        f"'{source}' is not in trusted_environments (dev), the only sources of models; trust it",
    )


def test_the_group_must_be_in_the_sources_registry(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value(*ENDPOINT, "model_package", "group", value="fraud-model"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "serving.endpoints[0].model_package.group",
        "'fraud-model' is not a model package group of dev's model_registry",
        "use one of its groups (churn-model, demand-forecast)",
    )


def test_the_group_check_follows_the_sources_registry(config_copy: EditConfig) -> None:
    # Removing the group from dev's registry is what breaks staging and prod's endpoints: both are named.
    config_copy("dev", delete("pipelines"))  # its pipeline registers into the group
    config_copy("dev", delete("kubernetes"))  # its namespaces may run that pipeline
    config_dir = config_copy(
        "dev",
        set_value(
            "model_registry",
            "groups",
            value=[{"name": "demand-forecast", "description": "Weekly demand forecast."}],
        ),
    )
    problems = problems_of(config_dir)
    assert len(problems) == 2, problems
    check_problem(
        problems[0],
        config_dir,
        "prod.yaml",
        "serving.endpoints[0].model_package.group",
        "use one of its groups (demand-forecast)",
    )
    check_problem(
        problems[1],
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].model_package.group",
        "use one of its groups (demand-forecast)",
    )


@pytest.mark.parametrize(
    ("version", "words"), [(0, "is below the minimum 1"), ("3", "is not a whole number")]
)
def test_the_version_is_a_positive_integer(config_copy: EditConfig, version: object, words: str) -> None:
    config_dir = config_copy("staging", set_value(*ENDPOINT, "model_package", "version", value=version))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "serving.endpoints[0].model_package.version",
        words,
    )


# --- alarms, experiments, cross-account -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("emails", "words"),
    [
        (["ml-platform"], "'ml-platform' is not an e-mail address"),
        (["ml platform@example.com"], "is not an e-mail address"),
        (["a@example.com", "a@example.com"], "duplicate e-mail addresses: a@example.com"),
    ],
)
def test_bad_alarm_emails(config_copy: EditConfig, emails: list[str], words: str) -> None:
    config_dir = config_copy("prod", set_value("alarms", "emails", value=emails))
    check_problem(only_problem(config_dir), config_dir, "prod.yaml", "alarms.emails", words)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("tracking_server_size", "XLarge", "'Small', 'Medium' or 'Large'"),
        ("weekly_maintenance_window", "Sunday 03:00", "does not match"),
        ("weekly_maintenance_window", "Sun:24:00", "does not match"),
        ("mlflow_version", "latest", "does not match"),
        ("automatic_model_registration", "yes", "is not true or false"),
    ],
)
def test_bad_experiments(config_copy: EditConfig, field: str, value: object, words: str) -> None:
    config_dir = config_copy("dev", set_value("experiments", field, value=value))
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", f"experiments.{field}", words)


@pytest.mark.parametrize("qualifier", ["Hnb659fds", "hnb_659", "abcdefghijk", ""])
def test_bad_bootstrap_qualifier(config_copy: EditConfig, qualifier: str) -> None:
    config_dir = config_copy("prod", set_value("cross_account", "bootstrap_qualifier", value=qualifier))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "cross_account.bootstrap_qualifier",
        f"'{qualifier}' does not match ^[a-z0-9]{{1,10}}$",
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("model_latency_p99_ms", 0, "must be above 0"),
        ("error_5xx_rate_percent", 101, "is above the maximum 100"),
        ("no_invocations_minutes", 4, "is below the minimum 5"),
        ("no_invocations_minutes", 1441, "is above the maximum 1440"),
        ("memory_utilization_percent", "high", "'high' is not a number"),
    ],
)
def test_bad_endpoint_alarm_thresholds(
    config_copy: EditConfig, field: str, value: object, words: str
) -> None:
    config_dir = config_copy("prod", set_value(*ENDPOINT, "alarms", field, value=value))
    check_problem(
        only_problem(config_dir), config_dir, "prod.yaml", f"serving.endpoints[0].alarms.{field}", words
    )


def test_capture_retention_days_bounds(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value("serving", "capture_retention_days", value=0))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "serving.capture_retention_days",
        "is below the minimum 1",
    )
