"""kubernetes.namespaces[].endpoints: endpoints of serving a namespace serves through ACK (ADR 0017). Each
refusal is one problem at `kubernetes.namespaces[i].endpoints[j]` with its fix.

The tests give the serving environment a Studio persona and a cluster of their own (names below); the
serving environment and its endpoint are the fixture's, read back by index (its first file with serving).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from platform_config import load_platform, naming
from platform_config.models import DataCaptureConfig, InstancesConfig
from tests.config.conftest import EditConfig, check_problem, only_problem, problems_of
from tests.conftest import CONFIG_DIR

PERSONA = "k8s-serving-persona"
NAMESPACE, OTHER_NAMESPACE = "serving-team", "other-team"


def _serving_environment() -> tuple[str, str, str]:
    """The fixture's first environment with endpoints and no cluster: its name, its first endpoint's
    name and that endpoint's instance type."""
    platform = load_platform(CONFIG_DIR)
    for name, environment in platform.environments.items():
        if environment.serving is not None and environment.kubernetes is None:
            endpoint = environment.serving.endpoints[0]
            assert endpoint.instances is not None
            return name, endpoint.name, endpoint.instances.instance_type
    raise AssertionError("the fixture has no serving environment")


ENVIRONMENT, ENDPOINT, INSTANCE_TYPE = _serving_environment()
FILE = f"{ENVIRONMENT}.yaml"
AT = "kubernetes.namespaces[0].endpoints[0]"


def _served(
    *,
    capabilities: tuple[str, ...] = ("jobs", "endpoints"),
    namespaces: list[dict[str, Any]] | None = None,
    unmonitored: bool = True,
    autoscaling: bool = False,
    network_isolation: bool = False,
    instance_types: tuple[str, ...] | None = None,
) -> Callable[[dict[str, Any]], None]:
    """The serving environment with a persona, a domain using it and a cluster whose namespace serves the
    first endpoint; by default without what the ACK path refuses (autoscaling, the monitoring schedule)."""

    def change(data: dict[str, Any]) -> None:
        account = data["account_id"]
        data["studio"] = {
            "personas": {
                PERSONA: {
                    "description": "Serves endpoints from a cluster",
                    "capabilities": list(capabilities),
                    "job_instance_types": list(instance_types or (INSTANCE_TYPE,)),
                    "network_isolation": network_isolation,
                }
            },
            "domains": [
                {"name": "k8s-ops", "default_persona": PERSONA, "idle_shutdown": {"default_minutes": 60}}
            ],
        }
        data["kubernetes"] = {
            "cluster_name": "serving-cluster",
            "kubectl_role_arn": f"arn:aws:iam::{account}:role/serving-cluster-admin",
            "namespaces": namespaces
            if namespaces is not None
            else [{"name": NAMESPACE, "persona": PERSONA, "endpoints": [ENDPOINT]}],
        }
        endpoint = data["serving"]["endpoints"][0]
        if not autoscaling:
            endpoint.pop("autoscaling", None)
        if unmonitored:
            endpoint["monitoring"] = {**endpoint.get("monitoring", {}), "enabled": False}
        else:
            endpoint.get("monitoring", {}).pop("enabled", None)

    return change


def test_a_served_endpoint_is_kubernetes_s_not_cloudformation_s(config_copy: EditConfig) -> None:
    environment = load_platform(config_copy(ENVIRONMENT, _served())).environments[ENVIRONMENT]
    assert environment.kubernetes_endpoints == {ENDPOINT: NAMESPACE}
    assert ENDPOINT not in {endpoint.name for endpoint in environment.cloudformation_endpoints}
    assert environment.serving is not None
    served = next(e for e in environment.serving.endpoints if e.name == ENDPOINT)
    assert served.data_quality is None  # turned off, explicitly


def _unknown(data: dict[str, Any]) -> None:
    _served(unmonitored=False)(data)
    data["kubernetes"]["namespaces"][0]["endpoints"] = ["no-such-endpoint"]


def _twice(data: dict[str, Any]) -> None:
    _served()(data)
    data["kubernetes"]["namespaces"].append(
        {"name": OTHER_NAMESPACE, "persona": PERSONA, "endpoints": [ENDPOINT]}
    )


def _serverless(data: dict[str, Any]) -> None:
    _served()(data)
    endpoint = data["serving"]["endpoints"][0]
    for key in ("instances", "autoscaling", "data_capture", "monitoring"):
        endpoint.pop(key, None)
    endpoint["serverless"] = {"memory_size_mb": 2048, "max_concurrency": 5}


def _local_storage(data: dict[str, Any]) -> None:
    _served(instance_types=("ml.m5d.large",))(data)
    data["serving"]["endpoints"][0]["instances"]["instance_type"] = "ml.m5d.large"


