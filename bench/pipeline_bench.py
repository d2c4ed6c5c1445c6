#!/usr/bin/env python3
"""What rendering the pipeline definitions adds to a synth: a fresh process importing pipeline_defs and
rendering every DAG (as the CDK app does once per synth), then each DAG again in that warm process with every
option of the tests' full context (caching, KMS key, VPC, data bucket, MLflow).

Prints a table and writes bench/out/pipeline_bench.json. A measurement, not a test: no thresholds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_FILE = ROOT / "bench" / "out" / "pipeline_bench.json"
RUNS = 3
# One fresh process per measurement: the import and the SDK session are what a synth pays once.
FRESH_PROCESS = """
import json, time
started = time.perf_counter()
import pipeline_defs
imported = time.perf_counter()
context = pipeline_defs.RenderContext(region="eu-west-1", role_arn="arn:aws:iam::000000000000:role/r",
    bucket="bench-bucket", code_uris={name: f"s3://code/{name}" for d in pipeline_defs.DEFINITIONS
    for name in pipeline_defs.script_paths(d)}, model_package_group="bench-group")
sizes = {name: len(pipeline_defs.render(name, context)) for name in sorted(pipeline_defs.DEFINITIONS)}
rendered = time.perf_counter()
from pipeline_defs.definitions import clear_render_cache
from tests.pipeline_defs.support import full_context
warm = {}
for name in sorted(pipeline_defs.DEFINITIONS):
    clear_render_cache()
    warm_started = time.perf_counter()
    pipeline_defs.render(name, full_context(name))
    warm[name] = time.perf_counter() - warm_started
print(json.dumps({"import": imported - started, "render": rendered - imported, "size": sum(sizes.values()),
    "warm": warm}))
"""


def main() -> int:
    imports, renders, sizes = [], [], 0
    warm: dict[str, list[float]] = {}
    for _ in range(RUNS):
        result = subprocess.run(
            [sys.executable, "-c", FRESH_PROCESS], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        run = json.loads(result.stdout.splitlines()[-1])
        imports.append(run["import"])
        renders.append(run["render"])
        sizes = run["size"]
        for name, seconds in run["warm"].items():
            warm.setdefault(name, []).append(seconds)
    figures = {
        "import_pipeline_defs_s_median": statistics.median(imports),
        "render_all_dags_fresh_s_median": statistics.median(renders),
        **{
            f"render_{name}_warm_full_context_s_median": statistics.median(times)
            for name, times in warm.items()
        },
        "definition_characters_total": sizes,
    }
    print(f"{'measurement':44} {'median s':>9}")
    print(f"{'import pipeline_defs (sagemaker SDK)':44} {figures['import_pipeline_defs_s_median']:9.2f}")
    print(
        f"{'render every DAG, first time in a process':44} {figures['render_all_dags_fresh_s_median']:9.2f}"
    )
    for name in warm:
        label = f"render {name} again, full context"
        print(f"{label:44} {figures[f'render_{name}_warm_full_context_s_median']:9.2f}")
    print(f"definitions: {sizes:,} characters in all (the API allows 1,048,576 each)")
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {OUT_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
