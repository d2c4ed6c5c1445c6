"""The `train` program: fit a decision tree on channel `train` and save it where SageMaker collects models.

Data: every non-empty, non-hidden file under the `train` channel (recursively, in name order) is CSV in the
convention of SageMaker's built-in algorithms: no header, one sample per line, the label in the first
column (or the column `target_column` names), the features in the others, all numeric. Labels must be
integers (class ids). An optional `validation` channel in the same format is scored, not trained on.

Configuration SageMaker writes beside the hyperparameters (a local run may leave either file out):
- `inputdataconfig.json`: each channel's `ContentType` must be `text/csv` (parameters such as `label_size=1`
  are allowed; no content type means CSV) and its `TrainingInputMode` `File` or `FastFile` (both present
  the data as files under the channel directory). `Pipe` is refused: this program reads files, not FIFOs
  that SageMaker fills once per epoch. A channel other than `train` and `validation` is refused too, so
  data sent by mistake is never silently ignored.
- `resourceconfig.json`: more than one host is refused. A single tree cannot be split across hosts, and
  training one tree per host would pay for instances whose models SageMaker discards (or, with
  `ShardedByS3Key`, silently train on part of the data).

Files are read in blocks of rows (`csv_matrix.read_csv_blocks`) and kept as float32, the type
scikit-learn's trees train on, so memory follows the parsed numbers rather than several copies of the text.

SIGTERM (what StopTrainingJob sends, 120 s before SIGKILL) stops the run at the next Python instruction (a
tree being fitted finishes its fit first), writes the reason to the failure file, leaves no model behind
and exits with EXIT_STOPPED.

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

import signal

if __name__ == "__main__":
    # A signal sent to the process may be delivered to any thread that does not block it. Threads that
    # numpy's BLAS starts at import inherit this mask, so SIGTERM reaches the main thread, the one whose
    # handler stops training; delivered to a BLAS thread, it would leave a blocking read in the main thread
    # asleep. _run() unblocks it once the handler is installed and numpy imported; scikit-learn (scipy's
    # BLAS) is imported later, with SIGTERM blocked again (import_blocking_sigterm).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

import importlib
import json
import sys
import traceback
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeAlias

from .hyperparameters import HyperparameterError, Hyperparameters, load_hyperparameters
from .paths import MODEL_FILE, ContainerPaths, resolve_paths

# numpy, pandas (csv_matrix) and scikit-learn take a second or two to import: functions import them where
# used; _run imports numpy and pandas only once check_job has accepted the job, and train scikit-learn only
# once the data has loaded, so a misconfigured job or bad data fails without paying for them.
if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from sklearn.tree import DecisionTreeClassifier

    FeatureMatrix: TypeAlias = npt.NDArray[np.float32]
    IntVector: TypeAlias = npt.NDArray[np.int64]

METRICS_FILE = "metrics.json"
TRAIN_CHANNEL = "train"
VALIDATION_CHANNEL = "validation"
# SageMaker keeps the first 1,024 characters of the failure file as the job's FailureReason.
FAILURE_REASON_LIMIT = 1024
EXIT_BAD_INPUT = 1
EXIT_UNEXPECTED = 2
# 128 + SIGTERM, as a shell reports a process ended by that signal.
EXIT_STOPPED = 128 + signal.SIGTERM
LARGEST_LABEL = 2**53
INPUT_DATA_CONFIG_FILE = "inputdataconfig.json"
RESOURCE_CONFIG_FILE = "resourceconfig.json"
CSV_CONTENT_TYPES = frozenset({"text/csv", "csv"})
# Both present a channel as files under its directory; Pipe presents FIFOs.
FILE_INPUT_MODES = frozenset({"File", "FastFile"})
DATA_LIBRARIES = ("numpy", "pandas")
MODEL_LIBRARIES = ("sklearn.tree", "joblib")


class TrainingStoppedError(BaseException):
    """SIGTERM arrived. A BaseException, so no `except Exception` in a library on the way swallows it."""


class TrainingError(Exception):
    """The job cannot train with this data or configuration; the message says why."""


@dataclass(frozen=True)
class LabelledData:
    features: FeatureMatrix
    labels: IntVector
    files: int


def data_files(channel_dir: Path) -> list[Path]:
    """The channel's data files: regular and non-empty, or named pipes (read as a stream); not hidden;
    in path order."""
    return sorted(
        path
        for path in channel_dir.rglob("*")
        if not any(part.startswith(".") for part in path.relative_to(channel_dir).parts)
        and ((path.is_file() and path.stat().st_size > 0) or path.is_fifo())
    )


def check_input_data_config(config_file: Path) -> None:
    """Refuse channels, content types and input modes this program cannot read (see the docstring)."""
    config = _read_json_object(config_file)
    problems = []
    for channel, settings in config.items():
        if channel not in (TRAIN_CHANNEL, VALIDATION_CHANNEL):
            problems.append(f"channel {channel!r} is not used (this algorithm reads train and validation)")
            continue
        if not isinstance(settings, dict):
            problems.append(f"channel {channel!r}: expected an object, got {type(settings).__name__}")
            continue
        mode = settings.get("TrainingInputMode", "File")
        if mode not in FILE_INPUT_MODES:
            problems.append(
                f"channel {channel!r}: TrainingInputMode {mode} is not supported; use File or FastFile"
            )
        content_type = str(settings.get("ContentType") or "text/csv")
        if content_type.split(";", 1)[0].strip().lower() not in CSV_CONTENT_TYPES:
            problems.append(
                f"channel {channel!r}: ContentType {content_type!r} is not supported; use text/csv"
            )
    if problems:
        raise TrainingError(f"{config_file.name}: " + "; ".join(problems))


def check_resource_config(config_file: Path) -> None:
    """Refuse a job on several hosts (see the docstring for why)."""
    config = _read_json_object(config_file)
    hosts = config.get("hosts", [])
    if isinstance(hosts, list) and len(hosts) > 1:
        raise TrainingError(
            f"{config_file.name}: this algorithm trains one tree on one instance, but the job has "
            f"{len(hosts)} hosts ({', '.join(map(str, hosts))}); set the instance count to 1"
        )


def _read_json_object(config_file: Path) -> Mapping[str, Any]:
    if not config_file.is_file():
        return {}
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise TrainingError(f"{config_file.name} is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise TrainingError(f"{config_file.name} must hold a JSON object, got {type(config).__name__}")
    return config


def channel_files(channel_dir: Path, *, channel: str) -> list[Path]:
    """The channel's data files (see data_files); TrainingError if there are none."""
    if not channel_dir.is_dir():
        raise TrainingError(f"no {channel} data: channel directory {channel_dir} does not exist")
    files = data_files(channel_dir)
    if not files:
        raise TrainingError(f"no {channel} data: {channel_dir} holds no non-empty files")
    return files


