#!/usr/bin/env python3
"""Wall time of the full synth against the floor every CDK app pays, and of the pytest suite.

The full synth is timed twice over: with its inputs unchanged since the last synth (what `cdk diff` then
`cdk deploy`, or `make synth` then `make test`, run: app.py reuses the assembly, synth_checks/
assembly_cache.py; one untimed synth warms it first), and building every construct as after any edit (the
assembly cache off; the content-keyed render, validation and lint caches stay warm).

The floor is bench/empty_app: one `cdk.App()` and one empty `cdk.Stack` with an explicit environment,
synthesized through the same CLI (node_modules/.bin/cdk), flags and interpreter (.venv/bin/python) as the
real app. Each synth writes to a fresh temporary output directory and runs --repeat times, interleaved
(full, empty, full, empty, ...) so drift hits both alike; the median and the minimum are reported so noise
is visible. pytest runs once. Figures go to stdout as a table and to bench/out/synth_bench.json.

This is a measurement, not a test: it never fails on a threshold. It exits 1 only when a synth command
fails (its stderr is printed); a failing pytest is reported with its exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.figures import record_row
from platform_cli.revision_diff import OFFLINE_ENVIRONMENT, cdk_environment
from synth_checks import assembly_cache

ROOT = Path(__file__).resolve().parent.parent
EMPTY_APP_DIR = ROOT / "bench" / "empty_app"
OUT_FILE = ROOT / "bench" / "out" / "synth_bench.json"
# Not resolved: the venv's python is a symlink, and resolving it would leave the virtualenv.
PYTHON = ROOT / ".venv" / "bin" / "python"
PYTEST = ROOT / ".venv" / "bin" / "pytest"
CDK = ROOT / "node_modules" / ".bin" / "cdk"
CDK_PACKAGE_JSON = ROOT / "node_modules" / "aws-cdk" / "package.json"

# The same offline, quiet settings the Makefile exports (its Node line first on PATH: cdk_environment).
BENCH_ENV = dict(OFFLINE_ENVIRONMENT)
# app.py synthesizes only these environments when it is set; the full synth means all of them.
DROPPED_ENV = ("PLATFORM_ENVIRONMENTS",)
SYNTH_ARGS = ("synth", "**", "--quiet")
# As `make pytest` runs it: one worker per core, a test file per worker.
PYTEST_ARGS = ("-q", "-p", "no:cacheprovider", "-n", "auto", "--dist", "loadfile")


class CommandFailedError(Exception):
    """A synth command exited non-zero."""

    def __init__(self, label: str, command: list[str], result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(f"{label} failed with exit status {result.returncode}")
        self.label = label
        self.command = command
        self.result = result


@dataclass
class Series:
    """Wall times of one command, in seconds, and its CPU times (its process and every descendant it waited
    for: the app, the jsii kernel, the template validator)."""

    label: str
    runs: list[float] = field(default_factory=list)
    cpu_runs: list[float] = field(default_factory=list)
    load_averages: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def minimum(self) -> float:
        return min(self.runs)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_runs)

    def to_json(self) -> dict[str, Any]:
        return {
            "runs_s": [round(run, 3) for run in self.runs],
            "median_s": round(self.median, 3),
            "min_s": round(self.minimum, 3),
            "cpu_runs_s": [round(run, 3) for run in self.cpu_runs],
            "cpu_median_s": round(self.cpu_median, 3),
            "load_average_1min": [round(load, 2) for load in self.load_averages],
        }


@dataclass(frozen=True)
class PytestResult:
    seconds: float
    exit_status: int
    summary: str


def bench_environment() -> dict[str, str]:
    return {key: value for key, value in cdk_environment().items() if key not in DROPPED_ENV}


def full_synth_command(outdir: Path) -> list[str]:
    return [str(CDK), *SYNTH_ARGS, "-o", str(outdir)]


def empty_synth_command(outdir: Path) -> list[str]:
    # The CLI runs the app string through a shell; --app overrides the relative path in empty_app/cdk.json.
    app = f"{shlex.quote(str(PYTHON))} {shlex.quote(str(EMPTY_APP_DIR / 'app.py'))}"
    return [str(CDK), *SYNTH_ARGS, "-o", str(outdir), "--app", app]


def time_synth(series: Series, build: Callable[[Path], list[str]], cwd: Path, env: dict[str, str]) -> int:
    """Run one synth into a fresh output directory, adding its wall and CPU time and the load average to
    `series`; the number of templates written."""
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as tmp:
        outdir = Path(tmp) / "cdk.out"
        command = build(outdir)
        series.load_averages.append(os.getloadavg()[0])
        before = os.times()
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        after = os.times()
        if result.returncode != 0:
            raise CommandFailedError(series.label, command, result)
        templates = sum(1 for _ in outdir.rglob("*.template.json"))
    series.runs.append(elapsed)
    series.cpu_runs.append(
        (after.children_user - before.children_user) + (after.children_system - before.children_system)
    )
    return templates


def run_pytest(env: dict[str, str]) -> PytestResult:
    command = [str(PYTEST), *PYTEST_ARGS]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0:
        # Not a bench failure, but show why: the tail of pytest's own report.
        print("\n".join(lines[-20:]), result.stderr.strip(), sep="\n", file=sys.stderr)
    return PytestResult(elapsed, result.returncode, lines[-1].strip("= ") if lines else "")


def cdk_cli_version() -> str:
    try:
        version = json.loads(CDK_PACKAGE_JSON.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"
    return str(version)


@dataclass(frozen=True)
class BenchResult:
    full: Series
    built: Series
    empty: Series
    templates: int
    pytest: PytestResult | None

    def ratio(self, stat: str, series: str = "full") -> float:
        return float(getattr(getattr(self, series), stat) / getattr(self.empty, stat))

    @property
    def load_averages(self) -> list[float]:
        return self.full.load_averages + self.built.load_averages + self.empty.load_averages


def print_table(result: BenchResult) -> None:
    pytest_result = result.pytest
    header = ("measurement", "runs", "median s", "min s", "CPU median s")
    rows: list[tuple[str, str, str, str, str]] = [header]
    for label, series in (
        (f"full synth, inputs unchanged ({result.templates} templates)", result.full),
        ("full synth, every construct built", result.built),
        ("empty app synth", result.empty),
    ):
        rows.append(
            (
                label,
                str(len(series.runs)),
                f"{series.median:.2f}",
                f"{series.minimum:.2f}",
                f"{series.cpu_median:.2f}",
            )
        )
    for label, name in (("ratio unchanged/empty", "full"), ("ratio built/empty", "built")):
        rows.append(
            (
                label,
                "",
                f"{result.ratio('median', name):.2f}x",
                f"{result.ratio('minimum', name):.2f}x",
                f"{result.ratio('cpu_median', name):.2f}x",
            )
        )
    if pytest_result is not None:
        seconds = f"{pytest_result.seconds:.2f}"
        rows.append((f"pytest (exit {pytest_result.exit_status})", "1", seconds, seconds, ""))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) if column == 0 else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
    loads = result.load_averages
    print(f"load average (1 min) at the start of each synth: {min(loads):.2f} to {max(loads):.2f}")
    if pytest_result is not None and pytest_result.summary:
        print(f"pytest: {pytest_result.summary}")


def write_json(result: BenchResult, repeat: int) -> None:
    pytest_result = result.pytest
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "repeat": repeat,
        "host": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "cdk_cli": cdk_cli_version(),
        },
        "environment": BENCH_ENV,
        "commands": {
            "full_synth": full_synth_command(Path("<tmpdir>")),
            "empty_synth": empty_synth_command(Path("<tmpdir>")),
            "pytest": None if pytest_result is None else [str(PYTEST), *PYTEST_ARGS],
        },
        "full_synth": {**result.full.to_json(), "templates": result.templates},
        "built_synth": result.built.to_json(),
        "empty_synth": result.empty.to_json(),
        "ratio_full_to_empty": {
            "median": round(result.ratio("median"), 3),
            "min": round(result.ratio("minimum"), 3),
            "cpu_median": round(result.ratio("cpu_median"), 3),
        },
        "ratio_built_to_empty": {
            "median": round(result.ratio("median", "built"), 3),
            "min": round(result.ratio("minimum", "built"), 3),
            "cpu_median": round(result.ratio("cpu_median", "built"), 3),
        },
        "pytest": None
        if pytest_result is None
        else {
            "seconds": round(pytest_result.seconds, 3),
            "exit_status": pytest_result.exit_status,
            "summary": pytest_result.summary,
        },
    }
    ignored = [name for name in DROPPED_ENV if name in os.environ]
    if ignored:
        report["ignored_environment"] = ignored
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    record_readme_rows(result, repeat)


def record_readme_rows(result: BenchResult, repeat: int) -> None:
    """This bench's rows of the README's measured table (bench/recorded.json)."""
    day = datetime.now(UTC).date().isoformat()
    full, built, empty = result.full, result.built, result.empty
    loads = result.load_averages
    load = f"load average {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores"
    record_row(
        "synth-full",
        f"`make bench` ({day}, {load}): full synth (`cdk synth '**'`), inputs unchanged since the last synth "
        f"(the assembly reused), wall median / min of {repeat}; CPU median",
        f"{full.median:.2f} s / {full.minimum:.2f} s; CPU {full.cpu_median:.2f} s",
    )
    record_row(
        "synth-built",
        f"`make bench` ({day}): full synth building every construct, as after an edit (assembly cache off, "
        f"the render and validation caches warm), wall median / min of {repeat}; CPU median",
        f"{built.median:.2f} s / {built.minimum:.2f} s; CPU {built.cpu_median:.2f} s",
    )
    record_row(
        "synth-empty",
        f"`make bench` ({day}): empty CDK app synth (one empty stack), wall median / min of {repeat}; "
        "CPU median",
        f"{empty.median:.2f} s / {empty.minimum:.2f} s; CPU {empty.cpu_median:.2f} s",
    )
    ratio, cpu_ratio = result.ratio("median"), result.ratio("cpu_median")
    built_ratio, built_cpu_ratio = result.ratio("median", "built"), result.ratio("cpu_median", "built")
    record_row(
        "synth-ratio",
        f"`make bench` ({day}): ratio full / empty, wall median; CPU median (target 1.5x)",
        f"inputs unchanged {ratio:.2f}x, CPU {cpu_ratio:.2f}x ({'met' if ratio <= 1.5 else 'missed'}); "
        f"every construct built {built_ratio:.2f}x, CPU {built_cpu_ratio:.2f}x "
        f"({'met' if built_ratio <= 1.5 else 'missed'})",
    )
    if result.pytest is not None:
        record_row(
            "pytest",
            f"`make bench` ({day}): pytest, {' '.join(PYTEST_ARGS[3:])}",
            f"{result.pytest.seconds:.0f} s (exit {result.pytest.exit_status})",
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--repeat", type=int, default=3, metavar="N", help="synth runs per app (default 3); median and min"
    )
    parser.add_argument("--skip-pytest", action="store_true", help="do not time the pytest suite")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in (CDK, PYTHON):
        if not tool.exists():
            print(f"{tool.relative_to(ROOT)} is missing: run `make bootstrap` first", file=sys.stderr)
            return 1
    env = bench_environment()
    building = {**env, assembly_cache.DIR_VARIABLE: ""}
    full, built, empty = Series("full synth"), Series("full synth, built"), Series("empty app synth")
    templates = 0
    try:
        time_synth(Series("warm-up"), full_synth_command, ROOT, env)
        for attempt in range(1, args.repeat + 1):
            templates = time_synth(full, full_synth_command, ROOT, env)
            time_synth(built, full_synth_command, ROOT, building)
            time_synth(empty, empty_synth_command, EMPTY_APP_DIR, env)
            print(
                f"run {attempt}/{args.repeat}: full {full.runs[-1]:.2f} s (CPU {full.cpu_runs[-1]:.2f} s), "
                f"built {built.runs[-1]:.2f} s (CPU {built.cpu_runs[-1]:.2f} s), "
                f"empty {empty.runs[-1]:.2f} s (CPU {empty.cpu_runs[-1]:.2f} s), "
                f"load average {full.load_averages[-1]:.2f}"
            )
    except CommandFailedError as error:
        print(f"{error}: {shlex.join(error.command)}", file=sys.stderr)
        print(error.result.stderr or error.result.stdout, file=sys.stderr)
        return 1
    result = BenchResult(full, built, empty, templates, None if args.skip_pytest else run_pytest(env))
    print()
    print_table(result)
    write_json(result, args.repeat)
    print(f"wrote {OUT_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
