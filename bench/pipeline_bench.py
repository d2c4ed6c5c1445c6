#!/usr/bin/env python3
"""What rendering the pipeline definitions adds to a synth: a fresh process importing pipeline_defs and
rendering every DAG (as the CDK app does once per synth), and the same renders in a warm process.

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
import time
started = time.perf_counter()
import pipeline_defs
imported = time.perf_counter()
context = pipeline_defs.RenderContext(region="eu-west-1", role_arn="arn:aws:iam::000000000000:role/r",
    bucket="bench-bucket", code_uris={name: f"s3://code/{name}" for d in pipeline_defs.DEFINITIONS
    for name in pipeline_defs.script_paths(d)}, model_package_group="bench-group")
sizes = {name: len(pipeline_defs.render(name, context)) for name in sorted(pipeline_defs.DEFINITIONS)}
rendered = time.perf_counter()
print(f"{imported - started} {rendered - imported} {sum(sizes.values())}")
"""


def main() -> int:
    imports, renders, sizes = [], [], 0
    for _ in range(RUNS):
        result = subprocess.run(
            [sys.executable, "-c", FRESH_PROCESS], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        import_s, render_s, size = result.stdout.split()[-3:]
        imports.append(float(import_s))
        renders.append(float(render_s))
        sizes = int(size)
    figures = {
        "import_pipeline_defs_s_median": statistics.median(imports),
        "render_all_dags_fresh_s_median": statistics.median(renders),
        "definition_characters_total": sizes,
    }
    print(f"{'measurement':44} {'median s':>9}")
    print(f"{'import pipeline_defs (sagemaker SDK)':44} {figures['import_pipeline_defs_s_median']:9.2f}")
    print(
        f"{'render every DAG, first time in a process':44} {figures['render_all_dags_fresh_s_median']:9.2f}"
    )
    print(f"definitions: {sizes:,} characters in all (the API allows 1,048,576 each)")
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {OUT_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
