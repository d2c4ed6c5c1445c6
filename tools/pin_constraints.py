"""Rewrite constraints.txt: every installed package that no requirements file pins directly.

Run by `make constraints` in a fresh virtualenv after a requirements change, so a clean clone installs
exactly the transitive versions CI tested.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt", "containers/decision_tree/requirements.txt")
HEADER = (
    "# Every transitive package pinned, so a clean clone installs exactly what CI tested.\n"
    "# Regenerate after changing requirements: make constraints\n"
)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_requirements() -> set[str]:
    names: set[str] = set()
    for file_name in REQUIREMENT_FILES:
        for raw_line in (ROOT / file_name).read_text().splitlines():
            requirement = raw_line.strip()
            if requirement and not requirement.startswith(("#", "-")):
                names.add(_normalized(re.split(r"[\[=<>~!;\s]", requirement, maxsplit=1)[0]))
    return names


def main() -> int:
    python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    frozen = subprocess.run(
        [python, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    direct = direct_requirements()
    pins = [line for line in frozen if "==" in line and _normalized(line.split("==")[0]) not in direct]
    (ROOT / "constraints.txt").write_text(HEADER + "\n".join(pins) + "\n")
    print(f"constraints.txt: {len(pins)} transitive pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
