#!/usr/bin/env python3
"""Composition root: load and validate every environment's configuration, then synthesize."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platform_config import ConfigError, load_platform
from stacks.platform_stage import build_app

CONFIG_DIR = Path(__file__).resolve().parent / "config"


def main() -> int:
    # PLATFORM_ENVIRONMENTS=dev,staging synthesizes a subset (faster); by default every environment.
    requested = os.environ.get("PLATFORM_ENVIRONMENTS")
    try:
        platform = load_platform(CONFIG_DIR)
        app, _ = build_app(platform, environments=requested.split(",") if requested else None)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
