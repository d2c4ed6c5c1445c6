"""Session fixtures: the sample configuration, and the app built exactly as app.py builds it."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import cx_api
from aws_cdk.assertions import Template

from pipeline_defs import render_cache
from platform_config import PlatformConfig, load_platform
from stacks.platform_stage import PlatformStage, build_app, read_cdk_context
from synth_checks import assembly_cache, template_validation

ROOT = Path(__file__).resolve().parent.parent
# The tests' own configuration: the sample with other account ids (what adopters replace first must not
# break the suite); `your_config` tests read config/ itself (SAMPLE_CONFIG_DIR).
CONFIG_DIR = ROOT / "tests" / "fixtures" / "config"
SAMPLE_CONFIG_DIR = ROOT / "config"


def pytest_configure(config: pytest.Config) -> None:
    """Synths in subprocesses and in clones of the checkout (app.py, `cdk synth`, revision diffs) share this
    checkout's render and template-validation caches: they are keyed by content, so a clone hits only what it
    would produce itself."""
    os.environ.setdefault(render_cache.DIR_VARIABLE, str(render_cache.DEFAULT_DIR))
    os.environ.setdefault(template_validation.DIR_VARIABLE, str(template_validation.DEFAULT_DIR))
    os.environ.setdefault(assembly_cache.DIR_VARIABLE, str(assembly_cache.DEFAULT_DIR))


@dataclass(frozen=True)
class SynthesizedApp:
    app: cdk.App
    stages: dict[str, PlatformStage]
    assembly: cdk.cx_api.CloudAssembly
    outdir: Path

    def template(self, stack_path: str) -> Template:
        """The template of `<environment>/<stack id>`, e.g. `dev/Studio-ml-research`."""
        environment, stack_id = stack_path.split("/", 1)
        stack = self.stages[environment].node.find_child(stack_id)
        assert isinstance(stack, cdk.Stack)
        return Template.from_stack(stack)


def synthesize_cached(
    platform: PlatformConfig,
    *,
    context: dict[str, Any],
    outdir: Path,
    environments: list[str] | None = None,
) -> cx_api.CloudAssembly:
    """The app built from `platform` (as loaded, or changed in memory since) synthesized into outdir as
    app.py synthesizes, cdk-nag and the checks included; kept by content between runs like app.py's synths
    (synth_checks/assembly_cache.py), for tests that read the assembly, not the constructs."""
    configuration = {
        name: environment.model_dump(mode="json") for name, environment in platform.environments.items()
    }
    extra = json.dumps(
        {
            "configuration": _without_read_paths(configuration),
            "environments": environments,
            "context": context,
        },
        sort_keys=True,
    )

    def build(folder: Path) -> None:
        build_app(platform, environments=environments, context=context, outdir=str(folder))[0].synth()

    assembly_cache.synthesize(ROOT, outdir, build, extra=extra)
    return cx_api.CloudAssembly(str(outdir))


def _without_read_paths(value: Any) -> Any:
    """A file read at load time (a lifecycle script) is keyed by its content, not by the temporary folder it
    was read from: `{path, content}` loses its path."""
    if isinstance(value, dict):
        return {
            key: _without_read_paths(item)
            for key, item in value.items()
            if not (key == "path" and "content" in value)
        }
    if isinstance(value, list):
        return [_without_read_paths(item) for item in value]
    return value


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    return read_cdk_context(ROOT / "cdk.json")


@pytest.fixture(scope="session")
def sample_platform() -> PlatformConfig:
    return load_platform(CONFIG_DIR)


@pytest.fixture(scope="session")
def synthesized(
    sample_platform: PlatformConfig, cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> SynthesizedApp:
    """The sample app, synthesized once: cdk-nag and the template validator run here and raise on findings."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stages = build_app(sample_platform, context=cdk_context, outdir=str(outdir))
    assembly = app.synth()
    return SynthesizedApp(app=app, stages=stages, assembly=assembly, outdir=outdir)


@pytest.fixture
def config_copy(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """A copy of the sample config folder; `edit(name, change)` rewrites one environment file.

    `change` receives the parsed YAML (a dict) and edits it in place, or returns raw text to write as is.
    """
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)

    def edit(environment: str | None = None, change: Callable[[dict[str, Any]], Any] | None = None) -> Path:
        if environment is not None and change is not None:
            path = target / f"{environment}.yaml"
            data = yaml.safe_load(path.read_text())
            result = change(data)
            path.write_text(result if isinstance(result, str) else yaml.safe_dump(data, sort_keys=False))
        return target

    yield edit


def build_platform(
    config_dir: Path, cdk_context: dict[str, Any], environments: list[str] | None = None
) -> dict[str, PlatformStage]:
    """Build (not synthesize) the app from another config folder, for variations of the sample."""
    _, stages = build_app(load_platform(config_dir), environments=environments, context=cdk_context)
    return stages
