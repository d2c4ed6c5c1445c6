#!/usr/bin/env python3
"""How long `app.py` takes to report a bad configuration, and to load a good one.

Run from the repository root as a module: `.venv/bin/python -m bench.config_bench`.

A copy of app.py, platform_config/ and config/ goes to a temporary folder; there, for each case, a fresh
interpreter runs app.py (as `cdk synth` does) on the sample with one mistake written in, and the wall time
until it exits with its errors is measured (median of RUNS). A good configuration is timed through
`load_platform` alone, since app.py would go on to synthesize. Writes bench/out/config_bench.json. A
measurement, not a test: no thresholds.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.figures import ROOT, write_figures

RUNS = 3
ALIAS_BOMB = "".join(
    ['x-a0: &a0 "lol"\n']
    + [f"x-a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n" for level in range(1, 10)]
)
# Mistakes written into dev.yaml: a region that does not exist, and a billion-laughs alias bomb.
CASES: dict[str, Callable[[str], str]] = {
    "bad region": lambda text: re.sub(r"^region: .*$", "region: eu-west-9", text, count=1, flags=re.M),
    "alias bomb": lambda text: text + ALIAS_BOMB,
}
LOAD_ONLY = (
    "from pathlib import Path; from platform_config import load_platform; load_platform(Path('config'))"
)


def _timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, completed


def main() -> int:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch)
        shutil.copy2(ROOT / "app.py", tree / "app.py")
        shutil.copytree(ROOT / "platform_config", tree / "platform_config")
        seconds = [_timed([sys.executable, "-c", LOAD_ONLY], tree)[0] for _ in range(RUNS)]
        figures["good configuration, load_platform"] = statistics.median(seconds)
        for name, mistake in CASES.items():
            shutil.rmtree(tree / "config", ignore_errors=True)
            shutil.copytree(ROOT / "config", tree / "config")
            dev = tree / "config" / "dev.yaml"
            dev.write_text(mistake(dev.read_text()))
            times = []
            for _ in range(RUNS):
                elapsed, completed = _timed([sys.executable, "app.py"], tree)
                if completed.returncode != 2:
                    print(f"{name}: exit {completed.returncode}, not 2\n{completed.stderr}", file=sys.stderr)
                    return 1
                times.append(elapsed)
            figures[f"{name}: app.py prints its errors"] = statistics.median(times)
    print(f"{'case':52} {'median s':>9}")
    for name, value in figures.items():
        print(f"{name:52} {value:9.2f}")
    write_figures("config_bench", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
