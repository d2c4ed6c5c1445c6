"""The local runner executes the rendered definition body (as the pipeline stack deploys it), step by step.

Each full run of the model build DAG takes a few seconds (two step scripts in subprocesses, an XGBoost
training), so the runs are module fixtures and each test asserts on their reports and files.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import xgboost

from pipeline_defs.__main__ import main
from pipeline_defs.context import PLACEHOLDER_SECURITY_GROUP_ID
from pipeline_defs.runner import (
    RunError,
    RunReport,
    parse_parameter_assignments,
    predict_xgboost,
    render_for_run,
    request_shape_problems,
    run_definition,
)
from tests.pipeline_defs.datasets import (
    CHURN_FEATURE_COUNT,
    LOANS_FEATURE_COUNT,
    write_churn,
    write_loans,
)

MODEL_BUILD_STEPS = (
    "Preprocess",
    "DataQualityBaseline",
    "Train",
    "Evaluate",
    "CheckAccuracy",
    "Model-RegisterModel",
    "Scoring-CreateModel",
    "ScoreTest",
    "AccuracyTooLow",
)


@pytest.fixture(scope="module")
def body() -> str:
    return render_for_run("model_build")


@pytest.fixture(scope="module")
def churn_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_churn(tmp_path_factory.mktemp("data") / "churn.csv")


@pytest.fixture(scope="module")
def churn_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("churn-run")


@pytest.fixture(scope="module")
def churn_run(body: str, churn_csv: Path, churn_work_dir: Path) -> RunReport:
    return run_definition(body, input_path=churn_csv, work_dir=churn_work_dir, pipeline="model-build")


def _churn_again(body: str, churn_csv: Path, churn_work_dir: Path, parameters: dict[str, str]) -> RunReport:
    """Another run in the churn run's work directory (its cache and stand-in S3)."""
    return run_definition(
        body, input_path=churn_csv, work_dir=churn_work_dir, parameters=parameters, pipeline="model-build"
    )


@pytest.fixture(scope="module")
def churn_rerun_high_threshold(
    churn_run: RunReport, body: str, churn_csv: Path, churn_work_dir: Path
) -> RunReport:
    """The same work directory again, with a threshold no model reaches: the other branch, from the cache."""
    return _churn_again(body, churn_csv, churn_work_dir, {"AccuracyThreshold": "1.01"})


@pytest.fixture(scope="module")
def churn_new_version_run(
    churn_rerun_high_threshold: RunReport, body: str, churn_csv: Path, churn_work_dir: Path
) -> RunReport:
    """The same key again, as the data trigger starts it for a new upload: a new version id and ETag."""
    version = {"InputDataVersionId": "3HL4kqtJlcpXroDTDmJ.rmSpXd3", "InputDataETag": "9b2cf535f27731c9"}
    return _churn_again(body, churn_csv, churn_work_dir, version)


@pytest.fixture(scope="module")
def loans_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_loans(tmp_path_factory.mktemp("data") / "loans.csv")


@pytest.fixture(scope="module")
def loans_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("loans-run")


@pytest.fixture(scope="module")
def loans_run(body: str, loans_csv: Path, loans_work_dir: Path) -> RunReport:
    """Another shape: its own label name, an id column, a categorical column, missing values."""
    return run_definition(
        body,
        input_path=loans_csv,
        work_dir=loans_work_dir,
        parameters={"TargetColumn": "defaulted", "DropColumns": "customer_id"},
        pipeline="model-build",
    )


def _without_preprocess_arguments(body: str) -> str:
    """The body as it deployed before the fix: the Preprocess job got no container arguments."""
    document: dict[str, Any] = json.loads(body)
    (preprocess,) = [step for step in document["Steps"] if step["Name"] == "Preprocess"]
    del preprocess["Arguments"]["AppSpecification"]["ContainerArguments"]
    document["Parameters"] = [
        parameter
        for parameter in document["Parameters"]
        if parameter["Name"] not in ("TargetColumn", "DropColumns")
    ]
    return json.dumps(document)


