"""The Kubernetes stack: the ACK controller's chart and role, a role per namespace, and the namespaces'
manifests, checked on the sample (whatever it configures) and on a fixture configuration of its own (IRSA,
a retaining environment, two namespaces, one running every configured pipeline)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

import k8s_manifests
from k8s_manifests.crd_index import manifest_problems
from platform_config import PlatformConfig, load_platform, naming
from stacks.platform_stage import PlatformStage
from tests.conftest import CONFIG_DIR, SynthesizedApp, build_platform
from tests.k8s.support import HELM_CHART_TYPE, MANIFEST_TYPE, applied_manifests, find, text

ENVIRONMENT = "dev"  # the fixture's environment: the sample's build environment, which has pipelines
CLUSTER = "fixture-cluster"
PERSONA = "fixture-k8s"
OIDC_ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/FEEDFACE0123"
RUNNER, WATCHER = "runner-ns", "watcher-ns"


def _stage_templates(stage: PlatformStage) -> dict[str, dict[str, Any]]:
    return {
        stack.stack_name: dict(Template.from_stack(stack).to_json())
        for stack in stage.node.children
        if isinstance(stack, cdk.Stack)
    }


@pytest.fixture(scope="module")
def fixture_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config_dir = tmp_path_factory.mktemp("k8s") / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    path = config_dir / f"{ENVIRONMENT}.yaml"
    data = yaml.safe_load(path.read_text())
    account = data["account_id"]
    data["retain_stateful_resources"] = True
    data["studio"]["personas"][PERSONA] = {
        "description": "Jobs started from the fixture's namespaces",
        "capabilities": ["jobs"],
        "job_instance_types": ["ml.m5.large", "ml.c5.xlarge"],
    }
    data["kubernetes"] = {
        "cluster_name": CLUSTER,
        "pod_credentials": "irsa",
        "oidc_provider_arn": f"arn:aws:iam::{account}:oidc-provider/{OIDC_ISSUER}",
        "kubectl_role_arn": f"arn:aws:iam::{account}:role/fixture-admin",
        "controller_namespace": "fixture-ack",
        "namespaces": [
            {"name": RUNNER, "persona": PERSONA, "pipelines": [p["name"] for p in data["pipelines"]]},
            {"name": WATCHER, "persona": PERSONA},
        ],
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return config_dir


@pytest.fixture(scope="module")
def fixture_platform(fixture_config: Path) -> PlatformConfig:
    return load_platform(fixture_config)


@pytest.fixture(scope="module")
def fixture_stage(fixture_config: Path, cdk_context: dict[str, Any]) -> PlatformStage:
    return build_platform(fixture_config, cdk_context, [ENVIRONMENT])[ENVIRONMENT]


@pytest.fixture(scope="module")
def fixture_templates(fixture_stage: PlatformStage) -> dict[str, dict[str, Any]]:
    return _stage_templates(fixture_stage)


@pytest.fixture(scope="module")
def sample_templates(synthesized: SynthesizedApp, sample_platform: PlatformConfig) -> dict[str, Any]:
    return {
        name: _stage_templates(synthesized.stages[name])
        for name, environment in sample_platform.environments.items()
        if environment.kubernetes is not None
    }


def _kubernetes_name(stage: PlatformStage) -> str:
    assert stage.kubernetes is not None
    return stage.kubernetes.stack_name


def _pipeline_bodies(stage: PlatformStage, templates: Mapping[str, Any]) -> dict[str, str]:
    """The CloudFormation pipelines' bodies as deployed, by pipeline name."""
    assert stage.pipelines is not None
    name = stage.pipelines.stack_name
    return {
        resource["Properties"]["PipelineName"]: text(
            resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"], name, templates
        )
        for resource in templates[name]["Resources"].values()
        if resource["Type"] == "AWS::SageMaker::Pipeline"
    }


