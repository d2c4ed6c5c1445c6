"""The catalogue of DAGs, and rendering one to its definition JSON (cached per process)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Protocol

from pipeline_defs import _sdk, batch_inference, model_build, render_cache
from pipeline_defs.context import RenderContext

STEPS_DIR: Final = Path(__file__).resolve().parent / "steps"


class PipelineFactory(Protocol):
    def __call__(self, *, context: RenderContext, name: str) -> _sdk.Pipeline: ...


@dataclass(frozen=True)
class Definition:
    """One DAG: its factory, the step scripts it runs (file names in `steps/`), and its default pipeline
    name (SageMaker pipeline names allow '-' but not '_')."""

    key: str
    factory: PipelineFactory
    scripts: tuple[str, ...]
    default_pipeline_name: str
    summary: str


DEFINITIONS: Final[Mapping[str, Definition]] = MappingProxyType(
    {
        "model_build": Definition(
            key="model_build",
            factory=model_build.get_pipeline,
            scripts=model_build.SCRIPTS,
            default_pipeline_name="model-build",
            summary="preprocess, train (XGBoost), evaluate, then register and score, or fail",
        ),
        "batch_inference": Definition(
            key="batch_inference",
            factory=batch_inference.get_pipeline,
            scripts=batch_inference.SCRIPTS,
            default_pipeline_name="batch-inference",
            summary="batch predictions with a deployed model",
        ),
    }
)


class UnknownDefinitionError(KeyError):
    """A DAG name that is not in DEFINITIONS. A KeyError, with a message that lists the known names."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown pipeline definition {self.name!r}; known: {', '.join(sorted(DEFINITIONS))}"


def definition(name: str) -> Definition:
    try:
        return DEFINITIONS[name]
    except KeyError:
        raise UnknownDefinitionError(name) from None


def script_paths(name: str) -> Mapping[str, Path]:
    """The step scripts DAG `name` runs: file name (the key expected in `RenderContext.code_uris`) -> path."""
    return MappingProxyType({script: STEPS_DIR / script for script in definition(name).scripts})


def render(name: str, context: RenderContext, *, pipeline_name: str | None = None) -> str:
    """The definition JSON of DAG `name` for `context`: deterministic, offline, cached per process.

    `pipeline_name` is the name the pipeline is deployed under; it goes into job name prefixes and S3 paths
    (default: the DAG's default pipeline name, e.g. `model-build`).
    """
    spec = definition(name)
    return _render(spec.key, context, pipeline_name or spec.default_pipeline_name)


def render_cached(name: str, context: RenderContext, *, pipeline_name: str | None = None) -> str:
    """`render`, through the on-disk cache (`render_cache`): byte-identical, what synth calls."""
    spec = definition(name)
    pipeline_name = pipeline_name or spec.default_pipeline_name
    return render_cache.cached(
        f"pipeline\0{spec.key}\0{pipeline_name}\0{context.cache_key()}",
        lambda: _render(spec.key, context, pipeline_name),
    )


@functools.cache
def _render(name: str, context: RenderContext, pipeline_name: str) -> str:
    pipeline = DEFINITIONS[name].factory(context=context, name=pipeline_name)
    return _sdk.definition(pipeline)


def clear_render_cache() -> None:
    """Forget cached renders (tests that must render afresh)."""
    _render.cache_clear()
