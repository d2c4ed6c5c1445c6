"""`make deploy` and `make diff-live` ask this first: are these AWS credentials for ENV's account?

`python -m platform_cli.account_check --env ENV [--config-dir config] --command deploy` exits 0 when ENV is
configured and the caller's credentials (STS GetCallerIdentity, in ENV's region) belong to ENV's
`account_id`; otherwise it prints what is wrong and how to fix it, and exits 2. It calls nothing else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from platform_cli.configured import configured_environment, load_configuration
from platform_cli.errors import EXIT_OK, EXIT_USAGE, CommandError, describe_aws_error


class CallerIdentity(Protocol):
    """The one STS call this needs (boto3's STS client; tests pass moto's or a fake)."""

    def get_caller_identity(self) -> Mapping[str, str]: ...


StsFactory = Callable[[str], CallerIdentity]  # region -> client


def check_account(config_dir: Path, environment: str, *, sts: StsFactory) -> str:
    """The account id, when the caller's credentials are ENV's account; a CommandError otherwise."""
    platform = load_configuration(config_dir, then=" first")
    config = configured_environment(platform, config_dir, environment, asked_as=f"ENV={environment}")
    try:
        caller = sts(config.region).get_caller_identity()
    except (BotoCoreError, ClientError, Boto3Error) as error:
        raise CommandError(f"ENV={environment} needs AWS credentials: {describe_aws_error(error)}") from error
    account = caller["Account"]
    if account != config.account_id:
        raise CommandError(
            f"ENV={environment}: your AWS credentials are for account {account} "
            f"({caller['Arn']}), but {config_dir / environment}.yaml: account_id is {config.account_id}; "
            f"use credentials for {config.account_id} (e.g. AWS_PROFILE=<that account's profile>)"
        )
    return account


def _sts(region: str) -> CallerIdentity:
    # A session of its own, not boto3's module-wide default, which keeps the first credentials it resolved.
    client: CallerIdentity = boto3.Session(region_name=region).client("sts")
    return client


def main(argv: Sequence[str] | None = None, *, sts: StsFactory = _sts) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_cli.account_check",
        description="Refuse to run a live command with credentials for another account than ENV's.",
    )
    parser.add_argument("--env", required=True, help="the environment the make target acts on")
    parser.add_argument("--command", required=True, help="the make target, for the messages")
    parser.add_argument("--config-dir", type=Path, default=Path("config"), help="default: config")
    arguments = parser.parse_args(argv)
    try:
        account = check_account(arguments.config_dir, arguments.env, sts=sts)
    except CommandError as error:
        print(f"make {arguments.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{arguments.env}: credentials for account {account}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
