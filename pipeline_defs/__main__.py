"""`python -m pipeline_defs render NAME --region R [...]`: print a definition, or its graph for review.

Options left out render with the placeholders the pipeline stack replaces with CDK tokens, so the output is
what the stack starts from. Exit codes: 0 printed, 2 a usage error (unknown DAG, invalid value).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from pipeline_defs.context import (
    PLACEHOLDER_BUCKET,
    PLACEHOLDER_CODE_BUCKET,
    PLACEHOLDER_MODEL_PACKAGE_GROUP,
    PLACEHOLDER_ROLE_ARN,
    RenderContext,
)
from pipeline_defs.definitions import DEFINITIONS, render, script_paths
from pipeline_defs.graph import pipeline_graph

PROGRAM = "python -m pipeline_defs"
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="SageMaker pipeline definitions, rendered offline."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    render_command = commands.add_parser(
        "render",
        help="print a pipeline definition (JSON) or, with --graph, its steps and edges",
        description="Print the definition JSON of DAG NAME on stdout. Omitted options render placeholders.",
    )
    render_command.add_argument(
        "name", metavar="NAME", choices=sorted(DEFINITIONS), help=", ".join(DEFINITIONS)
    )
    render_command.add_argument("--region", required=True, help="AWS region (image URIs depend on it)")
    render_command.add_argument("--bucket", default=PLACEHOLDER_BUCKET, help="artifact bucket name")
    render_command.add_argument(
        "--role-arn", default=PLACEHOLDER_ROLE_ARN, help="pipeline execution role ARN"
    )
    render_command.add_argument(
        "--model-package-group",
        default=PLACEHOLDER_MODEL_PACKAGE_GROUP,
        help="model package group the model build registers into",
    )
    render_command.add_argument("--data-bucket", help="default bucket of the input data (default: --bucket)")
    render_command.add_argument("--pipeline-name", help="deployed pipeline name (default: the DAG's)")
    render_command.add_argument(
        "--code-bucket", default=PLACEHOLDER_CODE_BUCKET, help="bucket of the step scripts"
    )
    render_command.add_argument("--cache-expire-after", help="step caching, ISO 8601 duration (e.g. P30D)")
    render_command.add_argument(
        "--mlflow-tracking-server-arn",
        help="ARN of a SageMaker MLflow tracking server the jobs track experiments on (default: none)",
    )
    render_command.add_argument("--graph", action="store_true", help="print steps and edges, one per line")
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    arguments = build_parser().parse_args(argv)
    try:
        context = RenderContext(
            region=arguments.region,
            role_arn=arguments.role_arn,
            bucket=arguments.bucket,
            code_uris={
                script: f"s3://{arguments.code_bucket}/{script}" for script in script_paths(arguments.name)
            },
            model_package_group=arguments.model_package_group,
            cache_expire_after=arguments.cache_expire_after,
            data_bucket=arguments.data_bucket,
            mlflow_tracking_server_arn=arguments.mlflow_tracking_server_arn,
        )
        definition = render(arguments.name, context, pipeline_name=arguments.pipeline_name)
    except ValueError as error:
        print(f"{PROGRAM}: error: {error}", file=err)
        return EXIT_USAGE
    if arguments.graph:
        out.write("".join(f"{line}\n" for line in pipeline_graph(definition).lines()))
    else:
        out.write(definition + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
