"""make k8s-manifests: the Kubernetes stack's manifests as YAML, stack outputs as ${VARIABLE}s."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from k8s_manifests.crd_index import manifest_problems
from platform_config import load_platform, naming
from tests.conftest import CONFIG_DIR
from tests.k8s.support import write_served_endpoint_config
from tools.write_k8s_manifests import _Resolver, _variable, write_manifests


def test_references_become_variables_named_by_their_origin() -> None:
    resolver = _Resolver("dev-Kubernetes")
    joined = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {
                    "Fn::GetStackOutput": {
                        "StackName": "dev-Data",
                        "OutputName": "PublishOutputFnGetAttKeyArnAB12",
                    }
                },
                "/",
                {"Fn::GetAtt": ["Role1", "Arn"]},
            ],
        ]
    }
    assert resolver.text(joined) == "arn:${DEV_DATA_KEYARNAB12}/${DEV_KUBERNETES_ROLE1_ARN}"
    assert resolver.variables == {
        "DEV_DATA_KEYARNAB12": {"stack": "dev-Data", "output": "PublishOutputFnGetAttKeyArnAB12"},
        "DEV_KUBERNETES_ROLE1_ARN": {"stack": "dev-Kubernetes", "resource": "Role1", "value": "Arn"},
    }
    assert _variable("dev-Data:ExportsOutputFnGetAttKeyArn") == "DEV_DATA_KEYARN"


def test_the_written_files_are_the_stack_s_manifests(tmp_path: Path) -> None:
    platform = load_platform(CONFIG_DIR)
    (name, environment) = next((n, e) for n, e in platform.environments.items() if e.kubernetes is not None)
    assert environment.kubernetes is not None
    written = write_manifests(name, tmp_path / name)
    relative = sorted(str(path.relative_to(tmp_path / name)) for path in written)
    expected = ["controller/values.yaml", "variables.yaml"]
    for namespace in environment.kubernetes.namespaces:
        expected.append(f"{namespace.name}/namespace.yaml")
        expected += [f"{namespace.name}/pipeline-{pipeline}.yaml" for pipeline in namespace.pipelines]
    assert relative == sorted(expected)
    variables = yaml.safe_load((tmp_path / name / "variables.yaml").read_text())
    for path in written:
        text = path.read_text()
        assert "aws.cdk.eks/prune-" not in text
        used = set(re.findall(r"\$\{([A-Z0-9_]+)\}", text))
        if path.name != "variables.yaml":  # whose header explains the ${VARIABLE} notation
            assert used <= set(variables), path
        for document in yaml.safe_load_all(text):
            if isinstance(document, dict) and "kind" in document:
                assert manifest_problems(document) == []
    for namespace in environment.kubernetes.namespaces:
        for pipeline in namespace.pipelines:
            (document,) = yaml.safe_load_all(
                (tmp_path / name / namespace.name / f"pipeline-{pipeline}.yaml").read_text()
            )
            assert document["spec"]["pipelineName"] == naming.k8s_sagemaker_name(namespace.name, pipeline)
            assert '"Version": "2020-12-01"' in document["spec"]["pipelineDefinition"]


def test_a_served_endpoint_is_one_file_with_the_gate_s_warning(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    name = write_served_endpoint_config(CONFIG_DIR, config_dir)
    environment = load_platform(config_dir).environments[name]
    ((endpoint, namespace),) = environment.kubernetes_endpoints.items()
    written = write_manifests(name, tmp_path / name, config_dir=config_dir)
    path = tmp_path / name / namespace / f"endpoint-{endpoint.lower()}.yaml"
    assert path in written
    text = path.read_text()
    assert text.startswith("# No approval gate here")
    documents = list(yaml.safe_load_all(text))
    assert [document["kind"] for document in documents] == ["Model", "EndpointConfig", "Endpoint"]
    assert [problem for document in documents for problem in manifest_problems(document)] == []
