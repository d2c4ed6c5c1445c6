"""SageMaker pipeline definitions as code, rendered offline at synth time (ADR 0009).

The pipeline stack calls `render(name, context)` with placeholder strings in the context (artifact bucket,
role ARN, code bucket, KMS key, subnets) and replaces them with CDK tokens; synth goes through
`render_cached`, which reads an unchanged definition back from disk (`render_cache`). The SageMaker SDK
(about two seconds to import) and the offline guards' environment variables (see `_sdk`) load on the first
use of the adapter, not on import: a synth served from the cache never imports the SDK.
`pipeline_defs.runner` runs a rendered definition body on this machine (`python -m pipeline_defs run`).
"""

from __future__ import annotations

# First: the adapter loads lazily (its module says why) before any DAG module imports it.
from pipeline_defs import _lazy_adapter  # noqa: F401
from pipeline_defs.context import RenderContext
from pipeline_defs.definitions import (
    DEFINITIONS,
    Definition,
    UnknownDefinitionError,
    render,
    render_cached,
    script_paths,
)
from pipeline_defs.graph import PipelineGraph, pipeline_graph
from pipeline_defs.input_data import TRIGGER_PARAMETERS

__all__ = [
    "DEFINITIONS",
    "TRIGGER_PARAMETERS",
    "Definition",
    "PipelineGraph",
    "RenderContext",
    "UnknownDefinitionError",
    "pipeline_graph",
    "render",
    "render_cached",
    "script_paths",
]
