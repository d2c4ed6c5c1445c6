"""`make help` lists every phony target of the Makefile with its `##` description, in file order."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _phony_targets() -> list[str]:
    (line,) = [line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(".PHONY:")]
    return line.split(":", 1)[1].split()


def test_every_target_is_listed_once_with_a_description() -> None:
    completed = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    rows = [re.match(r"^  (\S+)\s+(\S.*)$", line) for line in completed.stdout.splitlines()]
    assert all(rows), completed.stdout
    listed = [row.group(1) for row in rows if row]
    assert sorted(listed) == sorted(_phony_targets())
    assert len(listed) == len(set(listed))
    descriptions = {row.group(1): row.group(2) for row in rows if row}
    assert "MODELS=" in descriptions["run-pipeline"]  # a description continued over several ## lines