def load_channel(
    channel_dir: Path, *, channel: str, target_column: int, expected_columns: int | None = None
) -> LabelledData:
    """All rows of one channel, split into float32 features and integer labels, read block by block."""
    import numpy as np  # noqa: PLC0415  (after check_job: see DATA_LIBRARIES)

    from .csv_matrix import CsvFormatError, read_csv_blocks  # noqa: PLC0415

    files = channel_files(channel_dir, channel=channel)
    feature_blocks: list[FeatureMatrix | None] = []
    label_blocks: list[IntVector] = []
    for path in files:
        name = path.relative_to(channel_dir)
        rows_before = 0
        try:
            for block in read_csv_blocks(path, expected_columns=expected_columns):
                if expected_columns is None:
                    _check_width(block.shape[1], channel=channel, target_column=target_column)
                    expected_columns = block.shape[1]
                check_stop()
                label_blocks.append(_class_ids(block[:, target_column], channel, name, rows_before))
                feature_blocks.append(np.delete(block, target_column, axis=1).astype(np.float32))
                rows_before += block.shape[0]
        except UnicodeDecodeError:
            raise TrainingError(f"{channel} file {name}: not UTF-8 text (expected CSV)") from None
        except CsvFormatError as error:
            raise TrainingError(f"{channel} file {name}: {error}") from None
    if not label_blocks or expected_columns is None:
        raise TrainingError(f"no {channel} data: the files under {channel_dir} hold no rows")
    labels = np.concatenate(label_blocks)
    # Filled block by block, each block dropped once copied: the untouched part of `features` costs no
    # memory yet, so the peak stays near one copy of the data instead of two.
    features: FeatureMatrix = np.empty((labels.shape[0], expected_columns - 1), dtype=np.float32)
    start = 0
    for index, feature_block in enumerate(feature_blocks):
        assert feature_block is not None
        features[start : start + feature_block.shape[0]] = feature_block
        start += feature_block.shape[0]
        feature_blocks[index] = None
    return LabelledData(features=features, labels=labels, files=len(files))


