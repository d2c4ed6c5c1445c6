"""Image URIs of SageMaker's own containers, read from the pinned `sagemaker` SDK's data files.

The SDK ships a registry account per region for each of its images (`image_uri_config/*.json`). Reading the
file directly, without importing the SDK, keeps synth offline and fast; the SDK's pin (ADR 0009) pins these.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

MODEL_MONITOR_REPOSITORY = "sagemaker-model-monitor-analyzer"
DISTRIBUTION_REPOSITORY = "sagemaker-distribution-prod"


@functools.cache
def _registries(image: str, version: str = "") -> dict[str, str]:
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sagemaker SDK is not installed: run `make synth`, which installs it")
    config = Path(next(iter(spec.submodule_search_locations))) / "image_uri_config" / f"{image}.json"
    versions = json.loads(config.read_text())["versions"]
    registries: dict[str, str] = versions[version or next(iter(versions))]["registries"]
    return registries


def model_monitor_image_uri(region: str) -> str:
    """The Model Monitor analyzer image of `region` (data-quality jobs run it)."""
    registries = _registries("model-monitor")
    if region not in registries:
        raise ValueError(
            f"SageMaker Model Monitor has no image in {region} (sagemaker SDK data); regions with one: "
            f"{', '.join(sorted(registries))}"
        )
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{registries[region]}.dkr.ecr.{region}.{domain}/{MODEL_MONITOR_REPOSITORY}:latest"


def sagemaker_distribution_image_uri(region: str, version: str) -> str:
    """A SageMaker Distribution image of `region` (what Studio's JupyterLab and notebook jobs run), e.g.
    version `3.0.0` (the CPU image) or `3.0.0-gpu`. The registry is the region's SageMaker Distribution
    account in the SDK's data; the version is not checked against what AWS has published."""
    registries = _registries("sagemaker-distribution")
    if region not in registries:
        raise ValueError(
            f"SageMaker Distribution has no image in {region} (sagemaker SDK data); regions with one: "
            f"{', '.join(sorted(registries))}"
        )
    tag = version if version.endswith(("-cpu", "-gpu")) else f"{version}-cpu"
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{registries[region]}.dkr.ecr.{region}.{domain}/{DISTRIBUTION_REPOSITORY}:{tag}"
