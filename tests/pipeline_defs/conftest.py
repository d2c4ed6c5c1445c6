"""Session fixtures: every DAG rendered once per context, with the network blocked (`make bench` times the
renders: bench/pipeline_bench.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pipeline_defs import DEFINITIONS, PipelineGraph, RenderContext, pipeline_graph, render
from pipeline_defs.definitions import clear_render_cache
from tests.pipeline_defs.support import blocked_network, full_context, plain_context


@dataclass(frozen=True)
class Rendered:
    name: str
    context: RenderContext
    definition: str
    network_attempts: tuple[str, ...]

    @property
    def graph(self) -> PipelineGraph:
        return pipeline_graph(self.definition)


def _render_all(make_context: Callable[[str], RenderContext]) -> dict[str, Rendered]:
    rendered: dict[str, Rendered] = {}
    for name in DEFINITIONS:
        context = make_context(name)
        with blocked_network() as attempts:
            definition = render(name, context)
        rendered[name] = Rendered(name, context, definition, tuple(attempts))
    return rendered


@pytest.fixture(scope="session")
def full() -> dict[str, Rendered]:
    """Each DAG with caching, KMS and VPC set (placeholders), rendered afresh."""
    clear_render_cache()
    return _render_all(full_context)


@pytest.fixture(scope="session")
def plain() -> dict[str, Rendered]:
    """Each DAG with no caching, no KMS key and no VPC."""
    return _render_all(plain_context)