def _class_ids(values: npt.NDArray[np.float64], channel: str, name: Path, rows_before: int) -> IntVector:
    import numpy as np  # noqa: PLC0415  (after check_job: see DATA_LIBRARIES)

    # Beyond 2**53 a float64 no longer holds every integer, and the cast to int64 would be wrong.
    not_class_ids = np.flatnonzero((values != np.round(values)) | (np.abs(values) > LARGEST_LABEL))
    if not_class_ids.size:
        row = int(not_class_ids[0])
        raise TrainingError(
            f"{channel} file {name}: labels must be integer class ids; "
            f"data row {rows_before + row + 1} has {float(values[row])!r}"
        )
    return values.astype(np.int64)


def _check_width(columns: int, *, channel: str, target_column: int) -> None:
    if columns < 2:
        raise TrainingError(f"{channel} data has {columns} column; need a label and at least one feature")
    if target_column >= columns:
        raise TrainingError(
            f"target_column={target_column}, but the {channel} data has {columns} columns "
            f"(0 to {columns - 1})"
        )


def check_job(paths: ContainerPaths) -> Hyperparameters:
    """Everything about the job that can be checked without the data libraries, in the order train reports
    problems: the hyperparameters, resourceconfig.json, inputdataconfig.json, then the train channel's files.
    """
    hyperparameters = load_hyperparameters(
        file=paths.hyperparameters_file, sm_hps=paths.environ.get("SM_HPS") or None
    )
    check_resource_config(paths.input_config_dir / RESOURCE_CONFIG_FILE)
    check_input_data_config(paths.input_config_dir / INPUT_DATA_CONFIG_FILE)
    channel_files(paths.channel(TRAIN_CHANNEL), channel=TRAIN_CHANNEL)
    return hyperparameters


def import_blocking_sigterm(names: tuple[str, ...]) -> None:
    """Import `names` with SIGTERM blocked: the BLAS threads numpy and scipy start at import inherit the
    mask, so the signal keeps reaching the main thread (see the top of the module). One that arrives
    meanwhile is handled as the mask is restored."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        for name in names:
            importlib.import_module(name)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def train(paths: ContainerPaths, hyperparameters: Hyperparameters) -> dict[str, float]:
    # Values are ints (counts) or floats (scores); an int is a float as far as the type is concerned.
    """Train on a job check_job accepted, save the model and metrics.json, and return the metrics."""
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
    import_blocking_sigterm(MODEL_LIBRARIES)
    from sklearn.tree import DecisionTreeClassifier  # noqa: PLC0415  (once the data has loaded)

    model = DecisionTreeClassifier(**hyperparameters.estimator_arguments())
    check_stop()
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
    check_stop()
    save_model(model, paths.model_dir)
    write_metrics(metrics, hyperparameters, paths.output_data_dir)
    for name, value in metrics.items():
        print(f"{name}={value}" if isinstance(value, int) else f"{name}={value:.6f}", flush=True)
    return metrics


def save_model(model: DecisionTreeClassifier, model_dir: Path) -> Path:
    """Dump the model next to its final name, then rename, so a crash never leaves half a model."""
    import joblib  # noqa: PLC0415  (see MODEL_LIBRARIES)

    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / MODEL_FILE
    partial = model_dir / f".{MODEL_FILE}.partial"
    try:
        joblib.dump(model, partial)
        partial.replace(target)
    except BaseException:
        # A stop (or any failure) mid-dump leaves nothing that looks like a model.
        partial.unlink(missing_ok=True)
        raise
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


_stop_signal: list[str] = []


def _stop_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    # Once is enough: a second TERM during the clean-up must not interrupt writing the failure file.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Remembered as well as raised: C code that calls back into Python (a library's reader) may swallow the
    # exception, and check_stop() raises it again at the next safe point.
    _stop_signal.append(signal.Signals(signum).name)
    raise TrainingStoppedError(_stop_signal[0])


def check_stop() -> None:
    """Raise TrainingStoppedError if SIGTERM has arrived (called between blocks, before fit, before save)."""
    if _stop_signal:
        raise TrainingStoppedError(_stop_signal[0])


def main() -> int:
    paths = resolve_paths()
    _stop_signal.clear()
    previous_handler = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return _run(paths)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _run(paths: ContainerPaths) -> int:
    try:
        # A failure file left by an earlier local run in the same tree must not outlive this run.
        paths.failure_file.unlink(missing_ok=True)
        hyperparameters = check_job(paths)
        # With SIGTERM still blocked, so the BLAS threads numpy starts here inherit the block (see the top).
        for name in DATA_LIBRARIES:
            importlib.import_module(name)
        # A SIGTERM that came while it was blocked is handled here, inside the try.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        train(paths, hyperparameters)
    except TrainingStoppedError as stop:
        write_failure(paths, f"stopped by {stop} before training finished; no model was saved")
        return EXIT_STOPPED
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
