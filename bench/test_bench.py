#!/usr/bin/env python3
"""Wall time of each stage of a warm `make test`: lint, typecheck, synth, cfn-lint, pytest (as the Makefile
runs it, in parallel), run in that order as `make test` runs them, --repeat times.

Warm: the virtualenv, node modules, nginx, mypy's cache and the synth caches exist (a first pass runs when
--warm-up is given). Other work on the machine shows in the spread between runs, so every run is reported.
A measurement, not a test: it never fails on a threshold; it exits 1 when a stage fails. Figures go to
bench/out/test_bench.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.figures import ROOT, record_row, write_figures

STAGES = ("lint", "typecheck", "synth", "cfn-lint", "pytest")


FAILED_PYTEST: list[int] = []


def _run_stage(stage: str) -> tuple[float, float, float]:
    """Wall and CPU seconds (this stage's processes, children included) of `make <stage>`, and the 1-minute
    load average when it started (other work on the machine). A failing pytest is timed all the same (its
    figures are recorded with the failure); any other failing stage ends the bench, as it ends make test."""
    load = os.getloadavg()[0]
    before = os.times()
    started = time.perf_counter()
    result = subprocess.run(
        ["make", "--no-print-directory", stage], cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    after = os.times()
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
        if stage != "pytest":
            raise SystemExit(f"make {stage} failed with exit status {result.returncode}")
        FAILED_PYTEST.append(result.returncode)
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=2, metavar="N", help="runs of the whole sequence")
    parser.add_argument("--warm-up", action="store_true", help="one unrecorded pass first")
    args = parser.parse_args(argv)
    if args.warm_up:
        for stage in STAGES:
            _run_stage(stage)
    runs: dict[str, list[tuple[float, float, float]]] = {stage: [] for stage in STAGES}
    for attempt in range(1, args.repeat + 1):
        for stage in STAGES:
            runs[stage].append(_run_stage(stage))
        total = sum(runs[stage][-1][0] for stage in STAGES)
        print(f"run {attempt}/{args.repeat}: make test stages {total:.1f} s")
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "stages": {}}
    totals = [sum(runs[stage][index][0] for stage in STAGES) for index in range(args.repeat)]
    for stage in STAGES:
        walls = [wall for wall, _, _ in runs[stage]]
        cpus = [cpu for _, cpu, _ in runs[stage]]
        figures["stages"][stage] = {
            "wall_s": [round(wall, 1) for wall in walls],
            "cpu_s": [round(cpu, 1) for cpu in cpus],
            "load_average_1min": [round(load, 2) for _, _, load in runs[stage]],
            "median_wall_s": round(statistics.median(walls), 1),
            "median_cpu_s": round(statistics.median(cpus), 1),
        }
        cpu = statistics.median(cpus)
        print(f"  {stage:<10} wall {min(walls):6.1f} to {max(walls):6.1f} s   cpu {cpu:6.1f} s")
    figures["total_wall_s"] = [round(total, 1) for total in totals]
    cpu_totals = [sum(runs[stage][index][1] for stage in STAGES) for index in range(args.repeat)]
    figures["total_cpu_s"] = [round(total, 1) for total in cpu_totals]
    loads = [load for stage in STAGES for _, _, load in runs[stage]]
    print(f"  {'total':<10} wall {min(totals):6.1f} to {max(totals):6.1f} s   cpu {min(cpu_totals):6.1f} s")
    print(f"  load average (1 min) at the start of each stage: {min(loads):.2f} to {max(loads):.2f}")
    write_figures("test_bench", figures)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    medians = " / ".join(f"{figures['stages'][stage]['median_wall_s']:.0f}" for stage in STAGES)
    cpu_medians = " / ".join(f"{figures['stages'][stage]['median_cpu_s']:.0f}" for stage in STAGES)
    load = f"load average {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores"
    record_row(
        "make-test-warm",
        f"`make bench` ({day}, {load}): warm `make test`, median wall per stage: "
        f"{' / '.join(STAGES)} (pytest with one worker per core); CPU per stage; total wall and CPU, "
        f"{args.repeat} runs",
        f"{medians} s; CPU {cpu_medians} s; {min(totals):.0f} to {max(totals):.0f} s, "
        f"CPU {min(cpu_totals):.0f} to {max(cpu_totals):.0f} s"
        + (" (make pytest failed)" if FAILED_PYTEST else ""),
    )
    pytest_walls = [wall for wall, _, _ in runs["pytest"]]
    failed = f" (make pytest failed in {len(FAILED_PYTEST)} of {args.repeat} runs)" if FAILED_PYTEST else ""
    record_row(
        "pytest",
        f"`make bench` ({day}, {load}): `make pytest` (-n auto --dist loadfile), median wall; CPU",
        f"{statistics.median(pytest_walls):.0f} s; CPU {figures['stages']['pytest']['median_cpu_s']:.0f} s"
        f"{failed}",
    )
    return 1 if FAILED_PYTEST else 0


if __name__ == "__main__":
    sys.exit(main())