@pytest.mark.parametrize(
    ("change", "field_path", "words"),
    [
        (_unknown, AT, ("'no-such-endpoint' is not an endpoint of serving.endpoints", ENDPOINT)),
        (_twice, "kubernetes.namespaces[1].endpoints[0]", (f"served by namespace '{NAMESPACE}' already",)),
        (_served(capabilities=("jobs",)), AT, ("no 'endpoints' capability", "add 'endpoints'")),
        (_served(network_isolation=True), AT, ("requires network isolation of endpoint configs",)),
        (
            _served(instance_types=("ml.c5.xlarge",)),
            AT,
            (f"runs on {INSTANCE_TYPE}, which persona '{PERSONA}' may not use", "job_instance_types"),
        ),
        (_serverless, AT, ("is serverless, outside the VPC", "serve it from instances")),
        (_local_storage, AT, ("whose local storage takes no volume key",)),
        (_served(autoscaling=True), AT, ("has autoscaling, which the ACK path does not create",)),
        (
            _served(unmonitored=False),
            AT,
            ("has a data-quality schedule", "monitoring.enabled: false"),
        ),
    ],
    ids=[
        "unknown-endpoint",
        "two-namespaces",
        "no-endpoints-capability",
        "network-isolated-persona",
        "instance-type-of-no-persona",
        "serverless",
        "local-storage",
        "autoscaling",
        "monitoring-schedule",
    ],
)
def test_an_endpoint_the_ack_path_cannot_serve_is_refused(
    config_copy: EditConfig, change: Callable[[dict[str, Any]], None], field_path: str, words: tuple[str, ...]
) -> None:
    config_dir = config_copy(ENVIRONMENT, change)
    check_problem(only_problem(config_dir), config_dir, FILE, field_path, *words)


def test_only_a_served_endpoint_may_go_unmonitored(config_copy: EditConfig) -> None:
    def change(data: dict[str, Any]) -> None:
        endpoint = data["serving"]["endpoints"][0]
        endpoint["monitoring"] = {**endpoint.get("monitoring", {}), "enabled": False}

    config_dir = config_copy(ENVIRONMENT, change)
    check_problem(
        only_problem(config_dir),
        config_dir,
        FILE,
        "serving.endpoints[0].monitoring.enabled",
        "only an endpoint a Kubernetes namespace serves",
    )


def test_derived_sagemaker_names_over_their_limit_are_refused(config_copy: EditConfig) -> None:
    # A 30-character namespace and a 30-character endpoint: the model `<ns>-<endpoint>-v<n>` and the
    # config (with a digest) pass 63 characters.
    long_endpoint = "e" * 30
    namespace = "n" * 30

    def change(data: dict[str, Any]) -> None:
        _served(namespaces=[{"name": namespace, "persona": PERSONA, "endpoints": [long_endpoint]}])(data)
        data["serving"]["endpoints"][0]["name"] = long_endpoint

    config_dir = config_copy(ENVIRONMENT, change)
    problems = [p for p in problems_of(config_dir) if f"{AT}: " in p]
    assert any("the model name" in p for p in problems), problems
    assert any("the endpoint config name" in p for p in problems), problems


# A value other than the fixture's for every setting the endpoint config's name digests.
_OTHER_INSTANCES = {"instance_type": "ml.c5.9xlarge", "initial_instance_count": 7}
_OTHER_CAPTURE = {"sampling_percentage": 13}


def test_the_endpoint_config_name_changes_with_every_setting_of_its_instances_and_capture() -> None:
    # The digest maps the fields by name: a field added to either model must be added to it (an ACK
    # endpoint config is immutable, so a setting left out would never reach SageMaker).
    assert set(_OTHER_INSTANCES) == set(InstancesConfig.model_fields)
    assert set(_OTHER_CAPTURE) == set(DataCaptureConfig.model_fields)
    serving = load_platform(CONFIG_DIR).environments[ENVIRONMENT].serving
    assert serving is not None
    endpoint = serving.endpoints[0]
    assert isinstance(endpoint.capacity, InstancesConfig) and endpoint.capture is not None
    name = naming.k8s_endpoint_config_name(NAMESPACE, endpoint)
    for field, value in _OTHER_INSTANCES.items():
        instances = endpoint.capacity.model_copy(update={field: value})
        changed = endpoint.model_copy(update={"instances": instances})
        assert naming.k8s_endpoint_config_name(NAMESPACE, changed) != name, field
    for field, value in _OTHER_CAPTURE.items():
        capture = endpoint.capture.model_copy(update={field: value})
        changed = endpoint.model_copy(update={"data_capture": capture})
        assert naming.k8s_endpoint_config_name(NAMESPACE, changed) != name, field
