"""kubernetes: each bad value is one problem naming the file, the field and the fix (ADR 0017).

The section is written whole by the tests (cluster, roles, namespaces, a persona of their own), so nothing
depends on the sample's placeholder names; only the sample's first pipeline is referred to, by index.
"""

from __future__ import annotations

from typing import Any

import pytest

from platform_config import load_platform, naming
from tests.config.conftest import Change, EditConfig, check_problem, combine, only_problem, set_value

ACCOUNT = "110000000001"  # dev's, read back in the test below
PERSONA = "k8s-test-persona"
PERSONA_CONFIG = {
    "description": "Jobs from a test namespace",
    "capabilities": ["jobs"],
    "job_instance_types": ["ml.m5.large"],
}
KUBERNETES: dict[str, Any] = {
    "cluster_name": "test-cluster",
    "pod_credentials": "pod_identity",
    "kubectl_role_arn": f"arn:aws:iam::{ACCOUNT}:role/test-cluster-admin",
    "namespaces": [{"name": "team-a", "persona": PERSONA}],
}
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF"


def _with(section: dict[str, Any]) -> Change:
    return combine(
        set_value("studio", "personas", PERSONA, value=PERSONA_CONFIG), set_value("kubernetes", value=section)
    )


def _edited(**changes: Any) -> dict[str, Any]:
    return {**KUBERNETES, **changes}


def test_a_valid_section_loads_with_its_derived_names(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", _with(_edited(pod_credentials="irsa", oidc_provider_arn=OIDC)))
    environment = load_platform(config_dir).environments["dev"]
    assert environment.account_id == ACCOUNT
    kubernetes = environment.kubernetes
    assert kubernetes is not None
    assert kubernetes.oidc_issuer == "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF"
    assert kubernetes.controller_namespace == "ack-system"
    assert naming.ack_namespace_role_name("dev", "team-a") == "dev-sagemaker-platform-k8s-team-a"


@pytest.mark.parametrize(
    ("section", "field_path", "words"),
    [
        (_edited(cluster_name="-bad"), "kubernetes.cluster_name", ("is not an EKS cluster name",)),
        (
            _edited(kubectl_role_arn="test-cluster-admin"),
            "kubernetes.kubectl_role_arn",
            ("not an IAM role ARN",),
        ),
        (
            _edited(kubectl_role_arn="arn:aws:iam::220000000002:role/admin"),
            "kubernetes.kubectl_role_arn",
            (
                "account 220000000002 is not this environment's",
                "name the cluster's roles in the environment's account",
            ),
        ),
        (_edited(pod_credentials="irsa"), "kubernetes.oidc_provider_arn", ("IRSA needs", "pod_identity")),
        (
            _edited(oidc_provider_arn=OIDC),
            "kubernetes.oidc_provider_arn",
            ("only used with pod_credentials",),
        ),
        (
            _edited(pod_credentials="irsa", oidc_provider_arn=OIDC.replace("eu-west-1", "us-east-1")),
            "kubernetes.oidc_provider_arn",
            ("is not in region eu-west-1",),
        ),
        (
            _edited(pod_credentials="irsa", oidc_provider_arn="arn:aws:iam::110000000001:oidc-provider/x"),
            "kubernetes.oidc_provider_arn",
            ("is not an EKS OIDC provider ARN",),
        ),
        (_edited(pod_credentials="kiam"), "kubernetes.pod_credentials", ("'pod_identity' or 'irsa'",)),
        (_edited(namespaces=[]), "kubernetes.namespaces", ("at least 1",)),
        (
            _edited(namespaces=[{"name": "Team_A", "persona": PERSONA}]),
            "kubernetes.namespaces[0].name",
            ("is not a namespace the platform can use", "at most 30"),
        ),
        (
            _edited(namespaces=[{"name": "a" * 31, "persona": PERSONA}]),
            "kubernetes.namespaces[0].name",
            ("at most 30",),
        ),
        (
            _edited(namespaces=[{"name": "kube-public", "persona": PERSONA}]),
            "kubernetes.namespaces[0].name",
            ("Kubernetes keeps for itself",),
        ),
        (
            _edited(namespaces=[{"name": "team-a", "persona": PERSONA}] * 2),
            "kubernetes.namespaces",
            ("duplicate namespaces: team-a",),
        ),
        (
            _edited(namespaces=[{"name": "ack-system", "persona": PERSONA}]),
            "kubernetes.namespaces[0].name",
            ("'ack-system' is the controller's namespace",),
        ),
        (
            _edited(namespaces=[{"name": "team-a", "persona": "nobody"}]),
            "kubernetes.namespaces[0].persona",
            ("'nobody' is not a persona of studio.personas",),
        ),
        (
            _edited(namespaces=[{"name": "team-a", "persona": PERSONA, "pipelines": ["no-such-pipeline"]}]),
            "kubernetes.namespaces[0].pipelines[0]",
            ("'no-such-pipeline' is not a pipeline of pipelines",),
        ),
        (
            _edited(namespaces=[{"name": "team-a", "persona": PERSONA, "extra": 1}]),
            "kubernetes.namespaces[0].extra",
            ("unknown key; allowed keys here: endpoints, name, persona, pipelines",),
        ),
    ],
    ids=[
        "cluster-name",
        "kubectl-role-not-arn",
        "kubectl-role-other-account",
        "irsa-without-provider",
        "provider-without-irsa",
        "provider-other-region",
        "provider-not-eks",
        "unknown-credentials",
        "no-namespaces",
        "namespace-not-dns-label",
        "namespace-too-long",
        "namespace-reserved",
        "namespace-twice",
        "controller-namespace",
        "unknown-persona",
        "unknown-pipeline",
        "unknown-field",
    ],
)
def test_bad_kubernetes_section(
    config_copy: EditConfig, section: dict[str, Any], field_path: str, words: tuple[str, ...]
) -> None:
    config_dir = config_copy("dev", _with(section))
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", field_path, *words)


def test_a_persona_without_jobs_gives_no_guardrails(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        combine(
            _with(KUBERNETES), set_value("studio", "personas", PERSONA, "capabilities", value=["experiments"])
        ),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "kubernetes.namespaces[0].persona",
        "no 'jobs' capability",
    )


def test_a_network_isolated_persona_cannot_run_the_pipelines(config_copy: EditConfig) -> None:
    pipeline = load_platform(config_copy()).environments["dev"].pipelines[0].name
    namespaces = [{"name": "team-a", "persona": PERSONA, "pipelines": [pipeline]}]
    config_dir = config_copy(
        "dev",
        combine(
            _with(_edited(namespaces=namespaces)),
            set_value("studio", "personas", PERSONA, "network_isolation", value=True),
        ),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "kubernetes.namespaces[0].pipelines",
        "network isolation",
    )


def test_the_namespace_role_name_is_checked_against_iam(config_copy: EditConfig) -> None:
    # Role names stop at 64: a 20-character environment name and a 30-character namespace exceed it.
    config_dir = config_copy("dev", _with(_edited(namespaces=[{"name": "n" * 30, "persona": PERSONA}])))
    (config_dir / "dev.yaml").rename(config_dir / "dev-environment-long.yaml")
    for other in ("staging", "prod"):
        text = (config_dir / f"{other}.yaml").read_text().replace("[dev]", "[dev-environment-long]")
        (config_dir / f"{other}.yaml").write_text(text)
    problem = only_problem(config_dir)
    check_problem(
        problem, config_dir, "dev-environment-long.yaml", "kubernetes.namespaces[0].name", "role name"
    )
