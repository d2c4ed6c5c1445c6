"""Entry point of the `mlplatform` console script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Placeholder until the build-image command lands."""
    del argv
    print("mlplatform: no commands yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
