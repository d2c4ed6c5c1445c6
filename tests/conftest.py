"""Session fixtures: the sample configuration, and the app built exactly as app.py builds it."""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable, Iterator
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


class SynthesizedApp:
    """The sample app synthesized as app.py synthesizes it (cdk-nag and the checks raise on findings).

    The assembly and its templates come through the assembly cache (`synthesize_cached`); the construct
    tree (`app`, `stages`) is built, and synthesized again, only in a test worker whose tests inspect
    constructs."""

    def __init__(self, platform: PlatformConfig, context: dict[str, Any], folder: Path) -> None:
        self._platform = platform
        self._context = context
        self._folder = folder
        self.outdir = folder / "cdk.out"
        self.assembly = synthesize_cached(platform, context=context, outdir=self.outdir)

    @functools.cached_property
    def _built(self) -> tuple[cdk.App, dict[str, PlatformStage]]:
        app, stages = build_app(self._platform, context=self._context, outdir=str(self._folder / "built.out"))
        app.synth()
        return app, stages

    @property
    def app(self) -> cdk.App:
        return self._built[0]

    @property
    def stages(self) -> dict[str, PlatformStage]:
        return self._built[1]

    @functools.cached_property
    def _templates(self) -> dict[str, dict[str, Any]]:
        return {
            artifact.hierarchical_id: json.loads(Path(artifact.template_full_path).read_text())
            for artifact in self.assembly.stacks_recursively
        }

    def template(self, stack_path: str) -> Template:
        """The template of `<environment>/<stack id>`, e.g. `dev/Studio-ml-research`."""
        return Template.from_json(self._templates[stack_path])

    def stack_paths(self) -> list[str]:
        """`<environment>/<stack id>` of every stack, in the assembly's order."""
        return list(self._templates)

    @functools.cached_property
    def acknowledgements(self) -> dict[str, dict[str, str]]:
        """Acknowledged rules (rule id: reason) by construct path (`dev/Data/...`), as the assembly records
        every construct's metadata in its stack; the stages and the app hold no resource, and
        `test_compliance_gate` checks them on the construct tree."""
        acknowledged: dict[str, dict[str, str]] = {}
        for manifest_file in sorted(self.outdir.glob("assembly-*/manifest.json")):
            for artifact in json.loads(manifest_file.read_text())["artifacts"].values():
                metadata = artifact.get("metadata", {})
                if extra := artifact.get("additionalMetadataFile"):
                    metadata = {**metadata, **json.loads((manifest_file.parent / extra).read_text())}
                for path, entries in metadata.items():
                    for entry in entries:
                        if entry["type"] == "aws:cdk:acknowledged-rules":
                            acknowledged.setdefault(path.lstrip("/"), {}).update(entry["data"])
        return acknowledged


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
    return SynthesizedApp(sample_platform, cdk_context, tmp_path_factory.mktemp("sample"))


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
