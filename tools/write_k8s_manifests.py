"""Write an environment's Kubernetes manifests as YAML, for teams that apply them with Argo CD or Flux.

`make k8s-manifests ENV=dev` synthesizes the environment's Stage exactly as `app.py` does and writes what
its Kubernetes stack applies (the manifests of `KubernetesStack.manifests`, as the template holds them) and
the controller's Helm values into `k8s-manifests/<env>/`:

    controller/values.yaml           the chart's values (the install command is at its top)
    <namespace>/namespace.yaml       the namespace, its RBAC and its IAMRoleSelector
    <namespace>/pipeline-<name>.yaml each ACK pipeline (Kubernetes name)
    <namespace>/endpoint-<name>.yaml each endpoint it serves: Model, EndpointConfig, Endpoint
    variables.yaml                   what each ${VARIABLE} stands for

Values only known once CloudFormation has deployed the stacks (the data key's ARN, the security group and
subnet ids, the pipeline role's ARN: outputs of the other stacks) are written as `${VARIABLE}`: Flux
substitutes them (`postBuild.substituteFrom`), Argo CD with a plugin or after `envsubst`.
`variables.yaml` names the CloudFormation export or resource each one comes from. Every ACK resource is
checked against the CRD field index before anything is written.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from k8s_manifests import CHART_REPOSITORY, CHART_VERSION
from k8s_manifests.crd_index import manifest_problems
from platform_config import ConfigError, load_platform
from stacks.platform_stage import build_app, read_cdk_context

ROOT = Path(__file__).resolve().parent.parent
HELM_CHART_TYPE = "Custom::AWSCDK-EKS-HelmChart"
MANIFEST_TYPE = "Custom::AWSCDK-EKS-KubernetesResource"


PRUNE_LABEL_PREFIX = "aws.cdk.eks/prune-"
# CloudFormation applies an endpoint only after reading its pinned package as Approved; these files cannot.
ENDPOINT_NOTE = (
    "# No approval gate here: the Kubernetes stack applies this only after reading the pinned model package\n"
    "# as Approved. Applied from these files, check that yourself first (ADR 0017).\n"
)


def _variable(name: str) -> str:
    name = name.replace(":ExportsOutput", "_").replace("FnGetAtt", "", 1)
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


class _Resolver:
    """A synthesized template's intrinsics to text: joins joined, references as ${VARIABLE}s, recorded."""

    def __init__(self, stack_name: str) -> None:
        self.stack_name = stack_name
        self.variables: dict[str, dict[str, str]] = {}

    def text(self, node: Any) -> str:
        if isinstance(node, str):
            return node
        ((function, argument),) = node.items()
        if function == "Fn::Join":
            return str(argument[0]).join(self.text(item) for item in argument[1])
        if function == "Fn::ImportValue":
            return self._record(_variable(argument), {"cloudformation_export": argument})
        if function == "Fn::GetStackOutput":
            # CDK's cross-stack reference within one account and region: another stack's output.
            stack, output = argument["StackName"], argument["OutputName"]
            return self._record(
                _variable(f"{stack}_{output.removeprefix('PublishOutput')}"),
                {"stack": stack, "output": output},
            )
        if function == "Ref":
            return self._record(
                _variable(f"{self.stack_name}_{argument}"),
                {"stack": self.stack_name, "resource": argument, "value": "Ref"},
            )
        if function == "Fn::GetAtt":
            logical_id, attribute = argument
            return self._record(
                _variable(f"{self.stack_name}_{logical_id}_{attribute}"),
                {"stack": self.stack_name, "resource": logical_id, "value": attribute},
            )
        raise ValueError(f"no text for {function} in a manifest")

    def _record(self, variable: str, origin: dict[str, str]) -> str:
        self.variables[variable] = origin
        return f"${{{variable}}}"


def _without_prune_labels(manifest: dict[str, Any]) -> dict[str, Any]:
    """CDK labels what it applies to prune it later; a GitOps tool prunes by its own means."""
    labels = manifest.get("metadata", {}).get("labels", {})
    for label in [label for label in labels if label.startswith(PRUNE_LABEL_PREFIX)]:
        del labels[label]
    return manifest


def _yaml(documents: list[Any]) -> str:
    return yaml.safe_dump_all(documents, sort_keys=False, width=1_000_000, allow_unicode=True)


def write_manifests(environment: str, out: Path, *, config_dir: Path = ROOT / "config") -> list[Path]:
    """Synthesize the environment (as app.py does, cdk-nag included), then write what its Kubernetes stack
    applies into `out` (emptied first); returns the paths written."""
    platform = load_platform(config_dir)
    with tempfile.TemporaryDirectory() as outdir:
        app, stages = build_app(
            platform, environments=[environment], context=read_cdk_context(ROOT / "cdk.json"), outdir=outdir
        )
        stack = stages[environment].kubernetes
        if stack is None:
            raise ConfigError([f"{environment}: no kubernetes section; nothing to write"])
        template = app.synth().get_stack_artifact(stack.artifact_id).template
    resolver = _Resolver(stack.stack_name)
    files: dict[Path, str] = {}
    problems: list[str] = []
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == HELM_CHART_TYPE:
            values = json.loads(resolver.text(properties["Values"]))
            files[Path("controller/values.yaml")] = (
                f"# helm install {properties['Release']} {CHART_REPOSITORY} --version {CHART_VERSION} \\\n"
                f"#   --namespace {properties['Namespace']} --create-namespace -f values.yaml\n"
                + _yaml([values])
            )
        elif resource["Type"] == MANIFEST_TYPE:
            documents = [
                _without_prune_labels(document)
                for document in json.loads(resolver.text(properties["Manifest"]))
            ]
            problems.extend(problem for document in documents for problem in manifest_problems(document))
            first = documents[0]
            if first["kind"] == "Namespace":
                files[Path(first["metadata"]["name"]) / "namespace.yaml"] = _yaml(documents)
            else:
                # An endpoint's Model, EndpointConfig and Endpoint are one file, named by the endpoint.
                named = next((d for d in documents if d["kind"] == "Endpoint"), first)
                metadata = named["metadata"]
                name = f"{named['kind'].lower()}-{metadata['name']}.yaml"
                files[Path(metadata["namespace"]) / name] = (
                    ENDPOINT_NOTE if named is not first else ""
                ) + _yaml(documents)
    if problems:
        raise ValueError("manifests the controller's CRDs would refuse:\n  " + "\n  ".join(problems))
    files[Path("variables.yaml")] = (
        "# What each ${VARIABLE} in these manifests stands for, once the environment is deployed.\n"
        + _yaml([dict(sorted(resolver.variables.items()))])
    )
    shutil.rmtree(out, ignore_errors=True)
    for path, text in files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text)
    return sorted(out / path for path in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--out", type=Path, default=None, help="default: k8s-manifests/<env>")
    arguments = parser.parse_args(argv)
    out = arguments.out or ROOT / "k8s-manifests" / arguments.env
    try:
        written = write_manifests(arguments.env, out)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
