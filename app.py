#!/usr/bin/env python3
"""Composition root: load and validate every environment's configuration, then synthesize."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platform_config import ConfigError, load_platform

CONFIG_DIR = Path(__file__).resolve().parent / "config"


def main() -> int:
    # PLATFORM_ENVIRONMENTS=dev,staging synthesizes a subset (faster); by default every environment.
    requested = os.environ.get("PLATFORM_ENVIRONMENTS")
    try:
        platform = load_platform(CONFIG_DIR)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    # CDK (and the SageMaker SDK the pipelines stack renders with) load only for a valid configuration:
    # configuration errors print in about a second instead of after several seconds of imports.
    from stacks.platform_stage import build_app  # noqa: PLC0415

    try:
        app, _ = build_app(platform, environments=requested.split(",") if requested else None)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
