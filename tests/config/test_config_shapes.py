"""Valid configurations of other shapes than the sample synthesize, cdk-nag and the synth checks included.

One platform, generated from the sample, covers the shapes adopters run: a fourth environment in another
region with an existing VPC and no Studio, Studio with IAM Identity Center sign-in only (two domains), and
serverless serving. Synthesizing it once costs about as much as the sample's own synth.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import cx_api

from platform_config import load_platform
from tests.conftest import CONFIG_DIR, synthesize_cached

Data = dict[str, Any]
SANDBOX = "sandbox"
SANDBOX_ACCOUNT = "444444444444"
SANDBOX_REGION = "us-west-2"


def _read(folder: Path, environment: str) -> Data:
    data: Data = yaml.safe_load((folder / f"{environment}.yaml").read_text())
    return data


def _write(folder: Path, environment: str, data: Data) -> None:
    (folder / f"{environment}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def _builder_environment(folder: Path) -> str:
    """The sample's environment that builds models (has pipelines and Studio)."""
    return next(path.stem for path in sorted(folder.glob("*.yaml")) if "studio" in _read(folder, path.stem))


def _serving_environment(folder: Path) -> str:
    return next(
        path.stem
        for path in sorted(folder.glob("*.yaml"))
        if any(
            "instances" in endpoint
            for endpoint in _read(folder, path.stem).get("serving", {}).get("endpoints", [])
        )
    )


def _sandbox(builder: Data) -> Data:
    """A fourth environment: another region, an existing VPC, no Studio, no consumers."""
    data = copy.deepcopy(builder)
    data["account_id"] = SANDBOX_ACCOUNT
    data["region"] = SANDBOX_REGION
    data.pop("serves_environments", None)
    data.pop("studio", None)
    data.pop("kubernetes", None)  # its namespaces name personas, and its cluster is the builder's
    for repository in data.get("images", {}).get("repositories", []):
        repository.pop("studio_image", None)  # Studio images belong to Studio
    for job in data.get("notebook_jobs", []):
        job.pop("studio_view", None)  # no Studio to show them in
    data["network"] = {
        "existing_vpc": {
            "vpc_id": "vpc-0a1b2c3d4e5f60718",
            "cidr": "10.40.0.0/16",
            "subnets": [
                {
                    "subnet_id": f"subnet-0a1b2c3d4e5f6071{index}",
                    "availability_zone": f"{SANDBOX_REGION}{letter}",
                    "route_table_id": f"rtb-0a1b2c3d4e5f6071{index}",
                }
                for index, letter in enumerate("ab")
            ],
        }
    }
    return data


def _sign_in_with_identity_center_only(builder: Data) -> None:
    for domain in builder["studio"]["domains"]:
        domain["auth_mode"] = "SSO"
        for user in domain.get("users", []):
            user.setdefault("sso_user_name", f"{user['name']}@example.com")


def _serverless(serving: Data) -> None:
    for endpoint in serving["serving"]["endpoints"]:
        for key in ("instances", "autoscaling", "data_capture", "monitoring"):
            endpoint.pop(key, None)
        for alarm in ("cpu_utilization_percent", "memory_utilization_percent"):
            endpoint.get("alarms", {}).pop(alarm, None)
        endpoint["serverless"] = {"memory_size_mb": 2048, "max_concurrency": 5}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory, cdk_context: dict[str, Any]) -> cx_api.CloudAssembly:
    folder = tmp_path_factory.mktemp("shapes") / "config"
    import shutil  # noqa: PLC0415

    shutil.copytree(CONFIG_DIR, folder)
    builder_name = _builder_environment(folder)
    builder = _read(folder, builder_name)
    _write(folder, SANDBOX, _sandbox(builder))
    _sign_in_with_identity_center_only(builder)
    _write(folder, builder_name, builder)
    serving_name = _serving_environment(folder)
    serving = _read(folder, serving_name)
    _serverless(serving)
    _write(folder, serving_name, serving)
    outdir = tmp_path_factory.mktemp("shapes.out")
    return synthesize_cached(load_platform(folder), context=cdk_context, outdir=outdir)


def _templates(assembly: cx_api.CloudAssembly, environment: str) -> dict[str, Data]:
    return {
        artifact.hierarchical_id.split("/", 1)[1]: artifact.template
        for artifact in assembly.stacks_recursively
        if artifact.hierarchical_id.split("/", 1)[0] == environment
    }


def _resources(template: Data, resource_type: str) -> list[Data]:
    return [r for r in template.get("Resources", {}).values() if r["Type"] == resource_type]


def test_four_environments_synthesize(shapes: cx_api.CloudAssembly) -> None:
    environments = {artifact.hierarchical_id.split("/", 1)[0] for artifact in shapes.stacks_recursively}
    assert len(environments) == 4 and SANDBOX in environments


def test_another_region_an_existing_vpc_and_no_studio(shapes: cx_api.CloudAssembly) -> None:
    templates = _templates(shapes, SANDBOX)
    assert not [name for name in templates if name.startswith("Studio")]
    assert all(
        not _resources(template, "AWS::EC2::VPC") and not _resources(template, "AWS::EC2::Subnet")
        for template in templates.values()
    )
    sandbox_stacks = [a for a in shapes.stacks_recursively if a.hierarchical_id.startswith(f"{SANDBOX}/")]
    assert {artifact.environment.region for artifact in sandbox_stacks} == {SANDBOX_REGION}
    assert {artifact.environment.account for artifact in sandbox_stacks} == {SANDBOX_ACCOUNT}


def test_studio_signs_in_with_identity_center_only(shapes: cx_api.CloudAssembly) -> None:
    domains = [
        domain
        for artifact in shapes.stacks_recursively
        for domain in _resources(artifact.template, "AWS::SageMaker::Domain")
    ]
    assert len(domains) >= 2
    assert {domain["Properties"]["AuthMode"] for domain in domains} == {"SSO"}


def test_serverless_serving(shapes: cx_api.CloudAssembly) -> None:
    configs = [
        config
        for artifact in shapes.stacks_recursively
        for config in _resources(artifact.template, "AWS::SageMaker::EndpointConfig")
    ]
    serverless = [c for c in configs if "ServerlessConfig" in c["Properties"]["ProductionVariants"][0]]
    assert serverless
    assert all("DataCaptureConfig" not in config["Properties"] for config in serverless)
