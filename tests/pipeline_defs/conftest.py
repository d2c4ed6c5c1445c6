"""Session fixtures: every DAG rendered once per context, with the network blocked, timed."""

from __future__ import annotations

import time
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
    seconds: float
    network_attempts: tuple[str, ...]

    @property
    def graph(self) -> PipelineGraph:
        return pipeline_graph(self.definition)


def _render_all(make_context: Callable[[str], RenderContext]) -> dict[str, Rendered]:
    rendered: dict[str, Rendered] = {}
    for name in DEFINITIONS:
        context = make_context(name)
        with blocked_network() as attempts:
            started = time.perf_counter()
            definition = render(name, context)
            seconds = time.perf_counter() - started
        rendered[name] = Rendered(name, context, definition, seconds, tuple(attempts))
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
