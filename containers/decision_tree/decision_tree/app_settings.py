"""The inference app's settings read from the environment, apart from the app and its libraries.

`serve` checks them before it starts anything (a bad value must stop it at once, not in every worker), and
importing `predictor` for that would cost it numpy, pandas and Flask, a second of start-up. `predictor.py`
documents the settings.
"""

from __future__ import annotations

from collections.abc import Mapping

CSV = "text/csv"
JSON = "application/json"
NPY = "application/x-npy"
RESPONSE_TYPES = (CSV, JSON, NPY)
DEFAULT_ACCEPT_VARIABLE = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
# serve.py sets it to the worker count it resolved; the app reports it as MaxConcurrentTransforms.
WORKERS_VARIABLE = "SAGEMAKER_MODEL_SERVER_WORKERS"
MAX_PAYLOAD_VARIABLE = "MODEL_SERVER_MAX_PAYLOAD_BYTES"
BATCH_MAX_PAYLOAD_VARIABLE = "SAGEMAKER_MAX_PAYLOAD_IN_MB"
MIB = 1024 * 1024
DEFAULT_MAX_PAYLOAD_BYTES = 6 * MIB


def max_payload_bytes(environ: Mapping[str, str]) -> int | None:
    """The request-body limit in bytes from the environment (see the module docstring); None: no limit."""
    for name, unit in ((MAX_PAYLOAD_VARIABLE, 1), (BATCH_MAX_PAYLOAD_VARIABLE, MIB)):
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{name} must be a whole number >= 0, got {raw!r}") from None
        if value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {raw!r}")
        return value * unit or None
    return DEFAULT_MAX_PAYLOAD_BYTES


def default_accept(environ: Mapping[str, str]) -> str:
    """The response type for a request without `Accept` (or with `*/*`): the SageMaker variable, else CSV."""
    raw = environ.get(DEFAULT_ACCEPT_VARIABLE, "").strip().lower()
    if not raw:
        return CSV
    media_type = raw.split(";", 1)[0].strip()
    if media_type not in RESPONSE_TYPES:
        raise ValueError(f"{DEFAULT_ACCEPT_VARIABLE} must be one of {', '.join(RESPONSE_TYPES)}, got {raw!r}")
    return media_type
