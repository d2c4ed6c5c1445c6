"""steps/evaluate.py: metrics, the report the condition and the approval guard read, the whole run, and
logging the metrics to an MLflow tracking server.

Neither xgboost nor mlflow is installed here (xgboost is in the container; mlflow is not a dependency of
this project): the runs use stand-in modules in sys.modules.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
import tarfile
import types
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy
import pytest

from functions.approval_guard.handler import search_metric
from pipeline_defs import model_build
from pipeline_defs.model_build import ACCURACY_PATH
from pipeline_defs.steps import evaluate
from pipeline_defs.steps.evaluate import (
    binary_classification_metrics,
    evaluation_report,
    extract_model,
    read_labelled_rows,
    roc_auc,
)


def test_metrics() -> None:
    labels = [1, 1, 1, 0, 0, 0, 0, 0]
    probabilities = [0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.4, 0.05]
    metrics = binary_classification_metrics(labels, probabilities)
    # Predicted positive: 0.9, 0.8, 0.6 -> TP 2, FP 1, FN 1, TN 4.
    assert metrics["accuracy"] == pytest.approx(6 / 8)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)
    # Pairs (positive, negative) ranked right: 0.9 and 0.8 beat all 5, 0.3 beats 3 -> 13 of 15.
    assert metrics["auc"] == pytest.approx(13 / 15)


def test_metrics_edge_cases() -> None:
    assert binary_classification_metrics([0, 0], [0.1, 0.2]) == {
        "accuracy": 1.0,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
    }  # no positives: no AUC
    assert roc_auc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)  # ties count half
    with pytest.raises(ValueError, match="2 labels but 1 predictions"):
        binary_classification_metrics([0, 1], [0.5])


def test_the_report_has_the_shape_the_condition_and_the_approval_guard_read() -> None:
    report = evaluation_report({"accuracy": 0.91234567, "f1": 0.5}, sample_count=100)
    assert report == {
        "metrics": {"accuracy": {"value": 0.912346}, "f1": {"value": 0.5}},
        "sample_count": 100,
        "decision_threshold": 0.5,
    }
    # The pipeline's JsonGet path...
    node: object = report
    for key in ACCURACY_PATH.split("."):
        assert isinstance(node, dict)
        node = node[key]
    assert node == 0.912346
    # ... and the registry's approval guard, which reads the report as the package's ModelQuality statistics.
    assert search_metric(json.loads(json.dumps(report)), "accuracy") == 0.912346


def test_the_report_refuses_non_finite_metrics() -> None:
    with pytest.raises(ValueError, match="metric accuracy is nan"):
        evaluation_report({"accuracy": math.nan}, sample_count=1)


def test_reading_the_test_channel(tmp_path: Path) -> None:
    (tmp_path / "test.csv").write_text("1,0.5,,3\n0,1.5,2,4\n\n")
    labels, features = read_labelled_rows([tmp_path / "test.csv"])
    assert labels == [1, 0]
    assert features[1] == [1.5, 2.0, 4.0]
    assert math.isnan(features[0][1])
    (tmp_path / "bad.csv").write_text("2,0.5\n")
    with pytest.raises(ValueError, match="label '2' is not 0 or 1"):
        read_labelled_rows([tmp_path / "bad.csv"])


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as bundle:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            bundle.addfile(info, io.BytesIO(content))
    return path


def test_extracting_only_the_model_file(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "model.tar.gz", {"../evil": b"x", "xgboost-model": b"model bytes"})
    extracted = extract_model(archive, tmp_path / "work")
    assert extracted == tmp_path / "work" / "xgboost-model"
    assert extracted.read_bytes() == b"model bytes"
    assert not (tmp_path / "evil").exists()
    with pytest.raises(ValueError, match="holds no xgboost-model"):
        extract_model(_archive(tmp_path / "empty.tar.gz", {"other": b""}), tmp_path / "work2")


class _StandInBooster:
    """xgboost.Booster's part that evaluate.py uses: predicts the first feature as the probability."""

    def load_model(self, path: str) -> None:
        assert Path(path).read_bytes() == b"model bytes"

    def predict(self, matrix: _StandInMatrix) -> Sequence[float]:
        return [float(value) for value in matrix.data[:, 0]]


class _StandInMatrix:
    def __init__(self, data: numpy.ndarray) -> None:
        self.data = data


def _prepare_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = types.ModuleType("xgboost")
    stand_in.Booster = _StandInBooster  # type: ignore[attr-defined]
    stand_in.DMatrix = _StandInMatrix  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "xgboost", stand_in)
    (tmp_path / "model").mkdir()
    _archive(tmp_path / "model" / "model.tar.gz", {"xgboost-model": b"model bytes"})
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "test.csv").write_text("1,0.9,5\n1,0.4,5\n0,0.2,5\n0,0.7,5\n")


def test_a_whole_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _prepare_run(tmp_path, monkeypatch)
    monkeypatch.delenv("MLFLOW_TRACKING_ARN", raising=False)  # no tracking: stdout is the report alone

    assert evaluate.main(["--root", str(tmp_path)]) == 0

    report = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    assert report["metrics"]["accuracy"] == {"value": 0.5}
    assert report["metrics"]["auc"] == {"value": 0.75}
    assert report["sample_count"] == 4
    assert json.loads(capsys.readouterr().out) == report


ARN = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/experiments"
REPORT = evaluation_report({"accuracy": 0.9, "auc": 0.95}, sample_count=40)


class _FakeMlflow(types.ModuleType):
    """The part of mlflow that evaluate.py uses, recording each call."""

    def __init__(self, *, fail_on: str | None = None) -> None:
        super().__init__("mlflow")
        self.calls: list[tuple[str, object]] = []
        self.fail_on = fail_on

    def _record(self, name: str, value: object) -> None:
        if name == self.fail_on:
            raise ConnectionError("tracking server unreachable")
        self.calls.append((name, value))

    def set_tracking_uri(self, uri: str) -> None:
        self._record("set_tracking_uri", uri)

    def set_experiment(self, experiment_name: str) -> None:
        self._record("set_experiment", experiment_name)

    @contextlib.contextmanager
    def start_run(self, run_name: str) -> Iterator[None]:
        self._record("start_run", run_name)
        yield
        self._record("end_run", run_name)

    def log_metrics(self, metrics: dict[str, float]) -> None:
        self._record("log_metrics", metrics)

    def log_params(self, params: dict[str, object]) -> None:
        self._record("log_params", params)


def _job_config(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "processingjobconfig.json"
    path.write_text(json.dumps({"ProcessingJobName": name, "AppSpecification": {}}))
    return path


def test_metrics_are_logged_to_the_tracking_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _FakeMlflow()
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    environment = {"MLFLOW_TRACKING_ARN": ARN, "MLFLOW_EXPERIMENT_NAME": "model-build"}
    config = _job_config(tmp_path, "model-build-evaluate-abc123")

    assert evaluate.track_with_mlflow(REPORT, environment, config) is True

    assert fake.calls == [
        ("set_tracking_uri", ARN),
        ("set_experiment", "model-build"),
        ("start_run", "model-build-evaluate-abc123"),
        ("log_metrics", {"accuracy": 0.9, "auc": 0.95}),
        ("log_params", {"sample_count": 40, "decision_threshold": 0.5}),
        ("end_run", "model-build-evaluate-abc123"),
    ]
    assert capsys.readouterr().out == (
        f"MLflow: logged 2 metrics to run 'model-build-evaluate-abc123' on {ARN}\n"
    )


def test_the_data_lineage_is_logged_as_run_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _FakeMlflow()
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    lineage = {"uri": "s3://data/in/a.csv", "version_id": "v2", "etag": "e1", "sha256": "ab", "rows": 3}
    report = evaluation_report({"accuracy": 0.9}, sample_count=40, data=lineage)
    assert report["data"] == lineage

    assert evaluate.track_with_mlflow(report, {"MLFLOW_TRACKING_ARN": ARN}, tmp_path / "none.json") is True

    (params,) = [value for name, value in fake.calls if name == "log_params"]
    assert params == {
        "sample_count": 40,
        "decision_threshold": 0.5,
        "input_data_uri": "s3://data/in/a.csv",
        "input_data_version_id": "v2",
        "input_data_etag": "e1",
        "input_data_sha256": "ab",
    }


def test_the_run_is_named_evaluate_outside_a_processing_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _FakeMlflow()
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    (tmp_path / "broken.json").write_text("{not json")
    for config in (tmp_path / "missing.json", tmp_path / "broken.json"):
        fake.calls.clear()
        assert evaluate.track_with_mlflow(REPORT, {"MLFLOW_TRACKING_ARN": ARN}, config) is True
        assert ("start_run", "evaluate") in fake.calls
        assert "set_experiment" not in [name for name, _ in fake.calls]  # no experiment name: the default


def test_nothing_happens_without_a_tracking_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _FakeMlflow()
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    assert evaluate.track_with_mlflow(REPORT, {}, tmp_path / "none.json") is False
    assert evaluate.track_with_mlflow(REPORT, {"MLFLOW_TRACKING_ARN": " "}, tmp_path / "none.json") is False
    assert fake.calls == []
    assert capsys.readouterr().out == ""


def test_without_mlflow_tracking_is_skipped_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # makes `import mlflow` raise ImportError
    assert evaluate.track_with_mlflow(REPORT, {"MLFLOW_TRACKING_ARN": ARN}, tmp_path / "none.json") is False
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("MLflow tracking skipped: mlflow is not importable here (")


def test_a_failing_tracking_server_does_not_fail_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", _FakeMlflow(fail_on="log_metrics"))
    assert evaluate.track_with_mlflow(REPORT, {"MLFLOW_TRACKING_ARN": ARN}, tmp_path / "none.json") is False
    (line,) = capsys.readouterr().out.splitlines()
    assert line == (
        f"MLflow tracking skipped: logging to {ARN} failed (ConnectionError: tracking server unreachable)"
    )


def test_a_whole_run_with_tracking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The step's environment as the pipeline sets it: the report is written, then logged."""
    _prepare_run(tmp_path, monkeypatch)
    fake = _FakeMlflow()
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    monkeypatch.setenv("MLFLOW_TRACKING_ARN", ARN)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "model-build")

    assert evaluate.main(["--root", str(tmp_path)]) == 0

    report = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    logged = dict(fake.calls)["log_metrics"]
    assert logged == {name: entry["value"] for name, entry in report["metrics"].items()}
    assert ("set_experiment", "model-build") in fake.calls
    report_line, tracking_line = capsys.readouterr().out.splitlines()
    assert json.loads(report_line) == report
    assert tracking_line.startswith("MLflow: logged 5 metrics")


def test_a_whole_run_without_mlflow_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _prepare_run(tmp_path, monkeypatch)
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setenv("MLFLOW_TRACKING_ARN", ARN)

    assert evaluate.main(["--root", str(tmp_path)]) == 0

    assert (tmp_path / "evaluation" / "evaluation.json").is_file()
    report_line, skipped_line = capsys.readouterr().out.splitlines()
    assert json.loads(report_line)["sample_count"] == 4
    assert skipped_line.startswith("MLflow tracking skipped: mlflow is not importable here")


def test_the_script_reads_the_variables_the_pipeline_sets() -> None:
    assert evaluate.TRACKING_ARN_VARIABLE == model_build.MLFLOW_TRACKING_ARN_VARIABLE
    assert evaluate.EXPERIMENT_VARIABLE == model_build.MLFLOW_EXPERIMENT_VARIABLE