def _check_parity(platform: PlatformConfig, environment: str, stage: PlatformStage, templates: Any) -> int:
    kubernetes = platform.environments[environment].kubernetes
    assert kubernetes is not None
    bodies = _pipeline_bodies(stage, templates)
    manifests = applied_manifests(_kubernetes_name(stage), templates)
    compared = 0
    for namespace in kubernetes.namespaces:
        for pipeline in namespace.pipelines:
            ack = find(manifests, "Pipeline", namespace=namespace.name, name=pipeline)
            # Byte for byte: the same render, with the same references in the same places.
            assert ack["spec"]["pipelineDefinition"] == bodies[pipeline]
            assert ack["spec"]["pipelineName"] == naming.k8s_sagemaker_name(namespace.name, pipeline)
            compared += 1
    return compared


def test_each_ack_pipeline_has_the_cloudformation_pipeline_s_body(
    fixture_platform: PlatformConfig, fixture_stage: PlatformStage, fixture_templates: dict[str, Any]
) -> None:
    compared = _check_parity(fixture_platform, ENVIRONMENT, fixture_stage, fixture_templates)
    assert compared == len(fixture_platform.environments[ENVIRONMENT].pipelines) > 0


def test_the_sample_s_ack_pipelines_have_the_cloudformation_bodies(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, sample_templates: dict[str, Any]
) -> None:
    for name, templates in sample_templates.items():
        _check_parity(sample_platform, name, synthesized.stages[name], templates)


def test_every_applied_manifest_conforms_to_the_controller_s_crds(
    fixture_stage: PlatformStage,
    fixture_templates: dict[str, Any],
    synthesized: SynthesizedApp,
    sample_templates: dict[str, Any],
) -> None:
    applied = applied_manifests(_kubernetes_name(fixture_stage), fixture_templates)
    for name, templates in sample_templates.items():
        applied += applied_manifests(_kubernetes_name(synthesized.stages[name]), templates)
    ack = [manifest for manifest in applied if manifest["apiVersion"].endswith(".k8s.aws/v1alpha1")]
    assert {manifest["kind"] for manifest in ack} == {"Pipeline", "IAMRoleSelector"}
    assert [problem for manifest in ack for problem in manifest_problems(manifest)] == []


def test_each_namespace_gets_rbac_and_a_role_of_its_own(
    fixture_stage: PlatformStage, fixture_templates: dict[str, Any], fixture_platform: PlatformConfig
) -> None:
    manifests = applied_manifests(_kubernetes_name(fixture_stage), fixture_templates)
    environment = fixture_platform.environments[ENVIRONMENT]
    for namespace in (RUNNER, WATCHER):
        role = find(manifests, "Role", namespace=namespace)
        (rule,) = role["rules"]
        assert rule["apiGroups"] == ["sagemaker.services.k8s.aws"]
        assert set(rule["resources"]) == set(k8s_manifests.NAMESPACE_KINDS.values())
        binding = find(manifests, "RoleBinding", namespace=namespace)
        # A namespaced Role bound to this namespace's service accounts only.
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": role["metadata"]["name"],
        }
        assert binding["subjects"] == [
            {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Group",
                "name": f"system:serviceaccounts:{namespace}",
            }
        ]
        selector = find(manifests, "IAMRoleSelector", name=f"sagemaker-platform-{namespace}")
        assert selector["spec"] == {
            "arn": naming.role_arn(environment, naming.ack_namespace_role_name(ENVIRONMENT, namespace)),
            "namespaceSelector": {"names": [namespace]},
        }
    assert not [m for m in manifests if m["kind"] == "Pipeline" and m["metadata"]["namespace"] == WATCHER]


def test_a_retaining_environment_keeps_the_sagemaker_objects_of_deleted_resources(
    fixture_stage: PlatformStage, fixture_templates: dict[str, Any]
) -> None:
    name = _kubernetes_name(fixture_stage)
    for manifest in applied_manifests(name, fixture_templates):
        if manifest["kind"] == "Pipeline":
            assert manifest["metadata"]["annotations"] == {k8s_manifests.DELETION_POLICY_ANNOTATION: "retain"}
    (chart,) = [r for r in fixture_templates[name]["Resources"].values() if r["Type"] == HELM_CHART_TYPE]
    assert (
        json.loads(text(chart["Properties"]["Values"], name, fixture_templates))["deletionPolicy"] == "retain"
    )


