"""The Kubernetes stack's manifests as applied, read back from synthesized templates."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from platform_config import load_platform

MANIFEST_TYPE = "Custom::AWSCDK-EKS-KubernetesResource"
HELM_CHART_TYPE = "Custom::AWSCDK-EKS-HelmChart"

# A stack's template by its CloudFormation name (another stack's outputs are read through it).
Templates = Mapping[str, Mapping[str, Any]]


def text(node: Any, stack_name: str, templates: Templates) -> str:
    """A string property as deployed, each reference replaced by `<stack/logical id.attribute>`: a
    `Fn::GetStackOutput` reads the same as the reference it publishes in the producing stack."""
    if isinstance(node, str):
        return node
    ((function, argument),) = node.items()
    if function == "Fn::Join":
        return str(argument[0]).join(text(part, stack_name, templates) for part in argument[1])
    if function == "Ref":
        return f"<{stack_name}/{argument}>"
    if function == "Fn::GetAtt":
        return f"<{stack_name}/{argument[0]}.{argument[1]}>"
    if function == "Fn::GetStackOutput":
        producer = argument["StackName"]
        value = templates[producer]["Outputs"][argument["OutputName"]]["Value"]
        return text(value, producer, templates)
    raise AssertionError(f"unexpected intrinsic {function} in a deployed string")


def applied_manifests(stack_name: str, templates: Templates) -> list[dict[str, Any]]:
    """Every document of every KubernetesManifest of the stack."""
    resources = templates[stack_name]["Resources"].values()
    return [
        document
        for resource in resources
        if resource["Type"] == MANIFEST_TYPE
        for document in json.loads(text(resource["Properties"]["Manifest"], stack_name, templates))
    ]


def find(manifests: list[dict[str, Any]], kind: str, **metadata: str) -> dict[str, Any]:
    (found,) = [
        manifest
        for manifest in manifests
        if manifest["kind"] == kind and all(manifest["metadata"].get(k) == v for k, v in metadata.items())
    ]
    return found


SERVING_PERSONA = "fixture-serving"
SERVING_NAMESPACE = "serving-ns"


def serving_environment_name(config_dir: Path) -> str:
    """The first environment of config_dir with endpoints and no cluster."""
    return next(
        name
        for name, environment in load_platform(config_dir).environments.items()
        if environment.serving is not None and environment.kubernetes is None
    )


def write_served_endpoint_config(source: Path, target: Path) -> str:
    """A copy of `source` whose first serving environment gets a persona, a Studio domain and a cluster
    whose namespace serves its first endpoint (unmonitored, without autoscaling, as the ACK path requires);
    returns that environment's name."""
    shutil.copytree(source, target)
    name = serving_environment_name(source)
    path = target / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    endpoint = data["serving"]["endpoints"][0]
    endpoint.pop("autoscaling", None)
    endpoint["monitoring"] = {"enabled": False}
    data["studio"] = {
        "personas": {
            SERVING_PERSONA: {
                "description": "Serves endpoints from the fixture's cluster",
                "capabilities": ["jobs", "endpoints"],
                "job_instance_types": [endpoint["instances"]["instance_type"]],
            }
        },
        "domains": [
            {"name": "k8s-ops", "default_persona": SERVING_PERSONA, "idle_shutdown": {"default_minutes": 60}}
        ],
    }
    data["kubernetes"] = {
        "cluster_name": "fixture-serving-cluster",
        "kubectl_role_arn": f"arn:aws:iam::{data['account_id']}:role/fixture-admin",
        "namespaces": [
            {"name": SERVING_NAMESPACE, "persona": SERVING_PERSONA, "endpoints": [endpoint["name"]]}
        ],
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return name
