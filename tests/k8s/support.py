"""The Kubernetes stack's manifests as applied, read back from synthesized templates."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

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


def templates_of(template_of: Callable[[str], Mapping[str, Any]], stack_names: list[str]) -> dict[str, Any]:
    return {name: template_of(name) for name in stack_names}