def _feature_columns(report: RunReport, work_dir: Path) -> list[str]:
    schema_uri = report.step("Preprocess").outputs["schema"]
    schema = json.loads((_s3(work_dir, schema_uri) / "schema.json").read_text())
    columns: list[str] = schema["columns"]
    train_uri = report.step("Preprocess").outputs["train"]
    first_row = (_s3(work_dir, train_uri) / "train.csv").read_text().splitlines()[0]
    assert len(first_row.split(",")) == 1 + len(columns)  # the label, then the features
    return columns


def _s3(work_dir: Path, uri: str) -> Path:
    assert uri.startswith("s3://"), uri
    return work_dir / "s3" / uri[len("s3://") :]


def test_every_step_runs_in_dependency_order_and_the_if_branch_is_taken(churn_run: RunReport) -> None:
    print("\n".join(churn_run.summary()))
    assert churn_run.status == "Succeeded", churn_run.failure
    assert [step.name for step in churn_run.steps] == list(MODEL_BUILD_STEPS)
    statuses = {step.name: step.status for step in churn_run.steps}
    assert statuses == dict.fromkeys(MODEL_BUILD_STEPS, "Succeeded") | {"AccuracyTooLow": "NotRun"}
    assert churn_run.step("CheckAccuracy").outputs["outcome"] is True


def test_the_sample_is_encoded_without_its_identifier(churn_run: RunReport, churn_work_dir: Path) -> None:
    columns = _feature_columns(churn_run, churn_work_dir)
    assert len(columns) == CHURN_FEATURE_COUNT
    assert not any(column.startswith("phone") for column in columns)
    assert churn_run.step("DataQualityBaseline").outputs["columns"] == CHURN_FEATURE_COUNT


