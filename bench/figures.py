"""Where bench figures live: each benchmark's raw figures in bench/out/<name>.json (not committed), and the
README's "Measured" table, one row per key, recorded in bench/recorded.json (committed).

A benchmark that owns a row calls `record_row(key, measurement, value)`; `python -m bench.figures` (the last
step of `make bench`) rewrites the README table between its markers from the record. A test checks that
the README table is exactly the record's, so a figure in the README comes from a bench run or from a row
someone recorded by hand in bench/recorded.json, never from an edit of the README alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
RECORD_FILE = ROOT / "bench" / "recorded.json"
README = ROOT / "README.md"
TABLE_START = "<!-- measured: `make bench` writes this table from bench/recorded.json -->"
TABLE_END = "<!-- /measured -->"
Row = dict[str, str]


def write_figures(name: str, figures: Any) -> None:
    path = OUT_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def load_rows(record: Path = RECORD_FILE) -> list[Row]:
    rows: list[Row] = json.loads(record.read_text(encoding="utf-8"))
    return rows


def record_row(key: str, measurement: str, value: str, record: Path = RECORD_FILE) -> None:
    """Replace the row `key` (or append it) in the record."""
    rows = load_rows(record)
    row = {"key": key, "measurement": measurement, "value": value}
    for index, existing in enumerate(rows):
        if existing["key"] == key:
            rows[index] = row
            break
    else:
        rows.append(row)
    record.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def readme_table(rows: list[Row]) -> str:
    lines = ["| measurement | value |", "| --- | --- |"]
    lines.extend(f"| {row['measurement']} | {row['value']} |" for row in rows)
    return "\n".join(lines)


def table_in(text: str) -> str:
    """The table between the markers of a README text."""
    start = text.index(TABLE_START) + len(TABLE_START)
    return text[start : text.index(TABLE_END, start)].strip("\n")


def with_table(text: str, rows: list[Row]) -> str:
    start = text.index(TABLE_START) + len(TABLE_START)
    end = text.index(TABLE_END, start)
    return f"{text[:start]}\n{readme_table(rows)}\n{text[end:]}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    README.write_text(with_table(text, load_rows()), encoding="utf-8")
    print(f"wrote the measured table of {README.relative_to(ROOT)} from {RECORD_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
