"""The `train` program: fit a decision tree on channel `train` and save it where SageMaker collects models.

Data: every non-empty, non-hidden file under the `train` channel (recursively, in name order) is CSV in the
convention of SageMaker's built-in algorithms: no header, one sample per line, the label in the first
column (or the column `target_column` names), the features in the others, all numeric. Labels must be
integers (class ids). An optional `validation` channel in the same format is scored, not trained on.

Outputs:
- `<model dir>/model.joblib`: the fitted `sklearn.tree.DecisionTreeClassifier` (joblib).
- `<output data dir>/metrics.json`: the metrics and the hyperparameters used.
- stdout: one `name=value` line per metric (`train_accuracy=0.973333`), for SageMaker metric definitions
  such as `{"Name": "train:accuracy", "Regex": "train_accuracy=([0-9.]+)"}`.
- on any error: the reason in `<output dir>/failure` (SageMaker shows it as the job's FailureReason) and a
  non-zero exit status: 1 for bad hyperparameters or data, 2 for anything unexpected.

Paths follow `paths.py`; hyperparameters follow `hyperparameters.py`.
"""

from __future__ import annotations

import json
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

import joblib
import numpy as np
import numpy.typing as npt
from sklearn.tree import DecisionTreeClassifier

from .csv_matrix import CsvFormatError, FloatMatrix, parse_csv_matrix
from .hyperparameters import HyperparameterError, Hyperparameters, load_hyperparameters
from .paths import MODEL_FILE, ContainerPaths, resolve_paths

METRICS_FILE = "metrics.json"
TRAIN_CHANNEL = "train"
VALIDATION_CHANNEL = "validation"
# SageMaker keeps the first 1,024 characters of the failure file as the job's FailureReason.
FAILURE_REASON_LIMIT = 1024
EXIT_BAD_INPUT = 1
EXIT_UNEXPECTED = 2
LARGEST_LABEL = 2**53

IntVector = npt.NDArray[np.int64]


class TrainingError(Exception):
    """The job cannot train with this data or configuration; the message says why."""


@dataclass(frozen=True)
class LabelledData:
    features: FloatMatrix
    labels: IntVector
    files: int


def data_files(channel_dir: Path) -> list[Path]:
    """The channel's data files: regular, non-empty, not hidden, in path order."""
    return sorted(
        path
        for path in channel_dir.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(channel_dir).parts)
        and path.stat().st_size > 0
    )


def load_channel(
    channel_dir: Path, *, channel: str, target_column: int, expected_columns: int | None = None
) -> LabelledData:
    """All rows of one channel, split into features and integer labels."""
    if not channel_dir.is_dir():
        raise TrainingError(f"no {channel} data: channel directory {channel_dir} does not exist")
    files = data_files(channel_dir)
    if not files:
        raise TrainingError(f"no {channel} data: {channel_dir} holds no non-empty files")
    blocks: list[FloatMatrix] = []
    for path in files:
        name = path.relative_to(channel_dir)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise TrainingError(f"{channel} file {name}: not UTF-8 text (expected CSV)") from None
        try:
            block = parse_csv_matrix(text, expected_columns=expected_columns)
        except CsvFormatError as error:
            raise TrainingError(f"{channel} file {name}: {error}") from None
        if expected_columns is None:
            _check_width(block.shape[1], channel=channel, target_column=target_column)
            expected_columns = block.shape[1]
        block_labels = block[:, target_column]
        # Beyond 2**53 a float64 no longer holds every integer, and the cast to int64 would be wrong.
        not_class_ids = np.flatnonzero(
            (block_labels != np.round(block_labels)) | (np.abs(block_labels) > LARGEST_LABEL)
        )
        if not_class_ids.size:
            row = int(not_class_ids[0])
            raise TrainingError(
                f"{channel} file {name}: labels (column {target_column}) must be integer class ids; "
                f"data row {row + 1} has {float(block_labels[row])!r}"
            )
        blocks.append(block)
    matrix = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    features = np.delete(matrix, target_column, axis=1)
    labels = matrix[:, target_column].astype(np.int64)
    return LabelledData(features=features, labels=labels, files=len(files))


def _check_width(columns: int, *, channel: str, target_column: int) -> None:
    if columns < 2:
        raise TrainingError(f"{channel} data has {columns} column; need a label and at least one feature")
    if target_column >= columns:
        raise TrainingError(
            f"target_column={target_column}, but the {channel} data has {columns} columns "
            f"(0 to {columns - 1})"
        )


def train(paths: ContainerPaths) -> dict[str, float]:
    # Values are ints (counts) or floats (scores); an int is a float as far as the type is concerned.
    """Train, save the model and metrics.json, and return the metrics."""
    hyperparameters = load_hyperparameters(
        file=paths.hyperparameters_file, sm_hps=paths.environ.get("SM_HPS") or None
    )
    training = load_channel(
        paths.channel(TRAIN_CHANNEL), channel=TRAIN_CHANNEL, target_column=hyperparameters.target_column
    )
    validation_dir = paths.channel(VALIDATION_CHANNEL)
    validation = (
        load_channel(
            validation_dir,
            channel=VALIDATION_CHANNEL,
            target_column=hyperparameters.target_column,
            expected_columns=training.features.shape[1] + 1,
        )
        if validation_dir.is_dir() and data_files(validation_dir)
        else None
    )
    print(
        f"training on {training.features.shape[0]} rows x {training.features.shape[1]} features "
        f"from {training.files} file(s) with {asdict(hyperparameters)}",
        flush=True,
    )
    model = DecisionTreeClassifier(**hyperparameters.estimator_arguments())
    model.fit(training.features, training.labels)
    metrics: dict[str, float] = {
        "train_rows": int(training.features.shape[0]),
        "train_accuracy": float(model.score(training.features, training.labels)),
        "tree_depth": int(model.get_depth()),
        "tree_leaves": int(model.get_n_leaves()),
    }
    if validation is not None:
        metrics["validation_rows"] = int(validation.features.shape[0])
        metrics["validation_accuracy"] = float(model.score(validation.features, validation.labels))
    save_model(model, paths.model_dir)
    write_metrics(metrics, hyperparameters, paths.output_data_dir)
    for name, value in metrics.items():
        print(f"{name}={value}" if isinstance(value, int) else f"{name}={value:.6f}", flush=True)
    return metrics


def save_model(model: DecisionTreeClassifier, model_dir: Path) -> Path:
    """Dump the model next to its final name, then rename, so a crash never leaves half a model."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / MODEL_FILE
    partial = model_dir / f".{MODEL_FILE}.partial"
    joblib.dump(model, partial)
    partial.replace(target)
    return target


def write_metrics(metrics: dict[str, float], hyperparameters: Hyperparameters, output_data_dir: Path) -> None:
    output_data_dir.mkdir(parents=True, exist_ok=True)
    report = {"metrics": metrics, "hyperparameters": asdict(hyperparameters)}
    (output_data_dir / METRICS_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def write_failure(paths: ContainerPaths, reason: str) -> None:
    print(f"training failed: {reason}", file=sys.stderr, flush=True)
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(reason[:FAILURE_REASON_LIMIT], encoding="utf-8")
    except OSError as error:
        print(f"could not write {paths.failure_file}: {error}", file=sys.stderr, flush=True)


def main() -> int:
    paths = resolve_paths()
    try:
        # A failure file left by an earlier local run in the same tree must not outlive this run.
        paths.failure_file.unlink(missing_ok=True)
        train(paths)
    except (HyperparameterError, TrainingError) as error:
        write_failure(paths, str(error))
        return EXIT_BAD_INPUT
    except Exception as error:
        traceback.print_exc()
        write_failure(paths, f"unexpected error: {type(error).__name__}: {error}")
        return EXIT_UNEXPECTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
