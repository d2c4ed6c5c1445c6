"""Entry point of the `mlplatform` console script.

Exit codes: 0 success, 1 the build failed (or timed out), 2 a usage or precondition error (bad argument,
no Dockerfile, no credentials or region, the platform not deployed, an AWS call refused before a build).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import boto3

from platform_cli.build_image import (
    COMPUTE_TYPES,
    AwsClients,
    BuildImageRequest,
    Console,
    Pacing,
    build_image,
)
from platform_cli.errors import EXIT_USAGE, CommandError

PROGRAM = "mlplatform"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Commands people run against a deployed SageMaker platform."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build = commands.add_parser(
        "build-image",
        help="build a folder's Dockerfile in the platform's CodeBuild project and push it to ECR",
        description=(
            "Pack PATH (honouring .dockerignore), build it in the environment's image build project, push "
            "it to the repository, and print repository-uri@sha256:digest on stdout. Progress and the "
            "build log go to stderr. If the tag already exists, nothing is built."
        ),
    )
    build.add_argument("path", metavar="PATH", type=Path, help="folder holding the Dockerfile (the context)")
    build.add_argument("--repository", required=True, metavar="NAME", help="a configured repository")
    build.add_argument(
        "--tag",
        metavar="TAG",
        help="image tag (default: sha-<content hash of PATH>, so an unchanged folder is not rebuilt)",
    )
    build.add_argument(
        "--compute-type",
        metavar="TYPE",
        type=str.upper,
        help=f"override the project's build size: {', '.join(COMPUTE_TYPES)}",
    )
    build.add_argument("--env", default="dev", metavar="ENV", help="environment to build in (default: dev)")
    build.add_argument("--region", metavar="REGION", help="AWS region (default: from your AWS configuration)")
    build.add_argument(
        "--timeout-minutes",
        type=int,
        default=60,
        metavar="N",
        help="stop waiting after N minutes; the build goes on (default: 60)",
    )
    return parser


def run_build_image(
    arguments: argparse.Namespace,
    *,
    session_factory: Callable[[], boto3.Session] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    pacing: Pacing | None = None,
) -> int:
    request = BuildImageRequest(
        context_dir=arguments.path,
        repository=arguments.repository,
        tag=arguments.tag,
        compute_type=arguments.compute_type,
        environment=arguments.env,
        timeout_minutes=arguments.timeout_minutes,
    )
    region: str | None = arguments.region
    clients = AwsClients(session_factory or (lambda: boto3.Session(region_name=region)))
    console = Console(out=out or sys.stdout, err=err or sys.stderr)
    try:
        return build_image(request, clients=clients, console=console, pacing=pacing)
    except CommandError as error:
        console.info(f"{PROGRAM}: error: {error}")
        return error.exit_code


def main(
    argv: Sequence[str] | None = None,
    *,
    session_factory: Callable[[], boto3.Session] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    pacing: Pacing | None = None,
) -> int:
    """Parse `argv` (default: the command line) and run the command; returns the exit code.

    The keyword arguments exist for tests: a session bound to moto, captured streams, a fake clock.
    """
    parser = build_parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse has printed the usage message
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_USAGE
    if arguments.command != "build-image":
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return run_build_image(arguments, session_factory=session_factory, out=out, err=err, pacing=pacing)


if __name__ == "__main__":
    sys.exit(main())
