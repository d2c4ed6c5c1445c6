"""Rendered definitions kept on disk between synths, keyed by the content of everything a render reads.

A render imports the SageMaker SDK (about two seconds) and builds every job through it; a synth whose
inputs did not change reads the same bytes back instead, and never imports the SDK. The key covers the
render's arguments (the caller's canonical string), every file of pipeline_defs/ (the DAGs, the adapter,
the step scripts, the SDK defaults file), the SDK's version and Python's: a change to any of them misses.
Only synth goes through here (`render_cached`); `render` itself always builds, so the tests of the DAGs
and of the offline guards exercise the SDK.

PLATFORM_RENDER_CACHE_DIR moves the folder (default `.cache/pipeline-definitions` in the checkout, which
`make clean` removes); set it to an empty string to render afresh every time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Final

from synth_checks.content_cache import configured_dir, write_atomically

PACKAGE_DIR: Final = Path(__file__).resolve().parent
DEFAULT_DIR: Final = PACKAGE_DIR.parent / ".cache" / "pipeline-definitions"
DIR_VARIABLE: Final = "PLATFORM_RENDER_CACHE_DIR"
# Bump when the layout of an entry changes.
FORMAT: Final = "1"


def cache_dir() -> Path | None:
    """Where entries live; None when the cache is off (the variable set to an empty string)."""
    return configured_dir(DIR_VARIABLE, DEFAULT_DIR)


@functools.cache
def code_fingerprint() -> str:
    """The content of every file a render may read, the SDK's version and Python's (once per process)."""
    digest = hashlib.sha256()
    digest.update(f"{FORMAT}\0{platform.python_version()}\0".encode())
    digest.update(importlib.metadata.version("sagemaker").encode())
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(b"\0" + path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def entry_key(arguments: str) -> str:
    return hashlib.sha256(f"{code_fingerprint()}\0{arguments}".encode()).hexdigest()


def cached(arguments: str, render: Callable[[], str]) -> str:
    """`render()`'s result for `arguments` (a canonical string of every argument of the render), from the
    cache when an entry exists; a miss renders and stores. Writes are atomic: parallel test workers and
    synths share the folder."""
    directory = cache_dir()
    if directory is None:
        return render()
    path = directory / f"{entry_key(arguments)}.json"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    body = render()
    write_atomically(path, body)
    return body
