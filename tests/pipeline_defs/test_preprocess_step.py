"""steps/preprocess.py: label parsing, schema inference and encoding, the stratified split, the baseline
channel, the whole run."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from pipeline_defs import model_build
from pipeline_defs.steps import preprocess
from pipeline_defs.steps.preprocess import (
    Feature,
    Schema,
    features_only,
    infer_schema,
    parse_label,
    stratified_split,
)

HEADER = ["state", "account_length", "intl_plan", "day_minutes", "phone", "churn"]


def _rows(count: int) -> list[dict[str, str]]:
    """A small churn-like dataset: one positive in four."""
    states = ["KS", "OH", "NJ"]
    return [
        {
            "state": states[index % 3],
            "account_length": str(100 + index),
            "intl_plan": "yes" if index % 5 == 0 else "no",
            "day_minutes": "" if index == 3 else f"{150 + index * 1.5:.1f}",
            "phone": f"382-{4657 + index}",
            "churn": "True." if index % 4 == 0 else "False.",
        }
        for index in range(count)
    ]


@pytest.mark.parametrize(
    ("value", "label"),
    [("True.", 1), ("False.", 0), ("1", 1), ("0", 0), (" yes ", 1), ("NO", 0), ("1.0", 1), ("t", 1)],
)
def test_labels(value: str, label: int) -> None:
    assert parse_label(value) == label


def test_a_label_that_is_not_binary_is_refused() -> None:
    with pytest.raises(ValueError, match="not a binary label"):
        parse_label("maybe")


def test_schema_numeric_and_categorical_columns() -> None:
    schema = infer_schema(_rows(12), HEADER, "churn", drop=["phone"])
    assert schema == Schema(
        target="churn",
        features=(
            Feature("state", ("KS", "NJ", "OH")),
            Feature("account_length"),
            Feature("intl_plan", ("no", "yes")),
            Feature("day_minutes"),  # one empty value: missing, still numeric
        ),
    )
    assert schema.columns == [
        "state=KS",
        "state=NJ",
        "state=OH",
        "account_length",
        "intl_plan=no",
        "intl_plan=yes",
        "day_minutes",
    ]


def test_encoding_puts_the_label_first() -> None:
    rows = _rows(12)
    schema = infer_schema(rows, HEADER, "churn", drop=["phone"])
    assert schema.encode(rows[0]) == ["1", "1", "0", "0", "100", "0", "1", "150.0"]
    assert schema.encode(rows[3]) == ["0", "1", "0", "0", "103", "1", "0", ""]  # missing stays empty


def test_schema_errors() -> None:
    with pytest.raises(ValueError, match="target column 'label' is not in the header"):
        infer_schema(_rows(3), HEADER, "label")
    with pytest.raises(ValueError, match="cannot drop \\['id'\\]"):
        infer_schema(_rows(3), HEADER, "churn", drop=["id"])


def test_the_split_is_stratified_disjoint_complete_and_deterministic() -> None:
    labels = [1 if index % 4 == 0 else 0 for index in range(200)]
    split = stratified_split(labels, validation_fraction=0.15, test_fraction=0.15, seed=7)
    assert sorted(split["train"] + split["validation"] + split["test"]) == list(range(200))
    assert {len(split[channel]) for channel in ("validation", "test")} == {30}
    for channel, indices in split.items():
        positives = sum(labels[index] for index in indices)
        assert positives / len(indices) == pytest.approx(0.25, abs=0.02), channel
    assert split == stratified_split(labels, validation_fraction=0.15, test_fraction=0.15, seed=7)
    assert split != stratified_split(labels, validation_fraction=0.15, test_fraction=0.15, seed=8)


def test_every_channel_gets_each_class_with_little_data() -> None:
    split = stratified_split([1, 1, 1, 0, 0, 0], validation_fraction=0.1, test_fraction=0.1, seed=1)
    assert all(len(indices) == 2 for indices in split.values())


def test_the_split_refuses_too_little_data_and_bad_fractions() -> None:
    with pytest.raises(ValueError, match="too few rows"):
        stratified_split([1, 0], validation_fraction=0.15, test_fraction=0.15, seed=1)
    with pytest.raises(ValueError, match="fractions"):
        stratified_split([1, 0] * 10, validation_fraction=0.5, test_fraction=0.5, seed=1)


def test_a_whole_run(tmp_path: Path) -> None:
    """The script as the processing job runs it, on /opt/ml/processing's layout under a temporary root."""
    (tmp_path / "input" / "part").mkdir(parents=True)
    rows = _rows(40)
    for path, part in (
        (tmp_path / "input" / "a.csv", rows[:25]),
        (tmp_path / "input" / "part" / "b.csv", rows[25:]),
    ):
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=HEADER)
            writer.writeheader()
            writer.writerows(part)
    (tmp_path / "input" / "notes.txt").write_text("not data")

    assert preprocess.main(["--root", str(tmp_path), "--drop-columns", "phone"]) == 0

    counts = {}
    for channel in ("train", "validation", "test"):
        lines = (tmp_path / channel / f"{channel}.csv").read_text().splitlines()
        counts[channel] = len(lines)
        assert all(line.split(",")[0] in ("0", "1") for line in lines)
        assert all(len(line.split(",")) == 8 for line in lines)  # label + 7 encoded features
    assert counts == {"train": 28, "validation": 6, "test": 6}
    schema = json.loads((tmp_path / "schema" / "schema.json").read_text())
    assert schema["target"] == "churn"
    assert schema["columns"][0] == "state=KS"
    assert [feature["name"] for feature in schema["features"]] == [
        "state",
        "account_length",
        "intl_plan",
        "day_minutes",
    ]


def test_features_only_drops_the_label_and_keeps_missing_values() -> None:
    rows = _rows(12)
    schema = infer_schema(rows, HEADER, "churn", drop=["phone"])
    assert features_only(schema.encode(rows[3])) == ["1", "0", "0", "103", "1", "0", ""]
    assert len(features_only(schema.encode(rows[0]))) == len(schema.columns)


def test_the_baseline_channel_is_the_train_features_as_an_endpoint_receives_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No label, no header, the schema's columns in order: the text/csv an endpoint gets, row for row the
    train channel without its first column. The other channels are unchanged by it."""
    (tmp_path / "input").mkdir()
    rows = _rows(40)
    with (tmp_path / "input" / "data.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)

    assert preprocess.main(["--root", str(tmp_path), "--drop-columns", "phone"]) == 0

    train = (tmp_path / "train" / "train.csv").read_text().splitlines()
    baseline_file = tmp_path / "baseline" / "baseline.csv"
    baseline = baseline_file.read_text().splitlines()
    assert len(baseline) == len(train) == 28
    assert baseline == [line.split(",", 1)[1] for line in train]
    columns = json.loads((tmp_path / "schema" / "schema.json").read_text())["columns"]
    assert all(len(line.split(",")) == len(columns) == 7 for line in baseline)
    assert not any(name in baseline[0] for name in ("state", "churn", "account_length"))  # no header
    # Each line is its source row's features in the schema's order (account_length identifies the row).
    assert columns[:4] == ["state=KS", "state=NJ", "state=OH", "account_length"]
    for line in baseline:
        fields = line.split(",")
        source = rows[int(fields[3]) - 100]
        assert fields[:3] == ["1" if source["state"] == state else "0" for state in ("KS", "NJ", "OH")]
    assert baseline_file.read_bytes().endswith(b"\n") and b"\r" not in baseline_file.read_bytes()
    assert "baseline: 28 rows (train features, no label)" in capsys.readouterr().out


def test_the_pipeline_and_the_script_agree_on_the_baseline_channel() -> None:
    assert preprocess.BASELINE_CHANNEL == model_build.BASELINE_CHANNEL
    assert preprocess.BASELINE_CHANNEL in model_build.PREPROCESS_CHANNELS
    assert set(preprocess.CHANNELS) < set(model_build.PREPROCESS_CHANNELS)


def test_files_with_different_columns_are_refused(tmp_path: Path) -> None:
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "a.csv").write_text("x,churn\n1,0\n")
    (tmp_path / "input" / "b.csv").write_text("y,churn\n1,0\n")
    with pytest.raises(ValueError, match=r"b\.csv has columns"):
        preprocess.main(["--root", str(tmp_path)])


def test_an_identifier_column_left_in_is_refused_with_the_way_out() -> None:
    """One-hot encoding a column with a different value per row adds a feature per row (a deployed run with
    a phone number column got 602 features instead of 33)."""
    rows = _rows(preprocess.IDENTIFIER_MIN_ROWS)
    with pytest.raises(
        ValueError, match=r"column 'phone' has a different value in each of the 20 rows.*DropColumns"
    ):
        infer_schema(rows, HEADER, "churn")
    assert [feature.name for feature in infer_schema(rows, HEADER, "churn", drop=["phone"]).features] == [
        "state",
        "account_length",
        "intl_plan",
        "day_minutes",
    ]
    # Too few rows to tell an identifier from a rare category: kept.
    assert "phone" in [feature.name for feature in infer_schema(_rows(12), HEADER, "churn").features]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("s3://data/incoming/churn 2026-12-07.csv", None),
        ("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo", None),
        ("d41d8cd98f00b204e9800998ecf8427e-2", None),
        ("", "0 characters (SageMaker takes 1 to 256)"),
        ("s3://data/" + "k" * 247, "257 characters (SageMaker takes 1 to 256)"),
        (
            "s3://data/churn(1)!.csv",
            "the character(s) ! ( ) (SageMaker takes letters, digits, spaces and _.:/=+-@)",
        ),
    ],
)
def test_lineage_values_are_checked_against_sagemakers_metadata_limits(
    value: str, problem: str | None
) -> None:
    assert preprocess.metadata_value_problem(value) == problem


def test_the_lineage_record_is_written_beside_the_schema(tmp_path: Path) -> None:
    (tmp_path / "input").mkdir()
    data = tmp_path / "input" / "data.csv"
    with data.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(_rows(40))
    arguments = ["--drop-columns=phone", "--input-uri", "s3://data/in/a.csv", "--input-version-id", "v9"]
    assert preprocess.main([*arguments, "--root", str(tmp_path)]) == 0
    lineage = json.loads((tmp_path / "schema" / "lineage.json").read_text())
    assert lineage["uri"] == "s3://data/in/a.csv"
    assert (lineage["version_id"], lineage["etag"], lineage["rows"]) == ("v9", "unrecorded", 40)
    assert lineage["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
