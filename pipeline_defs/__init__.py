"""SageMaker pipeline definitions as code, rendered offline at synth time (ADR 0009).

The pipeline stack calls `render(name, context)` with placeholder strings in the context (artifact bucket,
role ARN, code bucket, KMS key, subnets) and replaces them with CDK tokens. Importing this package imports
the SageMaker SDK (about two seconds) and sets the offline guards' environment variables; see `_sdk`.
`pipeline_defs.runner` runs a rendered definition body on this machine (`python -m pipeline_defs run`).
"""

from __future__ import annotations

from pipeline_defs.context import RenderContext
from pipeline_defs.definitions import (
    DEFINITIONS,
    Definition,
    UnknownDefinitionError,
    render,
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
    "script_paths",
]