def test_a_differently_shaped_dataset_runs_end_to_end_with_its_parameters(
    loans_run: RunReport, loans_work_dir: Path
) -> None:
    print("\n".join(loans_run.summary()))
    assert loans_run.status == "Succeeded", loans_run.failure
    assert loans_run.parameters["TargetColumn"] == "defaulted"
    columns = _feature_columns(loans_run, loans_work_dir)
    assert columns == [
        "segment=business",
        "segment=private",
        "segment=retail",
        "income",
        "tenure_months",
    ]
    assert len(columns) == LOANS_FEATURE_COUNT
    # Missing incomes stay empty in the channels (XGBoost's missing value), not zero.
    train_uri = loans_run.step("Preprocess").outputs["train"]
    rows = (_s3(loans_work_dir, train_uri) / "train.csv").read_text().splitlines()
    assert any(row.split(",")[4] == "" for row in rows)
    accuracy = loans_run.step("Evaluate").outputs["property_files"]["EvaluationReport"]["metrics"]["accuracy"]
    assert accuracy["value"] >= 0.9
    assert loans_run.step("CheckAccuracy").outputs["outcome"] is True
    request = loans_run.step("Model-RegisterModel").request
    assert request is not None
    (container,) = request["CreateModelPackage"]["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == loans_run.step("Train").outputs["model_artifacts"]
    assert _s3(loans_work_dir, container["ModelDataUrl"]).is_file()


def test_without_the_preprocess_arguments_another_label_name_fails_clearly(
    body: str, loans_csv: Path, tmp_path: Path
) -> None:
    report = run_definition(
        _without_preprocess_arguments(body), input_path=loans_csv, work_dir=tmp_path, pipeline="model-build"
    )
    assert report.status == "Failed"
    assert report.step("Preprocess").status == "Failed"
    assert "target column 'churn' is not in the header" in report.failure
    assert {step.status for step in report.steps[1:]} == {"NotRun"}


def test_without_the_preprocess_arguments_an_identifier_column_fails_clearly(
    body: str, churn_csv: Path, tmp_path: Path
) -> None:
    """The sample has the default label, so only the identifier shows what the missing arguments cost."""
    report = run_definition(
        _without_preprocess_arguments(body), input_path=churn_csv, work_dir=tmp_path, pipeline="model-build"
    )
    assert report.status == "Failed"
    assert "column 'phone' has a different value in each of the 400 rows" in report.failure
    assert "--drop-columns" in report.failure


def test_the_model_artifact_has_the_algorithm_layout_and_loads(
    churn_run: RunReport, churn_work_dir: Path
) -> None:
    uri = churn_run.step("Train").outputs["model_artifacts"]
    assert uri.startswith("s3://__ARTIFACT_BUCKET__/models/model-build/") and uri.endswith(
        "/output/model.tar.gz"
    )
    archive = _s3(churn_work_dir, uri)
    with tarfile.open(archive, "r:gz") as bundle:
        assert bundle.getnames() == ["xgboost-model"]
        bundle.extractall(churn_work_dir / "extracted", filter="data")
    # Loaded under a .json name: xgboost warns when it has to guess a format from the contents.
    model_file = (churn_work_dir / "extracted" / "xgboost-model").rename(churn_work_dir / "model.json")
    booster = xgboost.Booster()
    booster.load_model(str(model_file))
    assert booster.num_boosted_rounds() > 0
    assert "validation:auc" in churn_run.step("Train").outputs["final_metrics"]


def test_the_evaluation_report_is_the_property_file_the_condition_read(churn_run: RunReport) -> None:
    report = churn_run.step("Evaluate").outputs["property_files"]["EvaluationReport"]
    accuracy = report["metrics"]["accuracy"]["value"]
    assert 0.9 <= accuracy <= 1.0
    (condition,) = churn_run.step("CheckAccuracy").outputs["conditions"]
    assert condition == {"Type": "GreaterThanOrEqualTo", "LeftValue": accuracy, "RightValue": 0.9}


def test_registration_is_recorded_with_the_trained_model_and_the_reports(churn_run: RunReport) -> None:
    request = churn_run.step("Model-RegisterModel").request
    assert request is not None
    package = request["CreateModelPackage"]
    (container,) = package["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == churn_run.step("Train").outputs["model_artifacts"]
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["ModelPackageGroupName"] == "__MODEL_PACKAGE_GROUP__"
    evaluation_uri = churn_run.step("Evaluate").outputs["evaluation"]
    assert (
        package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == f"{evaluation_uri}/evaluation.json"
    )
    statistics = package["ModelMetrics"]["ModelDataQuality"]["Statistics"]["S3Uri"]
    assert statistics == churn_run.step("DataQualityBaseline").outputs["statistics"]
    create_model = churn_run.step("Scoring-CreateModel").request
    assert create_model is not None
    # Rendered as the stack renders it: the VPC placeholders are in the request the step would send.
    assert create_model["CreateModel"]["VpcConfig"]["SecurityGroupIds"] == [PLACEHOLDER_SECURITY_GROUP_ID]
    transform = churn_run.step("ScoreTest").request
    assert transform is not None
    assert (
        transform["CreateTransformJob"]["ModelName"]
        == churn_run.step("Scoring-CreateModel").outputs["model_name"]
    )


def test_the_test_channel_is_scored_with_the_created_model_as_the_transform_job_would(
    churn_run: RunReport, churn_work_dir: Path
) -> None:
    """Input filter `$[1:]` (features only), joined with the input, output filter `$[0,-1]`: label, score."""
    score = churn_run.step("ScoreTest")
    assert score.outputs["ran"] is True
    test_rows = (_s3(churn_work_dir, churn_run.step("Preprocess").outputs["test"]) / "test.csv").read_text()
    scored = (_s3(churn_work_dir, score.outputs["output_path"]) / "test.csv.out").read_text().splitlines()
    labels = [row.split(",")[0] for row in test_rows.splitlines()]
    assert [line.split(",")[0] for line in scored] == labels
    probabilities = [float(line.split(",")[1]) for line in scored]
    assert all(0.0 <= probability <= 1.0 for probability in probabilities)
    predicted = ["1" if probability >= 0.5 else "0" for probability in probabilities]
    correct = sum(guess == label for guess, label in zip(predicted, labels, strict=True))
    accuracy = churn_run.step("Evaluate").outputs["property_files"]["EvaluationReport"]["metrics"]["accuracy"]
    assert correct / len(labels) == pytest.approx(accuracy["value"], abs=1e-6)


def test_the_report_is_written_as_json(churn_run: RunReport, churn_work_dir: Path) -> None:
    written = json.loads((churn_work_dir / "run-report.json").read_text())
    assert written["status"] == "Succeeded"
    assert [step["name"] for step in written["steps"]] == list(MODEL_BUILD_STEPS)


def test_a_rerun_hits_the_cache_and_a_threshold_above_the_accuracy_fails_with_the_message(
    churn_run: RunReport, churn_rerun_high_threshold: RunReport
) -> None:
    rerun = churn_rerun_high_threshold
    assert not any(step.would_hit_cache for step in churn_run.steps), "a fresh work directory has no cache"
    hits = {step.name for step in rerun.steps if step.would_hit_cache}
    # The steps upstream of the condition have the same arguments; the condition and Fail are not cached.
    assert hits == {"Preprocess", "DataQualityBaseline", "Train", "Evaluate"}
    assert rerun.status == "Failed"
    assert rerun.step("AccuracyTooLow").status == "Failed"
    assert rerun.step("Model-RegisterModel").status == "NotRun"
    accuracy = churn_run.step("Evaluate").outputs["property_files"]["EvaluationReport"]["metrics"]["accuracy"]
    assert rerun.failure == (
        f"step AccuracyTooLow (Fail): Accuracy {accuracy['value']} is below the threshold 1.01 "
        "(AccuracyThreshold): the model was not registered."
    )


def test_unknown_and_mistyped_parameters_are_refused(body: str, churn_csv: Path, tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"unknown parameter\(s\) \['AccuracyTreshold'\]"):
        run_definition(body, input_path=churn_csv, work_dir=tmp_path, parameters={"AccuracyTreshold": "0.5"})
    with pytest.raises(RunError, match="AccuracyThreshold='high' is not a Float"):
        run_definition(
            body, input_path=churn_csv, work_dir=tmp_path, parameters={"AccuracyThreshold": "high"}
        )
    with pytest.raises(RunError, match="not one of"):
        run_definition(
            body, input_path=churn_csv, work_dir=tmp_path, parameters={"ModelApprovalStatus": "Maybe"}
        )
    with pytest.raises(RunError, match="is not NAME=VALUE"):
        parse_parameter_assignments(["AccuracyThreshold"])


def test_an_unsupported_step_type_is_an_error_naming_it(body: str, churn_csv: Path, tmp_path: Path) -> None:
    document: dict[str, Any] = json.loads(body)
    document["Steps"].append({"Name": "Cluster", "Type": "EMR", "Arguments": {}})
    with pytest.raises(RunError, match=r"does not support step\(s\) Cluster \(EMR\)"):
        run_definition(json.dumps(document), input_path=churn_csv, work_dir=tmp_path)


def test_a_training_image_without_a_stand_in_is_an_error(body: str, churn_csv: Path, tmp_path: Path) -> None:
    document: dict[str, Any] = json.loads(body)
    (train,) = [step for step in document["Steps"] if step["Name"] == "Train"]
    train["Arguments"]["AlgorithmSpecification"]["TrainingImage"] = (
        "123.dkr.ecr.eu-west-1.amazonaws.com/own:1"
    )
    with pytest.raises(RunError, match=r"step Train \(Training\): no local stand-in for the training image"):
        run_definition(json.dumps(document), input_path=churn_csv, work_dir=tmp_path)
    assert not (tmp_path / "s3").exists(), "refused before anything ran"


def test_batch_inference_needs_its_model_name_and_records_the_transform(tmp_path: Path) -> None:
    data = tmp_path / "inference.csv"
    data.write_text("1,2,3\n")
    batch_body = render_for_run("batch_inference")
    with pytest.raises(RunError, match="parameter ModelName has no default"):
        run_definition(batch_body, input_path=data, work_dir=tmp_path / "run")
    report = run_definition(
        batch_body, input_path=data, work_dir=tmp_path / "run", parameters={"ModelName": "churn-model-3"}
    )
    assert report.status == "Succeeded"
    request = report.step("Predict").request
    assert request is not None
    assert request["CreateTransformJob"]["ModelName"] == "churn-model-3"
    assert report.step("Predict").outputs["ran"] is False
    assert "model 'churn-model-3' is not one this run created or was given" in report.step("Predict").message
    assert request["CreateTransformJob"]["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://__DATA_BUCKET__/datasets/churn/inference.csv"
    )


@pytest.mark.parametrize("dataset", ["churn", "loans"])
def test_batch_inference_scores_with_the_model_the_build_trained(
    dataset: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Both DAGs end to end: the build's model, given as the deployed model, scores the build's baseline
    channel (features only, in the schema's order: what batch inference is documented to take)."""
    build: RunReport = request.getfixturevalue(f"{dataset}_run")
    build_dir: Path = request.getfixturevalue(f"{dataset}_work_dir")
    archive = _s3(build_dir, build.step("Train").outputs["model_artifacts"])
    features = _s3(build_dir, build.step("Preprocess").outputs["baseline"]) / "baseline.csv"
    report = run_definition(
        render_for_run("batch_inference"),
        input_path=features,
        work_dir=tmp_path,
        parameters={"ModelName": f"{dataset}-model-1", "InputDataVersionId": "v7", "InputDataETag": "e7"},
        existing_models={f"{dataset}-model-1": archive},
        pipeline="batch-inference",
    )
    assert report.status == "Succeeded", report.failure
    predict = report.step("Predict")
    assert predict.outputs["ran"] is True
    rows = [line.split(",") for line in features.read_text().splitlines()]
    scored = (_s3(tmp_path, predict.outputs["output_path"]) / "inference.csv.out").read_text().splitlines()
    assert predict.outputs["records"] == len(rows) == len(scored)
    # Each line: the input record, then the probability the model gives it (joined with the input).
    assert [line.split(",")[:-1] for line in scored] == rows
    with tarfile.open(archive, "r:gz") as bundle:
        bundle.extractall(tmp_path / "model", filter="data")
    model_file = (tmp_path / "model" / "xgboost-model").rename(tmp_path / "model.json")
    assert [line.split(",")[-1] for line in scored] == predict_xgboost(model_file, rows)
    request_sent = predict.request
    assert request_sent is not None
    assert request_sent["CreateTransformJob"]["Environment"] == {
        "INPUT_DATA_URI": "s3://__DATA_BUCKET__/datasets/churn/inference.csv",
        "INPUT_DATA_VERSION_ID": "v7",
        "INPUT_DATA_ETAG": "e7",
    }


def test_the_lineage_record_and_the_registered_metadata(
    churn_run: RunReport, churn_work_dir: Path, churn_csv: Path
) -> None:
    """A run started by hand: the defaults say no version was given; the SHA-256 is of what was read."""
    schema_dir = _s3(churn_work_dir, churn_run.step("Preprocess").outputs["schema"])
    lineage = json.loads((schema_dir / "lineage.json").read_text())
    assert lineage == {
        "uri": "s3://__DATA_BUCKET__/datasets/churn/latest.csv",
        "version_id": "unrecorded",
        "etag": "unrecorded",
        "sha256": hashlib.sha256(churn_csv.read_bytes()).hexdigest(),
        "rows": 400,
    }
    report = churn_run.step("Evaluate").outputs["property_files"]["EvaluationReport"]
    assert report["data"] == lineage
    request = churn_run.step("Model-RegisterModel").request
    assert request is not None
    assert request["CreateModelPackage"]["CustomerMetadataProperties"] == {
        "InputDataUri": "s3://__DATA_BUCKET__/datasets/churn/latest.csv",
        "InputDataVersionId": "unrecorded",
        "InputDataETag": "unrecorded",
        "PipelineExecutionArn": (
            f"arn:aws:sagemaker:eu-west-1:000000000000:pipeline/model-build/execution/{churn_run.execution_id}"
        ),
    }


def test_a_new_version_of_the_same_key_reruns_every_step_and_registers_its_version(
    churn_run: RunReport, churn_rerun_high_threshold: RunReport, churn_new_version_run: RunReport
) -> None:
    """Caching on (P30D) and the same key: a new version misses Preprocess, and each step downstream
    misses with it, since its inputs are the new execution's outputs (SageMaker's key attributes)."""
    assert churn_new_version_run.status == "Succeeded", churn_new_version_run.failure
    assert not any(step.would_hit_cache for step in churn_new_version_run.steps)
    assert (
        len(
            {
                churn_run.execution_id,
                churn_rerun_high_threshold.execution_id,
                churn_new_version_run.execution_id,
            }
        )
        == 3
    )
    request = churn_new_version_run.step("Model-RegisterModel").request
    assert request is not None
    metadata = request["CreateModelPackage"]["CustomerMetadataProperties"]
    assert (metadata["InputDataVersionId"], metadata["InputDataETag"]) == (
        "3HL4kqtJlcpXroDTDmJ.rmSpXd3",
        "9b2cf535f27731c9",
    )


def test_a_key_sagemaker_cannot_record_fails_in_preprocess_before_training(
    body: str, churn_csv: Path, tmp_path: Path
) -> None:
    report = run_definition(
        body,
        input_path=churn_csv,
        work_dir=tmp_path,
        parameters={"InputDataKey": "incoming/churn (copy).csv"},
        pipeline="model-build",
    )
    assert report.status == "Failed"
    assert report.step("Preprocess").status == "Failed"
    assert (
        "the input's uri 's3://__DATA_BUCKET__/incoming/churn (copy).csv' cannot be recorded"
        in report.failure
    )
    assert "the character(s) ( )" in report.failure
    assert report.step("Train").status == "NotRun"


def test_recorded_requests_are_checked_against_the_api_shape() -> None:
    """The checks the runner applies before recording a request: lengths, sizes and patterns."""
    good = {
        "ModelPackageGroupName": "churn-model",
        "CustomerMetadataProperties": {"InputDataVersionId": "v1", "InputDataUri": "s3://data/in/a b.csv"},
    }
    assert request_shape_problems("CreateModelPackage", good) == []
    problems = request_shape_problems(
        "CreateModelPackage",
        {
            "ModelPackageGroupName": "churn model",
            "CustomerMetadataProperties": {"InputDataVersionId": "", "InputDataUri": "s3://data/(1).csv"},
        },
    )
    assert [problem.split(" does not match the pattern ")[0] for problem in problems] == [
        "CreateModelPackage.ModelPackageGroupName 'churn model'",
        "CreateModelPackage.CustomerMetadataProperties['InputDataVersionId'] has length 0, "
        "under the minimum 1",
        "CreateModelPackage.CustomerMetadataProperties['InputDataUri'] 's3://data/(1).csv'",
    ]


def _cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, stderr = _cli(
        "run", "model_build", "--input", str(tmp_path / "missing.csv"), "--work-dir", str(tmp_path)
    )
    assert code == 2
    assert "does not exist" in stderr
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    code, _, stderr = _cli(
        "run", "model_build", "--input", str(data), "--work-dir", str(tmp_path), "--param", "Nope=1"
    )
    assert code == 2
    assert "unknown parameter(s) ['Nope']" in stderr


def test_cli_models_must_be_name_equals_archive(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("1,2\n")
    code, _, stderr = _cli("run", "batch_inference", "--input", str(data), "--model", "churn-model")
    assert code == 2
    assert "--model 'churn-model' is not NAME=VALUE" in stderr
    code, _, stderr = _cli(
        "run", "batch_inference", "--input", str(data), "--work-dir", str(tmp_path / "run"),
        "--param", "ModelName=m", "--model", f"m={tmp_path / 'missing.tar.gz'}",
    )  # fmt: skip
    assert code == 2
    assert "existing model m:" in stderr and "is not a file" in stderr


def test_cli_a_failed_step_exits_1_with_its_error(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    code, stdout, _ = _cli("run", "model_build", "--input", str(data), "--work-dir", str(tmp_path / "run"))
    assert code == 1
    assert "Preprocess [Processing]: Failed" in stdout
    assert "target column 'churn' is not in the header" in stdout


def test_cli_json_report_and_an_explicit_definition_file(body: str, tmp_path: Path) -> None:
    """`--definition` runs a body as given (here the pre-fix one); `--json` prints the report written."""
    definition_file = tmp_path / "definition.json"
    definition_file.write_text(_without_preprocess_arguments(body))
    data = tmp_path / "data.csv"
    data.write_text("label,x\n1,2\n")
    work_dir = tmp_path / "run"
    code, stdout, _ = _cli(
        "run", "model_build", "--input", str(data), "--work-dir", str(work_dir),
        "--definition", str(definition_file), "--json",
    )  # fmt: skip
    assert code == 1
    printed = json.loads(stdout)
    assert printed == json.loads((work_dir / "run-report.json").read_text())
    assert "TargetColumn" not in printed["parameters"]
    assert printed["steps"][0]["status"] == "Failed"


def test_the_cache_key_is_the_resolved_arguments(body: str, churn_csv: Path, tmp_path: Path) -> None:
    """Preprocess alone (a body cut down to it): the same arguments hit, another parameter value misses,
    and the data's contents are not part of the key (as in SageMaker)."""
    document: dict[str, Any] = json.loads(body)
    document["Steps"] = [step for step in document["Steps"] if step["Name"] == "Preprocess"]
    only_preprocess = json.dumps(document)

    def hit(parameters: dict[str, str], data: Path = churn_csv) -> bool:
        report = run_definition(only_preprocess, input_path=data, work_dir=tmp_path, parameters=parameters)
        assert report.status == "Succeeded", report.failure
        return report.step("Preprocess").would_hit_cache

    assert not hit({})
    assert hit({})
    assert hit({"DropColumns": "phone"}), "the default, given explicitly: the same resolved arguments"
    assert not hit({"DropColumns": "phone,state"})
    # ProcessingResources is not among SageMaker's key attributes for a processing step.
    assert hit({"ProcessingInstanceType": "ml.m5.2xlarge"})
    # Other data at the same key, with nothing saying so: served from the cache, as SageMaker would.
    assert hit({}, write_churn(tmp_path / "other.csv", rows=200, seed=3))
    # What the data trigger passes for a new upload: a new version id misses; the same one again hits.
    assert not hit({"InputDataVersionId": "v2"})
    assert hit({"InputDataVersionId": "v2"})
    assert not hit({"InputDataVersionId": "v2", "InputDataETag": "other"})


def test_dependency_order_conditions_and_fail_on_a_hand_written_body(churn_csv: Path, tmp_path: Path) -> None:
    """Steps listed out of order run after what they depend on; a condition picks its branch; Fail stops."""
    document = {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "InputDataBucket", "Type": "String", "DefaultValue": "data"},
            {"Name": "InputDataKey", "Type": "String", "DefaultValue": "in.csv"},
            {"Name": "Mode", "Type": "String", "DefaultValue": "register"},
        ],
        "Steps": [
            {
                "Name": "Decide",
                "Type": "Condition",
                "DependsOn": ["Prepare"],
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "Or",
                            "Conditions": [
                                {
                                    "Type": "Equals",
                                    "LeftValue": {"Get": "Parameters.Mode"},
                                    "RightValue": "x",
                                },
                                {
                                    "Type": "In",
                                    "QueryValue": {"Get": "Parameters.Mode"},
                                    "Values": ["register", "both"],
                                },
                            ],
                        }
                    ],
                    "IfSteps": [{"Name": "Keep", "Type": "Model", "Arguments": {"PrimaryContainer": {}}}],
                    "ElseSteps": [
                        {
                            "Name": "Stop",
                            "Type": "Fail",
                            "Arguments": {
                                "ErrorMessage": {
                                    "Std:Join": {"On": " ", "Values": ["mode", {"Get": "Parameters.Mode"}]}
                                }
                            },
                        }
                    ],
                },
            },
            {"Name": "Prepare", "Type": "Model", "Arguments": {"PrimaryContainer": {}}},
        ],
    }
    body = json.dumps(document)
    report = run_definition(body, input_path=churn_csv, work_dir=tmp_path / "a")
    assert report.status == "Succeeded"
    assert [step.name for step in report.steps] == ["Prepare", "Decide", "Keep", "Stop"]
    assert {step.name: step.status for step in report.steps} == {
        "Prepare": "Succeeded",
        "Decide": "Succeeded",
        "Keep": "Succeeded",
        "Stop": "NotRun",
    }
    failed = run_definition(body, input_path=churn_csv, work_dir=tmp_path / "b", parameters={"Mode": "none"})
    assert failed.status == "Failed"
    assert failed.failure == "step Stop (Fail): mode none"
    assert failed.step("Keep").status == "NotRun"
