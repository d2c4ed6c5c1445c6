"""Evaluate step: score the test channel with the trained model and write the evaluation report.

Runs as a single file in SageMaker's XGBoost container (`python3`), which has the xgboost library that
loads the model the built-in algorithm saved; nothing else here needs more than the standard library, and
nothing imports this project. Written for Python 3.8 (the containers' oldest): no `zip(strict=)`, no
`match`, no runtime use of `X | Y` types.

Reads /opt/ml/processing/model/model.tar.gz (with the file `xgboost-model`) and the CSV files under
/opt/ml/processing/test (label first, no header). Writes /opt/ml/processing/evaluation/evaluation.json:

    {"metrics": {"accuracy": {"value": 0.93}, "precision": {...}, "recall": {...}, "f1": {...}, "auc": {...}},
     "sample_count": 500, "decision_threshold": 0.5,
     "data": {"uri": "s3://...", "version_id": "...", "etag": "...", "sha256": "...", "rows": 5000}}

`data` is the lineage record the Preprocess step wrote (/opt/ml/processing/lineage/lineage.json): the report
is the model package's ModelQuality statistics, so the registry shows which data version a model came from.

The pipeline's condition reads `metrics.accuracy.value` (property file `EvaluationReport`), and the model
registry's approval guard reads the same report as the package's ModelQuality statistics.

Experiment tracking, optional: when MLFLOW_TRACKING_ARN is set (a SageMaker managed MLflow tracking server's
ARN), the metrics are also logged to MLflow, in the experiment MLFLOW_EXPERIMENT_NAME, as a run named after
the processing job, with the data's lineage as run parameters (`input_data_uri`, `input_data_version_id`,
`input_data_etag`, `input_data_sha256`). mlflow (with the sagemaker-mlflow plugin, which accepts the ARN as
tracking URI) comes from the container if it has it; if it does not, or tracking fails, the step says so in
one line and succeeds all the same: the report is what the pipeline needs.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import math
import os
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

PROCESSING_ROOT = Path("/opt/ml/processing")
MODEL_ARCHIVE = "model.tar.gz"
MODEL_FILE = "xgboost-model"
REPORT_FILE = "evaluation.json"
LINEAGE_FILE = "lineage.json"
DECISION_THRESHOLD = 0.5
# Where a processing container finds its own job's description (ProcessingJobName among it).
PROCESSING_JOB_CONFIG = Path("/opt/ml/config/processingjobconfig.json")
TRACKING_ARN_VARIABLE = "MLFLOW_TRACKING_ARN"
EXPERIMENT_VARIABLE = "MLFLOW_EXPERIMENT_NAME"
DEFAULT_RUN_NAME = "evaluate"


def read_labelled_rows(paths: Sequence[Path]) -> tuple[list[int], list[list[float]]]:
    """Labels (0/1) and feature rows from headerless CSV files; an empty feature is NaN (missing)."""
    labels: list[int] = []
    features: list[list[float]] = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row:
                    continue
                label = float(row[0])
                if label not in (0.0, 1.0):
                    raise ValueError(f"{path.name} line {number}: label {row[0]!r} is not 0 or 1")
                labels.append(int(label))
                features.append([float(value) if value.strip() else math.nan for value in row[1:]])
    if not labels:
        raise ValueError("the test channel has no rows")
    width = len(features[0])
    if any(len(row) != width for row in features):
        raise ValueError("test rows differ in their number of features")
    return labels, features


def binary_classification_metrics(
    labels: Sequence[int], probabilities: Sequence[float], threshold: float = DECISION_THRESHOLD
) -> dict[str, float]:
    """Accuracy, precision, recall and F1 at `threshold`, and ROC AUC when both classes occur.

    Precision (recall) is 0 when nothing is predicted (present) positive.
    """
    if len(labels) != len(probabilities):
        raise ValueError(f"{len(labels)} labels but {len(probabilities)} predictions")
    if not labels:
        raise ValueError("no predictions to evaluate")
    counts = {(label, guess): 0 for label in (0, 1) for guess in (0, 1)}
    for index, label in enumerate(labels):
        counts[(label, 1 if probabilities[index] >= threshold else 0)] += 1
    true_positive, true_negative = counts[(1, 1)], counts[(0, 0)]
    false_positive, false_negative = counts[(0, 1)], counts[(1, 0)]
    precision = _ratio(true_positive, true_positive + false_positive)
    recall = _ratio(true_positive, true_positive + false_negative)
    metrics = {
        "accuracy": (true_positive + true_negative) / len(labels),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
    }
    auc = roc_auc(labels, probabilities)
    if auc is not None:
        metrics["auc"] = auc
    return metrics


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """The area under the ROC curve (the Mann-Whitney statistic, ties counted half); None for one class."""
    positives = sum(1 for label in labels if label == 1)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda index: scores[index])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average_rank = (start + end) / 2 + 1  # ranks are 1-based; tied scores share their average rank
        for position in range(start, end + 1):
            ranks[order[position]] = average_rank
        start = end + 1
    positive_rank_sum = sum(ranks[index] for index, label in enumerate(labels) if label == 1)
    return (positive_rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def evaluation_report(
    metrics: Mapping[str, float],
    *,
    sample_count: int,
    threshold: float = DECISION_THRESHOLD,
    data: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The report: each metric as `{"value": x}` under `metrics` (SageMaker's model quality shape), and
    the data's lineage record under `data` when there is one."""
    for name, value in metrics.items():
        if not math.isfinite(value):
            raise ValueError(f"metric {name} is {value}")
    report: dict[str, object] = {
        "metrics": {name: {"value": round(float(value), 6)} for name, value in sorted(metrics.items())},
        "sample_count": sample_count,
        "decision_threshold": threshold,
    }
    if data is not None:
        report["data"] = dict(data)
    return report


