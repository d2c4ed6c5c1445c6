"""What the synth's content-keyed folders share: the pipeline definitions (pipeline_defs/render_cache.py),
the template-validation verdicts and the clean cfn-lint results. Each is keyed by everything its entry
depends on, so an entry is never stale; these two helpers are where the folder is and how an entry is
written so that parallel test workers and synths may share it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def configured_dir(variable: str, default: Path) -> Path | None:
    """`default`, or the folder the variable names; None (the cache off) when it is set to an empty string."""
    configured = os.environ.get(variable)
    if configured is None:
        return default
    return Path(configured) if configured else None


def write_atomically(path: Path, text: str) -> None:
    """A reader sees the whole entry or none: written beside it, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=".entry-", suffix=".tmp", delete=False
    ) as partial:
        partial.write(text)
    Path(partial.name).replace(path)
