"""Endpoints a Kubernetes namespace serves (ADR 0017): ACK resources in the Kubernetes stack, after the
pinned package's gate and with their alarms, and nothing of them created by the Serving stack; checked on
the fixture's serving environment given a persona and a cluster of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from k8s_manifests.crd_index import manifest_problems
from platform_config import EnvironmentConfig, PlatformConfig, load_platform, naming
from stacks.platform_stage import PlatformStage, build_app
from tests.conftest import CONFIG_DIR, build_platform
from tests.k8s.support import (
    MANIFEST_TYPE,
    SERVING_NAMESPACE,
    applied_manifests,
    find,
    serving_environment_name,
    text,
    write_served_endpoint_config,
)

NAMESPACE = SERVING_NAMESPACE
ENVIRONMENT = serving_environment_name(CONFIG_DIR)


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("k8s-endpoints") / "config"
    assert write_served_endpoint_config(CONFIG_DIR, folder) == ENVIRONMENT
    return folder


@pytest.fixture(scope="module")
def environment(config_dir: Path) -> EnvironmentConfig:
    return load_platform(config_dir).environments[ENVIRONMENT]


@pytest.fixture(scope="module")
def platform(config_dir: Path) -> PlatformConfig:
    return load_platform(config_dir)


@pytest.fixture(scope="module")
def stage(
    config_dir: Path, cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> PlatformStage:
    """Synthesized as app.py does: cdk-nag and the template validator raise on findings."""
    outdir = tmp_path_factory.mktemp("k8s-endpoints.out")
    app, stages = build_app(
        load_platform(config_dir), environments=[ENVIRONMENT], context=cdk_context, outdir=str(outdir)
    )
    app.synth()
    return stages[ENVIRONMENT]


@pytest.fixture(scope="module")
def templates(stage: PlatformStage) -> dict[str, dict[str, Any]]:
    return {
        stack.stack_name: dict(Template.from_stack(stack).to_json())
        for stack in stage.node.children
        if isinstance(stack, cdk.Stack)
    }


def _served(environment: EnvironmentConfig) -> str:
    (name,) = environment.kubernetes_endpoints
    return name


def test_the_serving_stack_creates_nothing_of_a_served_endpoint(
    stage: PlatformStage, templates: dict[str, Any], environment: EnvironmentConfig
) -> None:
    assert stage.serving is not None
    resources = templates[stage.serving.stack_name]["Resources"].values()
    name = _served(environment)
    assert not [r for r in resources if r["Type"].startswith("AWS::SageMaker::Endpoint")]
    assert not [
        r for r in resources if r["Type"] in ("AWS::SageMaker::Model", "AWS::SageMaker::MonitoringSchedule")
    ]
    assert not [r for r in resources if r["Type"] == "Custom::ModelPackage"]
    # Its alarms are the Kubernetes stack's; the serving role's capture access stays here.
    assert not [
        r
        for r in resources
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and str(r["Properties"].get("AlarmName", "")).startswith(f"{ENVIRONMENT}-{name}-")
    ]
    assert stage.serving.endpoints == {}


def test_the_kubernetes_stack_applies_it_as_ack_resources(
    stage: PlatformStage, templates: dict[str, Any], environment: EnvironmentConfig, platform: PlatformConfig
) -> None:
    assert stage.kubernetes is not None and environment.serving is not None
    stack_name = stage.kubernetes.stack_name
    manifests = applied_manifests(stack_name, templates)
    name = _served(environment)
    endpoint = next(e for e in environment.serving.endpoints if e.name == name)
    assert endpoint.instances is not None
    ack = find(manifests, "Endpoint", namespace=NAMESPACE, name=name.lower())
    config = find(manifests, "EndpointConfig", namespace=NAMESPACE)
    model = find(manifests, "Model", namespace=NAMESPACE)
    for manifest in (ack, config, model):
        assert manifest_problems(manifest) == []
    assert ack["spec"]["endpointName"] == name
    assert ack["spec"]["endpointConfigName"] == config["spec"]["endpointConfigName"]
    assert config["spec"]["endpointConfigName"] == naming.k8s_endpoint_config_name(NAMESPACE, endpoint)
    assert config["spec"]["productionVariants"][0]["modelName"] == model["spec"]["modelName"]
    assert model["spec"]["modelName"] == naming.k8s_model_name(NAMESPACE, endpoint)
    (source,) = [platform.environments[endpoint.model_package.source]]
    assert model["spec"]["containers"] == [
        {
            "modelPackageName": naming.model_package_arn(
                source, endpoint.model_package.group, endpoint.model_package.version
            )
        }
    ]
    assert model["spec"]["executionRoleARN"] == naming.role_arn(
        environment, naming.serving_execution_role_name(ENVIRONMENT)
    )
    assert model["spec"]["enableNetworkIsolation"] is True
    assert model["spec"]["vpcConfig"]["subnets"] and model["spec"]["vpcConfig"]["securityGroupIDs"]
    variant = config["spec"]["productionVariants"][0]
    assert variant["instanceType"] == endpoint.instances.instance_type
    assert variant["initialInstanceCount"] == endpoint.instances.initial_instance_count
    assert config["spec"]["kmsKeyID"].startswith("<")  # the data key, a reference
    capture = config["spec"]["dataCaptureConfig"]
    assert (
        capture["destinationS3URI"] == f"s3://{naming.capture_bucket_name(environment)}/data-capture/{name}"
    )
    assert capture["kmsKeyID"] == config["spec"]["kmsKeyID"]
    alarms = ack["spec"]["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert [alarm["alarmName"] for alarm in alarms] == stage.kubernetes.endpoint_alarms[
        name
    ].rollback_alarm_names


def test_the_endpoint_waits_for_its_gate_and_its_alarms(
    stage: PlatformStage, templates: dict[str, Any], environment: EnvironmentConfig
) -> None:
    assert stage.kubernetes is not None
    resources = templates[stage.kubernetes.stack_name]["Resources"]
    name = _served(environment)
    (gate_id,) = [logical_id for logical_id, r in resources.items() if r["Type"] == "Custom::ModelPackage"]
    assert resources[gate_id]["Properties"]["RequireApproved"] == "true"
    (applied_id,) = [
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == MANIFEST_TYPE
        and any(
            d["kind"] == "Endpoint" for d in json.loads(text(r["Properties"]["Manifest"], "x", templates))
        )
    ]
    depends_on = set(resources[applied_id]["DependsOn"])
    assert gate_id in depends_on
    alarm_ids = {
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"]["AlarmName"] in stage.kubernetes.endpoint_alarms[name].rollback_alarm_names
    }
    assert alarm_ids and alarm_ids <= depends_on


def test_the_source_registry_lets_the_gate_and_the_namespace_read_the_package(
    config_dir: Path, cdk_context: dict[str, Any], environment: EnvironmentConfig, platform: PlatformConfig
) -> None:
    assert environment.serving is not None
    source_name = environment.serving.endpoints[0].model_package.source
    source = build_platform(config_dir, cdk_context, [source_name])[source_name]
    assert source.registry is not None
    policies = json.dumps(Template.from_stack(source.registry).to_json())
    for role in (
        naming.k8s_package_reader_role_name(ENVIRONMENT),
        naming.ack_namespace_role_name(ENVIRONMENT, NAMESPACE),
    ):
        assert naming.role_arn(environment, role) in policies, role