def read_lineage(path: Path) -> dict[str, object] | None:
    """The Preprocess step's lineage record, or None when the job was given none (a run by hand)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return None
    if not isinstance(record, dict):
        raise ValueError(f"{path} is not a JSON object")
    return record


def extract_model(archive: Path, target_dir: Path) -> Path:
    """Copy the model file out of the training job's archive, reading no other member (no path traversal)."""
    with tarfile.open(archive, "r:gz") as bundle:
        for member in bundle.getmembers():
            if member.isfile() and Path(member.name).name == MODEL_FILE:
                source = bundle.extractfile(member)
                if source is None:
                    break
                target = target_dir / MODEL_FILE
                target_dir.mkdir(parents=True, exist_ok=True)
                with source, target.open("wb") as sink:
                    sink.write(source.read())
                return target
    raise ValueError(f"{archive} holds no {MODEL_FILE}")


def predict_probabilities(model_file: Path, features: Sequence[Sequence[float]]) -> list[float]:
    """The model's positive-class probabilities. xgboost and numpy come from the container, imported here so
    the rest of this module (and its tests) need neither."""
    numpy = importlib.import_module("numpy")
    xgboost = importlib.import_module("xgboost")
    booster = xgboost.Booster()
    booster.load_model(str(model_file))
    matrix = xgboost.DMatrix(numpy.asarray(features, dtype=float))
    return [float(value) for value in booster.predict(matrix)]


def processing_job_name(config_file: Path = PROCESSING_JOB_CONFIG) -> str | None:
    """This job's name from the container's job description, or None outside a processing job."""
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = config.get("ProcessingJobName") if isinstance(config, dict) else None
    return name if isinstance(name, str) and name else None


def track_with_mlflow(
    report: Mapping[str, object],
    environment: Mapping[str, str],
    config_file: Path = PROCESSING_JOB_CONFIG,
) -> bool:
    """Log the report's metrics to the MLflow tracking server in `environment` (MLFLOW_TRACKING_ARN), if any.

    True when logged. Never raises: without the variable nothing happens; without mlflow, or when logging
    fails, one line says that tracking was skipped and why.
    """
    tracking_arn = environment.get(TRACKING_ARN_VARIABLE, "").strip()
    if not tracking_arn:
        return False
    try:
        mlflow = importlib.import_module("mlflow")
    except ImportError as error:
        print(f"MLflow tracking skipped: mlflow is not importable here ({error})")
        return False
    run_name = processing_job_name(config_file) or DEFAULT_RUN_NAME
    metrics = report.get("metrics")
    values = {
        name: float(entry["value"])
        for name, entry in (metrics.items() if isinstance(metrics, dict) else ())
        if isinstance(entry, dict) and isinstance(entry.get("value"), (int, float))
    }
    try:
        mlflow.set_tracking_uri(tracking_arn)
        experiment = environment.get(EXPERIMENT_VARIABLE, "").strip()
        if experiment:
            mlflow.set_experiment(experiment)
        with mlflow.start_run(run_name=run_name):
            mlflow.log_metrics(values)
            data = report.get("data")
            mlflow.log_params(
                {
                    "sample_count": report.get("sample_count"),
                    "decision_threshold": report.get("decision_threshold"),
                    **{
                        f"input_data_{name}": value
                        for name, value in (data.items() if isinstance(data, dict) else ())
                        if name != "rows"
                    },
                }
            )
    except Exception as error:  # tracking is a side channel: the step must not fail for it
        print(f"MLflow tracking skipped: logging to {tracking_arn} failed ({type(error).__name__}: {error})")
        return False
    print(f"MLflow: logged {len(values)} metrics to run {run_name!r} on {tracking_arn}")
    return True


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--decision-threshold", type=float, default=DECISION_THRESHOLD)
    parser.add_argument("--root", type=Path, default=PROCESSING_ROOT, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    root: Path = arguments.root
    test_files = sorted(path for path in (root / "test").rglob("*.csv") if path.is_file())
    labels, features = read_labelled_rows(test_files)
    with tempfile.TemporaryDirectory() as work_dir:
        model_file = extract_model(root / "model" / MODEL_ARCHIVE, Path(work_dir))
        probabilities = predict_probabilities(model_file, features)
    metrics = binary_classification_metrics(labels, probabilities, arguments.decision_threshold)
    report = evaluation_report(
        metrics,
        sample_count=len(labels),
        threshold=arguments.decision_threshold,
        data=read_lineage(root / "lineage" / LINEAGE_FILE),
    )
    output = root / "evaluation" / REPORT_FILE
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report))
    track_with_mlflow(report, os.environ)
    return 0


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