def test_a_disposable_environment_lets_ack_delete_what_it_created(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, sample_templates: dict[str, Any]
) -> None:
    for environment, templates in sample_templates.items():
        if sample_platform.environments[environment].retain_stateful_resources:
            continue
        name = _kubernetes_name(synthesized.stages[environment])
        for manifest in applied_manifests(name, templates):
            assert k8s_manifests.DELETION_POLICY_ANNOTATION not in manifest["metadata"].get("annotations", {})
        (chart,) = [r for r in templates[name]["Resources"].values() if r["Type"] == HELM_CHART_TYPE]
        assert json.loads(text(chart["Properties"]["Values"], name, templates))["deletionPolicy"] == "delete"


def test_the_chart_is_the_pinned_public_oci_chart_with_irsa(
    fixture_stage: PlatformStage, fixture_templates: dict[str, Any], fixture_platform: PlatformConfig
) -> None:
    name = _kubernetes_name(fixture_stage)
    resources = fixture_templates[name]["Resources"]
    (chart,) = [r for r in resources.values() if r["Type"] == HELM_CHART_TYPE]
    properties = chart["Properties"]
    assert properties["Repository"] == "oci://public.ecr.aws/aws-controllers-k8s/sagemaker-chart"
    assert properties["Version"] == k8s_manifests.CHART_VERSION
    assert properties["ClusterName"] == CLUSTER
    assert properties["Namespace"] == "fixture-ack"
    values = json.loads(text(properties["Values"], name, fixture_templates))
    role_arn = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role_arn.startswith(f"<{name}/") and role_arn.endswith(".Arn>")
    assert values["featureGates"] == {"IAMRoleSelector": True}
    assert not [r for r in resources.values() if r["Type"] == "AWS::EKS::PodIdentityAssociation"]
    (controller,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Role"
        and r["Properties"].get("RoleName") == naming.ack_controller_role_name(ENVIRONMENT)
    ]
    (trust,) = controller["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {
        "StringEquals": {
            f"{OIDC_ISSUER}:sub": "system:serviceaccount:fixture-ack:ack-sagemaker-controller",
            f"{OIDC_ISSUER}:aud": "sts.amazonaws.com",
        }
    }


def test_the_controller_role_may_only_assume_the_namespace_roles(
    fixture_stage: PlatformStage, fixture_templates: dict[str, Any], fixture_platform: PlatformConfig
) -> None:
    name = _kubernetes_name(fixture_stage)
    environment = fixture_platform.environments[ENVIRONMENT]
    resources = fixture_templates[name]["Resources"]
    controller_id = next(
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::IAM::Role"
        and r["Properties"].get("RoleName") == naming.ack_controller_role_name(ENVIRONMENT)
    )
    statements = [
        statement
        for r in resources.values()
        if r["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        and {"Ref": controller_id} in r["Properties"].get("Roles", [])
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements == [
        {
            "Sid": "AssumeNamespaceRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [
                naming.role_arn(environment, naming.ack_namespace_role_name(ENVIRONMENT, namespace))
                for namespace in (RUNNER, WATCHER)
            ],
        }
    ]


def test_the_manifests_wait_for_the_controller_and_their_roles(
    fixture_stage: PlatformStage, fixture_templates: dict[str, Any]
) -> None:
    resources = fixture_templates[_kubernetes_name(fixture_stage)]["Resources"]
    (chart_id,) = [logical_id for logical_id, r in resources.items() if r["Type"] == HELM_CHART_TYPE]
    role_ids = {
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::IAM::Role" and RUNNER in r["Properties"].get("RoleName", "")
    }
    manifests = {logical_id: r for logical_id, r in resources.items() if r["Type"] == MANIFEST_TYPE}
    assert len(manifests) == 2 + len(fixture_stage.kubernetes.manifests[RUNNER].pipelines)  # type: ignore[union-attr]
    for logical_id, resource in manifests.items():
        depends_on = set(resource.get("DependsOn", []))
        if logical_id.startswith("Namespace"):
            assert chart_id in depends_on, logical_id
        if RUNNER.replace("-", "") in logical_id:
            assert role_ids <= depends_on, logical_id
