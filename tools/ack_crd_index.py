"""Derive the field index of the ACK SageMaker controller's custom resource definitions (ADR 0017).

Reads the CRDs of the kinds the platform applies from a clone of aws-controllers-k8s/sagemaker-controller
at the release tag matching the pinned chart (`k8s_manifests.CHART_VERSION`), and writes
`k8s_manifests/ack_crd_index.json`: for each kind, every field path of `spec` with its type, the required
paths and the source's provenance (repository, tag, commit, path, sha256). Descriptions, patterns and
printer columns are left out: the index is what a test needs to reject an unknown field, a wrong type or a
missing required field, not a copy of the definitions.

Refresh after a chart bump (needs the registry-free git clone only):

    git clone --bare https://github.com/aws-controllers-k8s/sagemaker-controller /tmp/ack-sagemaker.git
    .venv/bin/python -m tools.ack_crd_index --repo /tmp/ack-sagemaker.git

tests/k8s/test_crd_index.py fails when the index's tag does not match the pinned chart version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from k8s_manifests import CHART_VERSION
from k8s_manifests.crd_index import INDEX_FILE

REPOSITORY = "https://github.com/aws-controllers-k8s/sagemaker-controller"
# The CRD files (in the chart's crds/ folder) of the kinds the platform applies.
CRD_PATHS = {
    "Pipeline": "helm/crds/sagemaker.services.k8s.aws_pipelines.yaml",
    "PipelineExecution": "helm/crds/sagemaker.services.k8s.aws_pipelineexecutions.yaml",
    "TrainingJob": "helm/crds/sagemaker.services.k8s.aws_trainingjobs.yaml",
    "ProcessingJob": "helm/crds/sagemaker.services.k8s.aws_processingjobs.yaml",
    "TransformJob": "helm/crds/sagemaker.services.k8s.aws_transformjobs.yaml",
    "Model": "helm/crds/sagemaker.services.k8s.aws_models.yaml",
    "EndpointConfig": "helm/crds/sagemaker.services.k8s.aws_endpointconfigs.yaml",
    "Endpoint": "helm/crds/sagemaker.services.k8s.aws_endpoints.yaml",
    "IAMRoleSelector": "helm/crds/services.k8s.aws_iamroleselectors.yaml",
}


# The chart's default values: the keys the platform's values may set.
CHART_VALUES_PATH = "helm/values.yaml"


def _git(repo: Path, *arguments: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(repo), *arguments], check=True, capture_output=True).stdout


def _fields(schema: dict[str, Any], path: str, fields: dict[str, str], required: list[str]) -> None:
    """Every field path under `path` with its type; `[]` marks an array's items, `{}` a map's values."""
    kind = schema.get("type", "object" if "properties" in schema else "any")
    fields[path] = "int-or-string" if schema.get("x-kubernetes-int-or-string") else kind
    required.extend(f"{path}.{name}" for name in schema.get("required", ()))
    for name, child in sorted(schema.get("properties", {}).items()):
        _fields(child, f"{path}.{name}", fields, required)
    if kind == "array" and "items" in schema:
        _fields(schema["items"], f"{path}[]", fields, required)
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        _fields(additional, f"{path}{{}}", fields, required)


def build_index(repo: Path, tag: str) -> dict[str, Any]:
    commit = _git(repo, "rev-parse", f"{tag}^{{commit}}").decode().strip()
    kinds: dict[str, Any] = {}
    for kind, path in sorted(CRD_PATHS.items()):
        source = _git(repo, "show", f"{commit}:{path}")
        crd = yaml.safe_load(source)
        (version,) = [v for v in crd["spec"]["versions"] if v.get("storage")]
        spec_schema = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
        fields: dict[str, str] = {}
        required: list[str] = []
        _fields(spec_schema, "spec", fields, required)
        kinds[kind] = {
            "apiVersion": f"{crd['spec']['group']}/{version['name']}",
            "scope": crd["spec"]["scope"],
            "path": path,
            "sha256": hashlib.sha256(source).hexdigest(),
            "required": sorted(required),
            "fields": fields,
        }
    values_source = _git(repo, "show", f"{commit}:{CHART_VALUES_PATH}")
    chart_values: dict[str, str] = {}
    _value_paths(yaml.safe_load(values_source), "", chart_values)
    return {
        "source": {"repository": REPOSITORY, "tag": tag, "commit": commit},
        "generated_by": "tools/ack_crd_index.py",
        "kinds": kinds,
        "chart_values": {
            "path": CHART_VALUES_PATH,
            "sha256": hashlib.sha256(values_source).hexdigest(),
            "keys": chart_values,
        },
    }


def _value_paths(node: Any, path: str, found: dict[str, str]) -> None:
    """Every key path of the chart's default values with the type of its default (`map` for a mapping)."""
    if isinstance(node, dict):
        if path:
            found[path] = "map"
        for key, child in node.items():
            _value_paths(child, f"{path}.{key}" if path else str(key), found)
    else:
        found[path] = type(node).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a git dir of sagemaker-controller")
    parser.add_argument("--tag", default=f"v{CHART_VERSION}", help="the release tag (default: the chart's)")
    parser.add_argument("--out", type=Path, default=INDEX_FILE)
    arguments = parser.parse_args(argv)
    index = build_index(arguments.repo, arguments.tag)
    arguments.out.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    counts = ", ".join(f"{kind} {len(entry['fields'])}" for kind, entry in index["kinds"].items())
    print(f"{arguments.out}: {arguments.tag} ({index['source']['commit'][:12]}): fields per kind: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
