"""`python -m pipeline_defs render NAME --region R [...]`: print a definition, or its graph for review.
`python -m pipeline_defs run NAME --input PATH [--param NAME=VALUE ...]`: run the rendered definition here.

Options left out render with the placeholders the pipeline stack replaces with CDK tokens, so the output is
what the stack starts from. `run` renders the same way (or reads `--definition FILE`) and executes that JSON
body step by step on this machine (see `pipeline_defs.runner`), writing `run-report.json` in its work
directory and a summary on stdout. Exit codes: 0 printed or the run succeeded, 1 the run failed (a step
failed, or a Fail step was reached), 2 a usage error (unknown DAG, invalid value, unknown parameter, a step
type the runner does not support).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pipeline_defs.context import (
    PLACEHOLDER_BUCKET,
    PLACEHOLDER_CODE_BUCKET,
    PLACEHOLDER_MODEL_PACKAGE_GROUP,
    PLACEHOLDER_ROLE_ARN,
    RenderContext,
)
from pipeline_defs.definitions import DEFINITIONS, definition, render, script_paths
from pipeline_defs.graph import pipeline_graph
from pipeline_defs.runner import (
    RunError,
    parse_parameter_assignments,
    render_for_run,
    run_definition,
)

PROGRAM = "python -m pipeline_defs"
EXIT_USAGE = 2
EXIT_RUN_FAILED = 1
DEFAULT_RUNS_DIR = Path(".pipeline-runs")


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
    run_command = commands.add_parser(
        "run",
        help="run the rendered definition of DAG NAME on this machine, step by step",
        description="Render DAG NAME as the pipeline stack does (placeholders) and run that JSON body here: "
        "step scripts in subprocesses, declared stand-ins for built-in XGBoost training and data-quality "
        "baselines, conditions on property files; model registration, model creation and transform jobs "
        "are recorded, not sent.",
    )
    run_command.add_argument("name", metavar="NAME", choices=sorted(DEFINITIONS), help=", ".join(DEFINITIONS))
    run_command.add_argument(
        "--input",
        required=True,
        type=Path,
        help="a CSV file or a folder, put at s3://InputDataBucket/InputDataKey",
    )
    run_command.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline parameter's value (repeatable; default: the definition's default)",
    )
    run_command.add_argument(
        "--work-dir",
        type=Path,
        help=f"where the stand-in S3, job trees and report go (default: {DEFAULT_RUNS_DIR}/NAME); "
        "its cache index survives runs",
    )
    run_command.add_argument(
        "--definition", type=Path, help="run this definition JSON instead of rendering NAME"
    )
    run_command.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=ARCHIVE",
        help="a SageMaker model the DAG names (e.g. batch_inference's ModelName) as its built-in XGBoost "
        "model.tar.gz, so its transform is scored here (repeatable)",
    )
    run_command.add_argument("--json", action="store_true", help="print the run report as JSON")
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    arguments = build_parser().parse_args(argv)
    if arguments.command == "run":
        return _run(arguments, out, err)
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
        body = render(arguments.name, context, pipeline_name=arguments.pipeline_name)
    except ValueError as error:
        print(f"{PROGRAM}: error: {error}", file=err)
        return EXIT_USAGE
    if arguments.graph:
        out.write("".join(f"{line}\n" for line in pipeline_graph(body).lines()))
    else:
        out.write(body + "\n")
    return 0


def _run(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    name: str = arguments.name
    try:
        body = (
            arguments.definition.read_text(encoding="utf-8") if arguments.definition else render_for_run(name)
        )
        report = run_definition(
            body,
            input_path=arguments.input,
            work_dir=arguments.work_dir or DEFAULT_RUNS_DIR / name,
            parameters=parse_parameter_assignments(arguments.param),
            pipeline=definition(name).default_pipeline_name,
            existing_models={
                model: Path(archive)
                for model, archive in parse_parameter_assignments(arguments.model, option="--model").items()
            },
        )
    except (RunError, OSError, ValueError) as error:
        print(f"{PROGRAM} run: error: {error}", file=err)
        return EXIT_USAGE
    if arguments.json:
        out.write(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    else:
        out.write("".join(f"{line}\n" for line in report.summary()))
    return 0 if report.status == "Succeeded" else EXIT_RUN_FAILED


if __name__ == "__main__":
    sys.exit(main())
