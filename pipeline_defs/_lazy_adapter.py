"""Importing this module makes `pipeline_defs._sdk` load lazily: it executes (importing the SageMaker SDK,
about two seconds, and setting the offline guards' environment variables) on the first read of one of its
attributes, not when a DAG module imports it. A synth served from the render cache never imports the SDK.
The package imports this first, before any module that imports `_sdk`.
"""

from __future__ import annotations

import importlib.util
import sys

ADAPTER = "pipeline_defs._sdk"

if ADAPTER not in sys.modules:
    _spec = importlib.util.find_spec(ADAPTER)
    assert _spec is not None and _spec.loader is not None
    _spec.loader = importlib.util.LazyLoader(_spec.loader)
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[ADAPTER] = _module
    _spec.loader.exec_module(_module)
    # `from pipeline_defs import _sdk` then finds the attribute; without it the import machinery reads the
    # module's __spec__, which is an attribute read, and would load the SDK at once.
    sys.modules["pipeline_defs"]._sdk = _module  # type: ignore[attr-defined]
