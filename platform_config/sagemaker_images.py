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


@functools.cache
def _registries(image: str) -> dict[str, str]:
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sagemaker SDK is not installed: run `make synth`, which installs it")
    config = Path(next(iter(spec.submodule_search_locations))) / "image_uri_config" / f"{image}.json"
    registries: dict[str, str] = json.loads(config.read_text())["versions"][""]["registries"]
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
