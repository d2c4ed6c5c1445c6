#!/usr/bin/env python3
"""Composition root: load and validate every environment's configuration, then synthesize."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from synth_checks import assembly_cache

ROOT = Path(__file__).resolve().parent
CONFIG_DIR = ROOT / "config"


def synthesize(outdir: str | None) -> None:
    """Load and validate the configuration, build the app and synthesize it into outdir."""
    # PLATFORM_ENVIRONMENTS=dev,staging synthesizes a subset (faster); by default every environment.
    requested = os.environ.get("PLATFORM_ENVIRONMENTS")
    from platform_config import load_platform  # noqa: PLC0415 (a cache hit needs no pydantic)

    platform = load_platform(CONFIG_DIR)
    # CDK (and the SageMaker SDK the pipelines stack renders with) load only for a valid configuration:
    # configuration errors print in about a second instead of after several seconds of imports.
    from stacks.platform_stage import build_app  # noqa: PLC0415

    app, _ = build_app(platform, environments=requested.split(",") if requested else None, outdir=outdir)
    app.synth()


def main() -> int:
    # The CLI names the output folder; without it (python app.py) CDK picks a temporary one, nothing to keep.
    outdir = os.environ.get("CDK_OUTDIR")
    try:
        if outdir is None:
            synthesize(None)
        else:
            # Inputs unchanged since a synth: its assembly, byte for byte (synth_checks/assembly_cache.py).
            assembly_cache.synthesize(ROOT, Path(outdir), lambda folder: synthesize(str(folder)))
    except Exception as error:
        from platform_config import ConfigError  # noqa: PLC0415

        if not isinstance(error, ConfigError):
            raise
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
