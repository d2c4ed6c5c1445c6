"""`make destroy` asks this first: only a disposable environment may be destroyed with one command.

`python -m platform_cli.destroy_check --env ENV [--config-dir config]` exits 0 when ENV is configured with
`retain_stateful_resources: false`; otherwise it prints why not, and what to do, and exits 2. Offline.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from platform_cli.configured import configured_environment, load_configuration
from platform_cli.errors import CommandError

EXIT_OK = 0
EXIT_REFUSED = 2


def refusal(config_dir: Path, environment: str) -> str | None:
    """Why `make destroy ENV=environment` must not run, or None when it may."""
    try:
        platform = load_configuration(
            config_dir, then=" first: destroy synthesizes the environment to find its stacks"
        )
        config = configured_environment(platform, config_dir, environment, asked_as=f"ENV={environment}")
    except CommandError as error:
        return str(error)
    if config.retain_stateful_resources:
        return (
            f"environment '{environment}' retains its data (retain_stateful_resources: true in "
            f"{config_dir / environment}.yaml): its keys, buckets, registry and Studio domains are kept, and "
            "its Data and Studio stacks are termination-protected, so nothing a user stored is lost by a "
            "destroy. make destroy removes disposable environments only. To remove this one anyway, follow "
            'README.md, "Tearing down: staging, prod and any retained environment".'
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_cli.destroy_check",
        description="Refuse to destroy an environment that retains its data.",
    )
    parser.add_argument("--env", required=True, help="the environment make destroy is asked to delete")
    parser.add_argument("--config-dir", type=Path, default=Path("config"), help="default: config")
    arguments = parser.parse_args(argv)
    reason = refusal(arguments.config_dir, arguments.env)
    if reason is not None:
        print(f"make destroy: {reason}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
