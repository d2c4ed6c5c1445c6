"""The CRD field index: derived from the published definitions of the pinned chart's release, and the
checks it makes (unknown field, wrong type, missing required) on the manifests the platform writes."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import k8s_manifests
from k8s_manifests.crd_index import crd_index, manifest_problems
from tools.ack_crd_index import CRD_PATHS, REPOSITORY


def _pipeline() -> dict[str, Any]:
    return k8s_manifests.ack_pipeline(
        namespace_name="team-a",
        name="build",
        sagemaker_name="team-a-build",
        definition_body='{"Version": "2020-12-01"}',
        role_arn="arn:aws:iam::123456789012:role/runner",
        description="a pipeline",
        max_parallel_steps=3,
        retain=True,
    )


def test_the_index_is_of_the_pinned_chart_release() -> None:
    source = crd_index()["source"]
    assert source["repository"] == REPOSITORY
    assert source["tag"] == f"v{k8s_manifests.CHART_VERSION}"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])


def test_every_kind_has_its_provenance() -> None:
    kinds = crd_index()["kinds"]
    assert set(kinds) == set(CRD_PATHS)
    for kind, entry in kinds.items():
        assert entry["path"] == CRD_PATHS[kind]
        assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
        assert entry["fields"]["spec"] == "object"


def test_the_rbac_and_the_controller_name_kinds_the_crds_define() -> None:
    kinds = crd_index()["kinds"]
    for kind, plural in k8s_manifests.NAMESPACE_KINDS.items():
        assert kind in kinds
        assert CRD_PATHS[kind].endswith(f"_{plural}.yaml")
        assert kinds[kind]["apiVersion"] == k8s_manifests.ACK_API_VERSION
        assert kinds[kind]["scope"] == "Namespaced"
    assert kinds["IAMRoleSelector"]["scope"] == "Cluster"


def test_the_manifests_the_platform_writes_conform() -> None:
    for manifest in (
        _pipeline(),
        k8s_manifests.iam_role_selector("team-a", "arn:aws:iam::123456789012:role/r"),
    ):
        assert manifest_problems(manifest) == []


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("spec", "pipelineDefinitionBody"), "{}", "spec.pipelineDefinitionBody: not a field of the CRD"),
        (("spec", "roleArn"), "arn", "spec.roleArn: not a field of the CRD"),
        (
            ("spec", "parallelismConfiguration", "maxParallelExecutionSteps"),
            "3",
            "spec.parallelismConfiguration.maxParallelExecutionSteps: str where the CRD says integer",
        ),
        (
            ("spec", "parallelismConfiguration", "maxParallelExecutionSteps"),
            True,
            "spec.parallelismConfiguration.maxParallelExecutionSteps: bool where the CRD says integer",
        ),
        (("spec", "tags"), {"owner": "a"}, "spec.tags: dict where the CRD says array"),
        (("spec", "tags"), [{"key": "a", "val": "b"}], "spec.tags[].val: not a field of the CRD"),
        (
            ("spec", "pipelineDefinition"),
            {"Version": "2020-12-01"},
            "spec.pipelineDefinition: dict where the CRD says string",
        ),
    ],
    ids=[
        "unknown",
        "wrong-case",
        "string-for-int",
        "bool-for-int",
        "map-for-list",
        "unknown-in-item",
        "object",
    ],
)
def test_a_wrong_field_is_reported(path: tuple[str, ...], value: Any, problem: str) -> None:
    manifest = _pipeline()
    node = manifest
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert manifest_problems(manifest) == [f"Pipeline/build: {problem}"]


@pytest.mark.parametrize("field", ["pipelineName", "roleARN"])
def test_a_missing_required_field_is_reported(field: str) -> None:
    manifest = copy.deepcopy(_pipeline())
    del manifest["spec"][field]
    assert manifest_problems(manifest) == [f"Pipeline/build: spec.{field}: required by the CRD, missing"]


def test_a_wrong_api_version_is_reported() -> None:
    manifest = {**_pipeline(), "apiVersion": "sagemaker.services.k8s.aws/v1"}
    (problem,) = manifest_problems(manifest)
    assert problem.startswith("Pipeline/build: apiVersion 'sagemaker.services.k8s.aws/v1', the CRD serves ")


def test_the_selector_needs_its_role_and_namespaces() -> None:
    selector = k8s_manifests.iam_role_selector("team-a", "arn:aws:iam::123456789012:role/r")
    del selector["spec"]["namespaceSelector"]["names"]
    assert manifest_problems(selector) == [
        "IAMRoleSelector/sagemaker-platform-team-a: spec.namespaceSelector.names: required by the CRD, "
        "missing"
    ]


def test_the_readme_s_examples_conform() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    examples = [
        yaml.safe_load(block)
        for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
        if "services.k8s.aws/" in block
    ]
    assert [example["kind"] for example in examples] == ["PipelineExecution"]
    assert [problem for example in examples for problem in manifest_problems(example)] == []


def _value_problems(node: Any, chart_keys: dict[str, str], path: str = "") -> list[str]:
    """Keys of `node` the chart's defaults do not have, or of another type; a map the chart leaves empty
    (annotations, resource maps) takes any keys."""
    problems = []
    for key, child in node.items():
        where = f"{path}.{key}" if path else key
        kind = chart_keys.get(where)
        if kind is None:
            problems.append(f"{where}: not a value of the chart")
        elif isinstance(child, dict):
            if kind != "map":
                problems.append(f"{where}: a map where the chart has {kind}")
            elif any(other.startswith(f"{where}.") for other in chart_keys):
                problems.extend(_value_problems(child, chart_keys, where))
        elif kind != type(child).__name__:
            problems.append(f"{where}: {type(child).__name__} where the chart has {kind}")
    return problems


@pytest.mark.parametrize("irsa", [False, True], ids=["pod-identity", "irsa"])
@pytest.mark.parametrize("deletion_policy", ["delete", "retain"])
def test_the_chart_values_are_keys_of_the_pinned_chart(irsa: bool, deletion_policy: str) -> None:
    values = k8s_manifests.controller_values(
        region="eu-west-1",
        deletion_policy=deletion_policy,
        irsa_role_arn="arn:aws:iam::123456789012:role/controller" if irsa else None,
    )
    assert _value_problems(values, crd_index()["chart_values"]["keys"]) == []
    # The controller reconciles only kinds the CRDs define, and exactly those the namespaces' RBAC grants.
    assert values["reconcile"]["resources"] == sorted(k8s_manifests.NAMESPACE_KINDS)
    assert set(values["reconcile"]["resources"]) <= set(crd_index()["kinds"])


def test_a_value_the_chart_does_not_have_is_reported() -> None:
    chart_keys = crd_index()["chart_values"]["keys"]
    assert _value_problems({"featureGates": {"IAMRoleSelectors": True}}, chart_keys) == [
        "featureGates.IAMRoleSelectors: not a value of the chart"
    ]
    assert _value_problems({"enableCARM": "false"}, chart_keys) == [
        "enableCARM: str where the chart has bool"
    ]


def _endpoint() -> list[dict[str, Any]]:
    """Every field the endpoint builder writes: capture and rollback alarms included."""
    return k8s_manifests.ack_endpoint(
        namespace_name="team-a",
        endpoint_name="Scorer",
        model_name="team-a-Scorer-v3",
        config_name="team-a-Scorer-v3-abc123",
        model_package_arn="arn:aws:sagemaker:eu-west-1:123456789012:model-package/scorer/3",
        execution_role_arn="arn:aws:iam::123456789012:role/serving",
        subnet_ids=["subnet-1", "subnet-2"],
        security_group_ids=["sg-1"],
        variant_name="AllTraffic",
        instance_type="ml.m5.large",
        initial_instance_count=2,
        volume_key_arn="arn:aws:kms:eu-west-1:123456789012:key/k",
        capture=k8s_manifests.EndpointCapture(
            destination_s3_uri="s3://capture/data-capture/Scorer",
            key_arn="arn:aws:kms:eu-west-1:123456789012:key/k",
            sampling_percentage=20,
            csv_content_types=("text/csv",),
            json_content_types=("application/json",),
        ),
        rollout=k8s_manifests.EndpointRollout(baking_seconds=600, rollback_alarm_names=("a", "b")),
        retain=True,
    )


def test_the_endpoint_manifests_conform_and_refer_to_each_other_by_name() -> None:
    model, config, endpoint = _endpoint()
    assert [m["kind"] for m in (model, config, endpoint)] == ["Model", "EndpointConfig", "Endpoint"]
    for manifest in (model, config, endpoint):
        assert manifest_problems(manifest) == []
        # Kubernetes names are lower-case; the SageMaker names keep their case.
        assert manifest["metadata"]["name"] == manifest["metadata"]["name"].lower()
    assert config["spec"]["productionVariants"][0]["modelName"] == model["spec"]["modelName"]
    assert endpoint["spec"]["endpointConfigName"] == config["spec"]["endpointConfigName"]
    assert endpoint["spec"]["endpointName"] == "Scorer"


@pytest.mark.parametrize(
    ("index", "path", "value", "problem"),
    [
        (
            2,
            ("spec", "deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type"),
            "ALL_AT_ONCE",
            "spec.deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type: "
            "not a field of the CRD",
        ),
        (1, ("spec", "kmsKeyId"), "k", "spec.kmsKeyId: not a field of the CRD"),
        (
            0,
            ("spec", "enableNetworkIsolation"),
            "true",
            "spec.enableNetworkIsolation: str where the CRD says boolean",
        ),
    ],
    ids=["api-name-not-ack-s", "wrong-case", "string-for-bool"],
)
def test_a_wrong_endpoint_field_is_reported(
    index: int, path: tuple[str, ...], value: Any, problem: str
) -> None:
    manifest = _endpoint()[index]
    node = manifest
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert problem in " ".join(manifest_problems(manifest))
