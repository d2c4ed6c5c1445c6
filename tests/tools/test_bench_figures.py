"""The README's measured-figures table is exactly bench/recorded.json's rows, which `make bench` writes."""

from __future__ import annotations

from pathlib import Path

from bench import figures


def test_the_readme_table_is_the_recorded_figures() -> None:
    assert figures.table_in(figures.README.read_text(encoding="utf-8")) == figures.readme_table(
        figures.load_rows()
    )


def test_every_recorded_row_has_a_unique_key_and_a_value() -> None:
    rows = figures.load_rows()
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys))
    assert all(row["measurement"] and row["value"] for row in rows)
    assert all(set(row) == {"key", "measurement", "value"} for row in rows)


def test_recording_a_row_rewrites_the_table(tmp_path: Path) -> None:
    record = tmp_path / "recorded.json"
    record.write_text(figures.RECORD_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    rows = figures.load_rows(record)
    figures.record_row(rows[0]["key"], rows[0]["measurement"], "measured again", record)
    figures.record_row("new-figure", "a new measurement", "1 s", record)
    updated = figures.load_rows(record)
    assert [row["key"] for row in updated] == [row["key"] for row in rows] + ["new-figure"]
    assert updated[0]["value"] == "measured again"
    readme = figures.README.read_text(encoding="utf-8")
    rewritten = figures.with_table(readme, updated)
    assert figures.table_in(rewritten) == figures.readme_table(updated)
    assert "| a new measurement | 1 s |" in rewritten
    # Only the table changes.
    outside = readme.replace(figures.table_in(readme), "")
    assert rewritten.replace(figures.table_in(rewritten), "") == outside
