"""`python -m pipeline_defs render`: the definition, or the graph for review."""

from __future__ import annotations

import io
import json

import pytest

from pipeline_defs.__main__ import main
from pipeline_defs.context import PLACEHOLDER_BUCKET, PLACEHOLDER_MODEL_PACKAGE_GROUP, PLACEHOLDER_ROLE_ARN


def _run(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_graph_prints_steps_and_edges() -> None:
    code, stdout, _ = _run("render", "model_build", "--region", "eu-west-1", "--graph")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0] == "Preprocess: Processing"
    assert lines[1] == "DataQualityBaseline: QualityCheck"
    for edge in (
        "Preprocess -> DataQualityBaseline",
        "DataQualityBaseline -> Model-RegisterModel",
        "Preprocess -> Train",
        "Train -> Evaluate",
        "Evaluate -> CheckAccuracy",
        "CheckAccuracy -> Model-RegisterModel (if)",
        "CheckAccuracy -> AccuracyTooLow (else)",
        "Scoring-CreateModel -> ScoreTest",
    ):
        assert edge in lines
    print(stdout)


def test_definition_with_placeholders_by_default() -> None:
    code, stdout, _ = _run("render", "model_build", "--region", "eu-west-1")
    assert code == 0
    document = json.loads(stdout)
    assert document["Parameters"][0]["DefaultValue"] == PLACEHOLDER_BUCKET
    for placeholder in (PLACEHOLDER_BUCKET, PLACEHOLDER_ROLE_ARN, PLACEHOLDER_MODEL_PACKAGE_GROUP):
        assert placeholder in stdout
    assert "s3://__CODE_BUCKET__/preprocess.py" in stdout


def test_options() -> None:
    code, stdout, _ = _run(
        "render",
        "batch_inference",
        "--region",
        "us-east-1",
        "--bucket",
        "prod-artifacts",
        "--pipeline-name",
        "nightly-scoring",
    )
    assert code == 0
    assert '"prod-artifacts"' in stdout
    assert '"nightly-scoring-predict"' in stdout


def test_an_mlflow_tracking_server() -> None:
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/experiments"
    code, stdout, _ = _run(
        "render", "model_build", "--region", "eu-west-1", "--mlflow-tracking-server-arn", arn
    )
    assert code == 0
    assert stdout.count(f'"MLFLOW_TRACKING_ARN": "{arn}"') == 3  # preprocess, train, evaluate
    code, stdout, _ = _run("render", "model_build", "--region", "eu-west-1")
    assert (code, "MLFLOW" in stdout) == (0, False)  # none by default
    code, stdout, stderr = _run(
        "render", "model_build", "--region", "eu-west-1", "--mlflow-tracking-server-arn", "experiments"
    )
    assert (code, stdout) == (2, "")
    assert "not a SageMaker MLflow tracking server ARN" in stderr


def test_invalid_values_exit_2_with_the_reason() -> None:
    code, stdout, stderr = _run("render", "model_build", "--region", "eu-west-1", "--role-arn", "MyRole")
    assert (code, stdout) == (2, "")
    assert "not a full IAM role ARN" in stderr


def test_unknown_names_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["render", "model-build", "--region", "eu-west-1"])
    assert exited.value.code == 2
    assert "invalid choice: 'model-build'" in capsys.readouterr().err
