#!/usr/bin/env python3
"""How long the local runner takes to execute the rendered model-build DAG, step by step.

Run from the repository root as a module: `.venv/bin/python -m bench.runner_bench`.

For each size of the churn-shaped sample (the generator the tests use), in a fresh work directory: the
model build once (every step runs), again with the same parameters (the steps SageMaker's cache would
serve are marked, though they run here too), and the batch inference DAG scoring the build's baseline
channel with the build's model. Prints a table of wall times per step and writes
bench/out/runner_bench.json. A measurement, not a test: no thresholds.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench.figures import write_figures
from pipeline_defs.runner import RunReport, render_for_run, run_definition
from tests.pipeline_defs.datasets import write_churn

SIZES = (400, 5_000)


def _s3(work_dir: Path, uri: str) -> Path:
    return work_dir / "s3" / uri.removeprefix("s3://")


def _figures(report: RunReport) -> dict[str, object]:
    return {
        "status": report.status,
        "total_s": round(report.seconds, 2),
        "steps_s": {step.name: round(step.seconds, 2) for step in report.steps if step.status != "NotRun"},
        "would_hit_cache": [step.name for step in report.steps if step.would_hit_cache],
    }


def main() -> int:
    build_body = render_for_run("model_build")
    batch_body = render_for_run("batch_inference")
    results: dict[str, dict[str, object]] = {}
    reports: dict[str, dict[str, RunReport]] = {}
    for rows in SIZES:
        with tempfile.TemporaryDirectory() as scratch:
            work_dir = Path(scratch)
            data = write_churn(work_dir / "churn.csv", rows=rows)
            first = run_definition(build_body, input_path=data, work_dir=work_dir / "build", pipeline="bench")
            again = run_definition(build_body, input_path=data, work_dir=work_dir / "build", pipeline="bench")
            batch = run_definition(
                batch_body,
                input_path=_s3(work_dir / "build", first.step("Preprocess").outputs["baseline"])
                / "baseline.csv",
                work_dir=work_dir / "batch",
                parameters={"ModelName": "bench-model"},
                existing_models={
                    "bench-model": _s3(work_dir / "build", first.step("Train").outputs["model_artifacts"])
                },
                pipeline="bench-batch",
            )
        reports[f"{rows}_rows"] = {"model_build": first, "model_build_again": again, "batch_inference": batch}
        results[f"{rows}_rows"] = {
            "model_build": _figures(first),
            "model_build_again": _figures(again),
            "batch_inference": _figures(batch),
        }
        if "Failed" in (first.status, again.status, batch.status):
            print(json.dumps(results, indent=2), file=sys.stderr)
            return 1
    print(f"{'run (churn-shaped sample)':34} {'total s':>8}  slowest steps")
    for size, runs in reports.items():
        for name, report in runs.items():
            steps = sorted(report.steps, key=lambda step: -step.seconds)[:3]
            slowest = ", ".join(f"{step.name} {step.seconds:.1f}" for step in steps)
            print(f"{size + ' ' + name:34} {report.seconds:8.1f}  {slowest}")
    write_figures("runner_bench", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
