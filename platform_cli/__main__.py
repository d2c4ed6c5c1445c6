"""Entry point of the `mlplatform` console script.

Exit codes: 0 success; 1 the build failed (or timed out), or a smoke test failed; 2 a usage or
precondition error (bad argument or configuration, no Dockerfile, no credentials or region, the platform
or an endpoint not deployed, an AWS call refused before a build or a smoke test could run).
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
from platform_cli.build_settings import configured_build
from platform_cli.context_archive import DOCKERFILE
from platform_cli.errors import EXIT_USAGE, CommandError
from platform_cli.smoke_test import (
    DEFAULT_TIMEOUT_SECONDS,
    SessionFactory,
    SmokeTestRequest,
    smoke_test,
)

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
    build.add_argument(
        "--repository",
        metavar="NAME",
        help="one of the environment's images.repositories (may be left out when it has exactly one)",
    )
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
    build.add_argument(
        "--region", metavar="REGION", help="AWS region (default and only allowed value: the environment's)"
    )
    build.add_argument(
        "--config-dir",
        type=Path,
        default=Path("config"),
        metavar="DIR",
        help="the platform's configuration folder (default: config)",
    )
    build.add_argument(
        "--file",
        default=DOCKERFILE,
        metavar="PATH",
        help=f"the Dockerfile, relative to the context folder (default: {DOCKERFILE})",
    )
    build.add_argument(
        "--build-arg",
        dest="build_args",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a docker build argument (repeat for more)",
    )
    build.add_argument(
        "--platform",
        metavar="OS/ARCH",
        help="docker build --platform, e.g. linux/amd64 (default: the build host's, linux/amd64)",
    )
    build.add_argument(
        "--timeout-minutes",
        type=int,
        default=60,
        metavar="N",
        help="stop waiting after N minutes; the build goes on (default: 60)",
    )
    smoke = commands.add_parser(
        "smoke-test",
        help="send each endpoint's configured smoke tests and check the answers",
        description=(
            "For every endpoint of the environment's serving section (or the --endpoint ones): require it "
            "InService, send each of its smoke_tests with InvokeEndpoint and check the answer against "
            "expect. One PASS or FAIL line per test and a summary go to stdout. Exit 0 when every test "
            "passes, 1 when any fails, 2 when the tests cannot run."
        ),
    )
    smoke.add_argument("--env", required=True, metavar="ENV", help="the serving environment to test")
    smoke.add_argument(
        "--endpoint",
        dest="endpoints",
        action="append",
        default=[],
        metavar="NAME",
        help="test only this configured endpoint (repeat for more; default: all of the environment's)",
    )
    smoke.add_argument(
        "--region", metavar="REGION", help="AWS region (default: the environment's configured region)"
    )
    smoke.add_argument(
        "--config-dir",
        type=Path,
        default=Path("config"),
        metavar="DIR",
        help="the platform's configuration folder (default: config)",
    )
    smoke.add_argument(
        "--timeout-seconds",
        type=int,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="N",
        help=f"how long one request may take to answer (default: {DEFAULT_TIMEOUT_SECONDS})",
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
    console = Console(out=out or sys.stdout, err=err or sys.stderr)
    try:
        # The configuration first: a wrong environment, repository or region fails before any AWS call.
        settings = configured_build(
            arguments.config_dir,
            environment=arguments.env,
            repository=arguments.repository,
            region=arguments.region,
        )
        request = BuildImageRequest(
            context_dir=arguments.path,
            repository=settings.repository,
            tag=arguments.tag,
            compute_type=arguments.compute_type,
            environment=settings.environment,
            timeout_minutes=arguments.timeout_minutes,
            dockerfile=arguments.file,
            build_args=tuple(arguments.build_args),
            platform=arguments.platform,
        )
        clients = AwsClients(session_factory or (lambda: boto3.Session(region_name=settings.region)))
        return build_image(request, clients=clients, console=console, pacing=pacing)
    except CommandError as error:
        console.info(f"{PROGRAM}: error: {error}")
        return error.exit_code


def run_smoke_test(
    arguments: argparse.Namespace,
    *,
    regional_session_factory: SessionFactory | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    request = SmokeTestRequest(
        environment=arguments.env,
        endpoints=tuple(arguments.endpoints),
        region=arguments.region,
        config_dir=arguments.config_dir,
        timeout_seconds=arguments.timeout_seconds,
    )
    console = Console(out=out or sys.stdout, err=err or sys.stderr)
    try:
        return smoke_test(
            request,
            session_factory=regional_session_factory or (lambda region: boto3.Session(region_name=region)),
            console=console,
        )
    except CommandError as error:
        console.info(f"{PROGRAM}: error: {error}")
        return error.exit_code


def main(
    argv: Sequence[str] | None = None,
    *,
    session_factory: Callable[[], boto3.Session] | None = None,
    regional_session_factory: SessionFactory | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    pacing: Pacing | None = None,
) -> int:
    """Parse `argv` (default: the command line) and run the command; returns the exit code.

    The keyword arguments exist for tests: a session bound to moto (build-image), a session for a region
    whose clients reach a local stand-in (smoke-test), captured streams, a fake clock.
    """
    parser = build_parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse has printed the usage message
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_USAGE
    if arguments.command == "build-image":
        return run_build_image(arguments, session_factory=session_factory, out=out, err=err, pacing=pacing)
    if arguments.command == "smoke-test":
        return run_smoke_test(arguments, regional_session_factory=regional_session_factory, out=out, err=err)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
