"""A configuration the tests write, unlike the sample in every name, for the IAM matrix.

Four environments in their own accounts (one build environment with two Studio domains and three serving
environments, one of them with an external id and an organization), personas with and without jobs (one
with notebook jobs only), repositories, groups, pipelines and endpoints named differently from the sample
(live serves a mixed-case group no pipeline builds), role paths, the platform's own permissions boundary in
the build environment and an existing one in `live`, a bootstrap qualifier of its own in `preprod`, and
scheduled notebooks run as the notebook job role and as personas' roles, and qa's endpoint served from a
Kubernetes namespace through ACK. The matrix must hold on it as it does on the sample: nothing in the
evaluation may depend on the sample's names.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

BUILD, QA, PREPROD, LIVE = "mlbuild", "qa", "preprod", "live"
# live's roles carry a boundary its account already has: an organization's usual shape, allowing what the
# identity policies grant except identity and organization changes.
EXISTING_BOUNDARY_ARN = "arn:aws:iam::707070707070:policy/org/workload-boundary"
EXISTING_BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "CapNotGrant", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Sid": "NoIdentityChanges",
            "Effect": "Deny",
            "Action": [
                "iam:Create*",
                "iam:Put*",
                "iam:Attach*",
                "iam:Delete*",
                "iam:Update*",
                "organizations:*",
            ],
            "Resource": "*",
        },
    ],
}
ACCOUNTS = {BUILD: "404040404040", QA: "505050505050", PREPROD: "606060606060", LIVE: "707070707070"}
REGIONS = {BUILD: "us-east-2", QA: "us-east-2", PREPROD: "eu-central-1", LIVE: "eu-central-1"}


def _endpoint(name: str, group: str, version: int) -> dict[str, Any]:
    return {
        "name": name,
        "model_package": {"source": BUILD, "group": group, "version": version},
        "instances": {"instance_type": "ml.c5.xlarge", "initial_instance_count": 1},
        "smoke_tests": [{"name": "one-row", "body": "1,2,3\n", "expect": {"answers": 1}}],
    }


def _serving_environment(
    name: str, cidr: str, zones: list[str], group: str = "fraud-scorer", **extra: Any
) -> dict[str, Any]:
    return {
        "account_id": ACCOUNTS[name],
        "region": REGIONS[name],
        "retain_stateful_resources": True,
        "trusted_environments": [BUILD],
        "network": {"new_vpc": {"cidr": cidr, "availability_zones": zones}},
        "serving": {"endpoints": [_endpoint(f"{name}-{group.lower()}", group, 12)]},
        **extra,
    }


def _served_from_kubernetes(environment: dict[str, Any]) -> dict[str, Any]:
    """A serving environment whose endpoint a cluster's namespace serves through ACK (ADR 0017), unmonitored
    as the ACK path requires, with the Studio persona that gives the namespace its guardrails."""
    (endpoint,) = environment["serving"]["endpoints"]
    endpoint["monitoring"] = {"enabled": False}
    account = environment["account_id"]
    environment["studio"] = {
        "personas": {
            "scorer": {
                "description": "Serves the scoring endpoint from the cluster.",
                "capabilities": ["jobs", "endpoints"],
                "job_instance_types": [endpoint["instances"]["instance_type"]],
            }
        },
        "domains": [
            {"name": "scoring-ops", "default_persona": "scorer", "idle_shutdown": {"default_minutes": 60}}
        ],
    }
    environment["kubernetes"] = {
        "cluster_name": "scoring-eks",
        "kubectl_role_arn": f"arn:aws:iam::{account}:role/scoring-eks-admin",
        "namespaces": [{"name": "scoring", "persona": "scorer", "endpoints": [endpoint["name"]]}],
    }
    return environment


def environments() -> dict[str, dict[str, Any]]:
    """The four environment files, as parsed YAML."""
    build: dict[str, Any] = {
        "account_id": ACCOUNTS[BUILD],
        "region": REGIONS[BUILD],
        "retain_stateful_resources": False,
        "serves_environments": [QA, PREPROD, LIVE],
        "iam": {"role_path": "/ml-platform/build/", "permissions_boundary": {"create": True}},
        "network": {
            "new_vpc": {"cidr": "172.16.0.0/16", "availability_zones": ["us-east-2a", "us-east-2b"]},
        },
        "images": {
            "repositories": [
                {"name": "fraud-trainer"},
                {"name": "vision-notebook", "studio_image": {"image_tag": "v7", "display_name": "Vision"}},
            ]
        },
        "model_registry": {
            "groups": [
                {
                    "name": "fraud-scorer",
                    "description": "Scores card transactions.",
                    "baseline": {"metric": "auc", "threshold": 0.8},
                },
                {"name": "Image-Tagger", "description": "Tags product images; mixed-case on purpose."},
            ]
        },
        "pipelines": [
            {
                "name": "fraud-training",
                "definition": "model_build",
                "model_package_group": "fraud-scorer",
                "trigger": {"data_prefix": "landing/fraud/"},
            }
        ],
        # One scheduled notebook as the environment's notebook job role, one as a persona's role.
        "notebook_jobs": [
            {
                "name": "fraud-digest",
                "notebook": "churn-report/churn-report.ipynb",
                "image": {"sagemaker_distribution": "3.2.0"},
                "instance_type": "ml.m5.xlarge",
                "parameters": {"input_path": "landing/fraud/latest.csv"},
            },
            {
                "name": "dana-weekly",
                "notebook": "churn-report/churn-report.ipynb",
                "image": {"sagemaker_distribution": "3.2.0"},
                "instance_type": "ml.c5.2xlarge",
                "schedule": "rate(7 days)",
                "studio_view": {"domain": "vision", "user_profile": "dana"},
                "run_as": {"persona": "researcher", "domain": "vision"},
            },
            {
                "name": "hal-digest",
                "notebook": "churn-report/churn-report.ipynb",
                "image": {"sagemaker_distribution": "3.2.0"},
                "studio_view": {"domain": "vision", "user_profile": "hal"},
                "run_as": {"persona": "reporter", "domain": "vision"},
            },
        ],
        # An existing cluster with IRSA; one namespace runs the pipeline, one has a network-isolated persona.
        "kubernetes": {
            "cluster_name": "fraud-eks",
            "pod_credentials": "irsa",
            "oidc_provider_arn": f"arn:aws:iam::{ACCOUNTS[BUILD]}:oidc-provider/"
            "oidc.eks.us-east-2.amazonaws.com/id/0A1B2C3D4E5F",
            "kubectl_role_arn": f"arn:aws:iam::{ACCOUNTS[BUILD]}:role/eks/fraud-eks-admin",
            "controller_namespace": "ack-sagemaker",
            "namespaces": [
                {"name": "fraud-ops", "persona": "researcher", "pipelines": ["fraud-training"]},
                {"name": "isolated-jobs", "persona": "release-engineer"},
            ],
        },
        "studio": {
            "personas": {
                "researcher": {
                    "description": "Trains models.",
                    "capabilities": ["jobs", "experiments"],
                    "job_instance_types": ["ml.c5.2xlarge", "ml.g4dn.xlarge"],
                    "app_instance_types": ["ml.t3.medium", "ml.t3.large"],
                },
                "viewer": {
                    "description": "Looks only.",
                    "capabilities": [],
                    "app_instance_types": ["ml.t3.medium"],
                },
                "reporter": {
                    "description": "Runs notebook jobs from Studio, and no other job.",
                    "capabilities": ["notebook_jobs"],
                    "job_instance_types": ["ml.m5.large"],
                    "app_instance_types": ["ml.t3.medium"],
                },
                "release-engineer": {
                    "description": "Everything but images; jobs and models isolated from the network.",
                    "capabilities": ["jobs", "pipelines", "model_registry", "model_approval", "endpoints"],
                    "job_instance_types": ["ml.c5.xlarge"],
                    "network_isolation": True,
                },
            },
            "domains": [
                {
                    "name": "vision",
                    "default_persona": "viewer",
                    "shared_space_persona": "viewer",
                    "idle_shutdown": {"default_minutes": 90},
                    "custom_images": ["vision-notebook"],
                    "users": [
                        {"name": "dana", "persona": "researcher"},
                        {"name": "eli", "persona": "viewer"},
                        {"name": "fay", "persona": "release-engineer"},
                        {"name": "hal", "persona": "reporter"},
                    ],
                    "spaces": [{"name": "dana-scratch", "sharing": "private", "owner": "dana"}],
                },
                {
                    "name": "fraud-team",
                    "default_persona": "researcher",
                    "idle_shutdown": {"default_minutes": 60},
                    "users": [{"name": "gus", "persona": "release-engineer"}],
                },
            ],
        },
    }
    return {
        BUILD: build,
        QA: _served_from_kubernetes(
            _serving_environment(QA, "172.17.0.0/16", ["us-east-2a", "us-east-2b"], iam={"role_path": "/qa/"})
        ),
        PREPROD: _serving_environment(
            PREPROD,
            "172.18.0.0/16",
            ["eu-central-1a", "eu-central-1b"],
            cross_account={"bootstrap_qualifier": "mlpf2026"},
        ),
        LIVE: _serving_environment(
            LIVE,
            "172.19.0.0/16",
            ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
            group="Image-Tagger",  # registered by hand: no pipeline builds it
            cross_account={"external_id": "live-deploys-7f3a", "organization_id": "o-abcdef1234"},
            iam={"permissions_boundary": {"managed_policy_arn": EXISTING_BOUNDARY_ARN}},
        ),
    }


def write(folder: Path, changed: dict[str, dict[str, Any]] | None = None) -> Path:
    """Write the configuration (with environments replaced by `changed`) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    files = copy.deepcopy(environments())
    files.update(changed or {})
    for name, data in files.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder
