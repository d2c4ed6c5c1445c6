"""Preprocess step: split a labelled CSV dataset into train/validation/test channels for SageMaker's XGBoost.

Runs as a single file in SageMaker's scikit-learn processing container, so it imports nothing from this
project and needs only the standard library. Written for Python 3.8 (the containers' oldest): no
`zip(strict=)`, no `match`, no runtime use of `X | Y` types.

Reads every `*.csv` under /opt/ml/processing/input (one header row each, the same columns). The target column
holds a binary label (1/0, true/false, yes/no, "True."/"False." ...). Writes:
- /opt/ml/processing/{train,validation,test}/<channel>.csv: the label (0 or 1) first, then the features,
  no header: the CSV layout SageMaker's built-in XGBoost trains on;
- /opt/ml/processing/baseline/baseline.csv: the train channel's features only (no label, no header), which is
  exactly what an endpoint receives as text/csv: the dataset Model Monitor's data-quality baseline is
  computed from;
- /opt/ml/processing/schema/schema.json: the feature columns in order and how each was encoded, which
  whoever prepares data for batch inference must follow;
- /opt/ml/processing/schema/lineage.json: where the data came from (`--input-uri`, and the S3 object's
  `--input-version-id` and `--input-etag` as the data trigger passed them) and the SHA-256 of what was read.
  The pipeline registers the same values as the model package's customer metadata, so each is checked here,
  before training, against SageMaker's limits for metadata values (1 to 256 letters, digits, spaces and
  `_.:/=+-@`): an object key outside them fails this step, not the registration after training.

Numeric columns are kept as they are (empty means missing); other columns are one-hot encoded over their
sorted values, except that a text column with a different value in every row (an identifier left in) is
refused: the pipeline passes the columns to leave out as `--drop-columns`. The split is stratified by label
and deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import random
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROCESSING_ROOT = Path("/opt/ml/processing")
CHANNELS = ("train", "validation", "test")
SCHEMA_FILE = "schema.json"
LINEAGE_FILE = "lineage.json"
# SageMaker's model package customer metadata values: 1 to 256 characters, letters (L), separators (Z),
# numbers (N) and these symbols (CreateModelPackage's CustomerMetadataValue pattern).
METADATA_VALUE_MAX_LENGTH = 256
METADATA_SYMBOLS = frozenset("_.:/=+-@")
# The features of the train channel, as an endpoint receives them: the data-quality baseline's dataset.
BASELINE_CHANNEL = "baseline"
BASELINE_SOURCE = "train"

# A text column with a different value in every row, over at least this many rows, is an identifier (a
# customer id, a phone number): one-hot encoded it would add a feature per row and teach the model nothing.
IDENTIFIER_MIN_ROWS = 20

TRUE_LABELS = frozenset({"1", "1.0", "true", "t", "yes", "y"})
FALSE_LABELS = frozenset({"0", "0.0", "false", "f", "no", "n"})


def parse_label(value: str) -> int:
    """1 or 0 from the usual spellings of a binary label, e.g. "True." (the churn dataset's) or "no"."""
    token = value.strip().lower().rstrip(".")
    if token in TRUE_LABELS:
        return 1
    if token in FALSE_LABELS:
        return 0
    raise ValueError(f"{value!r} is not a binary label (expected e.g. 1/0, true/false, yes/no)")


def is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


@dataclass(frozen=True)
class Feature:
    """A feature column: numeric (`categories` None) or one-hot encoded over `categories`."""

    name: str
    categories: tuple[str, ...] | None = None

    @property
    def columns(self) -> list[str]:
        if self.categories is None:
            return [self.name]
        return [f"{self.name}={category}" for category in self.categories]

    def encode(self, value: str) -> list[str]:
        value = value.strip()
        if self.categories is None:
            return [value]  # empty = missing, which XGBoost accepts
        return ["1" if value == category else "0" for category in self.categories]


@dataclass(frozen=True)
class Schema:
    target: str
    features: tuple[Feature, ...]

    @property
    def columns(self) -> list[str]:
        """The columns of an encoded row after the label."""
        return [column for feature in self.features for column in feature.columns]

    def encode(self, row: Mapping[str, str]) -> list[str]:
        """The label (0 or 1), then the encoded features: a row of XGBoost's CSV."""
        encoded = [str(parse_label(row[self.target]))]
        for feature in self.features:
            encoded.extend(feature.encode(row[feature.name]))
        return encoded

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "label": "first column: 1 positive, 0 negative",
            "features": [
                {"name": feature.name, "kind": "numeric"}
                if feature.categories is None
                else {"name": feature.name, "kind": "categorical", "categories": list(feature.categories)}
                for feature in self.features
            ],
            "columns": self.columns,
        }


def infer_schema(
    rows: Sequence[Mapping[str, str]], columns: Sequence[str], target: str, drop: Iterable[str] = ()
) -> Schema:
    """Numeric where every non-empty value is a finite number, else categorical over the sorted values."""
    if target not in columns:
        raise ValueError(f"target column {target!r} is not in the header {list(columns)}")
    dropped = set(drop)
    unknown = sorted(dropped - set(columns))
    if unknown:
        raise ValueError(f"cannot drop {unknown}: not in the header {list(columns)}")
    features: list[Feature] = []
    for column in columns:
        if column == target or column in dropped:
            continue
        present = [value for value in (row[column].strip() for row in rows) if value]
        if present and all(is_number(value) for value in present):
            features.append(Feature(column))
            continue
        categories = tuple(sorted(set(present)))
        if len(rows) >= IDENTIFIER_MIN_ROWS and len(categories) == len(rows):
            raise ValueError(
                f"column {column!r} has a different value in each of the {len(rows)} rows (an identifier?): "
                f"one-hot encoded it would add {len(categories)} features; leave it out with --drop-columns "
                "(the pipeline parameter DropColumns)"
            )
        features.append(Feature(column, categories))
    if not features:
        raise ValueError("no feature columns left")
    return Schema(target=target, features=tuple(features))


def stratified_split(
    labels: Sequence[int], *, validation_fraction: float, test_fraction: float, seed: int
) -> dict[str, list[int]]:
    """Row indices per channel, each class split in the same proportions; sorted, deterministic for a seed.

    Every channel gets at least one row of each class that has at least three rows.
    """
    if not (
        0 < validation_fraction < 1 and 0 < test_fraction < 1 and validation_fraction + test_fraction < 1
    ):
        raise ValueError("validation and test fractions must be in (0, 1) and sum to less than 1")
    channels: dict[str, list[int]] = {channel: [] for channel in CHANNELS}
    shuffler = random.Random(seed)
    for label in sorted(set(labels)):
        indices = [index for index, value in enumerate(labels) if value == label]
        shuffler.shuffle(indices)
        count = len(indices)
        minimum = 1 if count >= len(CHANNELS) else 0
        test_count = max(minimum, round(count * test_fraction))
        validation_count = max(minimum, round(count * validation_fraction))
        channels["test"].extend(indices[:test_count])
        channels["validation"].extend(indices[test_count : test_count + validation_count])
        channels["train"].extend(indices[test_count + validation_count :])
    empty = [channel for channel, indices in channels.items() if not indices]
    if empty:
        raise ValueError(f"too few rows ({len(labels)}) to fill the {', '.join(empty)} channel(s)")
    return {channel: sorted(indices) for channel, indices in channels.items()}


def metadata_value_problem(value: str) -> str | None:
    """Why SageMaker would refuse `value` as a model package metadata value, or None."""
    if not 1 <= len(value) <= METADATA_VALUE_MAX_LENGTH:
        return f"{len(value)} characters (SageMaker takes 1 to {METADATA_VALUE_MAX_LENGTH})"
    refused = sorted(
        {
            character
            for character in value
            if character not in METADATA_SYMBOLS and unicodedata.category(character)[0] not in "LNZ"
        }
    )
    if refused:
        return f"the character(s) {' '.join(refused)} (SageMaker takes letters, digits, spaces and _.:/=+-@)"
    return None


def lineage(arguments: argparse.Namespace, input_dir: Path) -> dict[str, object]:
    """The lineage record of the input: as the pipeline passed it, and the SHA-256 of the files read."""
    given = {
        "uri": arguments.input_uri,
        "version_id": arguments.input_version_id,
        "etag": arguments.input_etag,
    }
    for name, value in given.items():
        problem = metadata_value_problem(value)
        if problem:
            raise ValueError(
                f"the input's {name} {value!r} cannot be recorded in the model package's metadata: it has "
                f"{problem}; rename the object (or shorten its key) and upload it again"
            )
    digest = hashlib.sha256()
    for path in csv_files(input_dir):
        digest.update(path.read_bytes())
    return {**given, "sha256": digest.hexdigest()}


def csv_files(input_dir: Path) -> list[Path]:
    return sorted(path for path in input_dir.rglob("*.csv") if path.is_file())


def read_dataset(input_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of every CSV file under `input_dir`, in file name order."""
    files = csv_files(input_dir)
    if not files:
        raise ValueError(f"no .csv files under {input_dir}")
    header: list[str] = []
    rows: list[dict[str, str]] = []
    for path in files:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            fields = [name.strip() for name in next(reader, [])]
            if not header:
                header = fields
            elif fields != header:
                raise ValueError(f"{path.name} has columns {fields}, expected {header}")
            for values in reader:
                if not values:
                    continue
                if len(values) != len(header):
                    raise ValueError(
                        f"{path.name} line {reader.line_num}: {len(values)} fields, expected {len(header)}"
                    )
                rows.append({name: values[index] for index, name in enumerate(header)})
    if not rows:
        raise ValueError(f"no data rows under {input_dir}")
    return header, rows


def features_only(encoded_row: Sequence[str]) -> list[str]:
    """An encoded row without its label (the first column): what an endpoint receives as text/csv."""
    return list(encoded_row[1:])


def write_channel(path: Path, rows: Iterable[Sequence[str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--target-column", default="churn")
    parser.add_argument("--drop-columns", default="", help="comma-separated columns to leave out (e.g. ids)")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=7)
    # Lineage, recorded as given (the defaults say the run was started without them).
    parser.add_argument("--input-uri", default="unrecorded", help="s3:// URI of the input data")
    parser.add_argument("--input-version-id", default="unrecorded", help="the S3 object's version id")
    parser.add_argument("--input-etag", default="unrecorded", help="the S3 object's ETag")
    parser.add_argument("--root", type=Path, default=PROCESSING_ROOT, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    root: Path = arguments.root
    source = lineage(arguments, root / "input")
    columns, rows = read_dataset(root / "input")
    drop = [name.strip() for name in arguments.drop_columns.split(",") if name.strip()]
    schema = infer_schema(rows, columns, arguments.target_column, drop)
    encoded = [schema.encode(row) for row in rows]
    split = stratified_split(
        [int(row[0]) for row in encoded],
        validation_fraction=arguments.validation_fraction,
        test_fraction=arguments.test_fraction,
        seed=arguments.seed,
    )
    for channel in CHANNELS:
        count = write_channel(root / channel / f"{channel}.csv", (encoded[index] for index in split[channel]))
        print(f"{channel}: {count} rows")
    count = write_channel(
        root / BASELINE_CHANNEL / f"{BASELINE_CHANNEL}.csv",
        (features_only(encoded[index]) for index in split[BASELINE_SOURCE]),
    )
    print(f"{BASELINE_CHANNEL}: {count} rows ({BASELINE_SOURCE} features, no label)")
    schema_path = root / "schema" / SCHEMA_FILE
    schema_path.parent.mkdir(parents=True, exist_ok=True)
    schema_path.write_text(json.dumps(schema.to_json(), indent=2) + "\n", encoding="utf-8")
    source["rows"] = len(rows)
    (schema_path.parent / LINEAGE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    print(f"lineage: {json.dumps(source)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
