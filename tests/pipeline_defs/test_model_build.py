"""The model build DAG: its steps, edges, branches, parameters, locations, caching, KMS and VPC settings,
the data-quality baseline registered with the model, training metrics and experiment tracking."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline_defs import RenderContext, render
from pipeline_defs.model_build import (
    ACCURACY_PATH,
    BASELINE_INSTANCE_TYPE,
    DATA_QUALITY_STEP,
    EVALUATION_REPORT,
    HYPERPARAMETERS,
    TRAINING_METRICS,
)
from pipeline_defs.steps import preprocess as preprocess_script
from tests.pipeline_defs.conftest import Rendered
from tests.pipeline_defs.support import (
    BUCKET,
    CACHE,
    DATA_BUCKET,
    GROUP,
    KMS_KEY,
    MLFLOW_ARN,
    REGION,
    ROLE_ARN,
    SECURITY_GROUPS,
    SUBNETS,
    all_steps,
    code_uris,
    gets,
    join_values,
    load,
    parameters,
    static_prefix,
)

PIPELINE = "model-build"  # the default pipeline name
STEPS = {
    "Preprocess": "Processing",
    "DataQualityBaseline": "QualityCheck",
    "Train": "Training",
    "Evaluate": "Processing",
    "CheckAccuracy": "Condition",
    "Model-RegisterModel": "RegisterModel",
    "Scoring-CreateModel": "Model",
    "ScoreTest": "Transform",
    "AccuracyTooLow": "Fail",
}
# What reads what, plus the condition's branches: nothing else.
DATA_EDGES = {
    ("Preprocess", "Train"),  # train and validation channels
    ("Preprocess", "DataQualityBaseline"),  # baseline channel
    ("Preprocess", "Evaluate"),  # test channel
    ("Train", "Evaluate"),  # model artifacts
    ("Evaluate", "CheckAccuracy"),  # accuracy from the report
    ("Train", "Model-RegisterModel"),  # model artifacts
    ("Evaluate", "Model-RegisterModel"),  # the report as model quality statistics
    ("DataQualityBaseline", "Model-RegisterModel"),  # data quality metrics and drift check baselines
    ("Train", "Scoring-CreateModel"),  # model artifacts
    ("Scoring-CreateModel", "ScoreTest"),  # model name
    ("Preprocess", "ScoreTest"),  # test channel
    ("Evaluate", "AccuracyTooLow"),  # accuracy in the message
}
IF_STEPS = ("Model-RegisterModel", "Scoring-CreateModel", "ScoreTest")
ELSE_STEPS = ("AccuracyTooLow",)
CACHEABLE = ("Preprocess", "DataQualityBaseline", "Train", "Evaluate", "ScoreTest")
PROCESSING_JOBS = ("Preprocess", "DataQualityBaseline", "Evaluate")
# Where the baseline goes: under models/, which the serving accounts may read, one prefix per execution.
BASELINE_OUTPUT = [
    "s3:/",
    BUCKET,
    "models",
    PIPELINE,
    {"Get": "Execution.PipelineExecutionId"},
    "data-quality",
]


@pytest.fixture(scope="module")
def document(full: dict[str, Rendered]) -> dict[str, Any]:
    return load(full["model_build"].definition)


@pytest.fixture(scope="module")
def steps(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return all_steps(document)


def test_steps_and_types(full: dict[str, Rendered]) -> None:
    graph = full["model_build"].graph
    assert dict(graph.steps) == STEPS
    assert [step["Name"] for step in load(full["model_build"].definition)["Steps"]] == [
        "Preprocess",
        "DataQualityBaseline",
        "Train",
        "Evaluate",
        "CheckAccuracy",
    ]


def test_edges_are_exactly_the_data_dependencies_and_the_branches(full: dict[str, Rendered]) -> None:
    graph = full["model_build"].graph
    branch_edges = {("CheckAccuracy", step) for step in IF_STEPS + ELSE_STEPS}
    assert graph.edges == DATA_EDGES | branch_edges
    assert {edge for edge, kinds in graph.edge_kinds.items() if "data" in kinds} == DATA_EDGES
    assert dict(graph.depends_on) == {}  # no DependsOn at all: order comes from the data


def test_condition_branches(full: dict[str, Rendered], steps: dict[str, dict[str, Any]]) -> None:
    graph = full["model_build"].graph
    assert dict(graph.branches) == {"CheckAccuracy": (IF_STEPS, ELSE_STEPS)}
    (condition,) = steps["CheckAccuracy"]["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": f"Steps.Evaluate.PropertyFiles.{EVALUATION_REPORT}"},
            "Path": ACCURACY_PATH,
        }
    }
    assert condition["RightValue"] == {"Get": "Parameters.AccuracyThreshold"}


def test_every_reference_points_at_an_existing_step_or_parameter(document: dict[str, Any]) -> None:
    steps = all_steps(document)
    names = set(parameters(document))
    references = gets(document)
    assert references
    for reference in references:
        kind, _, rest = reference.partition(".")
        if kind == "Steps":
            assert rest.split(".")[0] in steps, reference
        elif kind == "Parameters":
            assert rest in names, reference
        else:
            assert reference in ("Execution.PipelineExecutionId", "Execution.PipelineExecutionArn"), reference


INPUT_BUCKET = {"Get": "Parameters.InputDataBucket"}
INPUT_KEY = {"Get": "Parameters.InputDataKey"}


def test_parameters_and_defaults(document: dict[str, Any]) -> None:
    assert parameters(document) == {
        "InputDataBucket": {"Name": "InputDataBucket", "Type": "String", "DefaultValue": DATA_BUCKET},
        "InputDataKey": {
            "Name": "InputDataKey",
            "Type": "String",
            "DefaultValue": "datasets/churn/latest.csv",
        },
        # Filled by the data trigger; a run by hand records that it was not told.
        "InputDataVersionId": {"Name": "InputDataVersionId", "Type": "String", "DefaultValue": "unrecorded"},
        "InputDataETag": {"Name": "InputDataETag", "Type": "String", "DefaultValue": "unrecorded"},
        "TargetColumn": {"Name": "TargetColumn", "Type": "String", "DefaultValue": "churn"},
        "DropColumns": {"Name": "DropColumns", "Type": "String", "DefaultValue": "phone"},
        "ProcessingInstanceType": {
            "Name": "ProcessingInstanceType",
            "Type": "String",
            "DefaultValue": "ml.m5.xlarge",
        },
        "TrainingInstanceType": {
            "Name": "TrainingInstanceType",
            "Type": "String",
            "DefaultValue": "ml.m5.xlarge",
        },
        "AccuracyThreshold": {"Name": "AccuracyThreshold", "Type": "Float", "DefaultValue": 0.9},
        "ModelApprovalStatus": {
            "Name": "ModelApprovalStatus",
            "Type": "String",
            "DefaultValue": "PendingManualApproval",
            "EnumValues": ["PendingManualApproval", "Approved", "Rejected"],
        },
    }


def test_the_dataset_uri_is_joined_from_bucket_and_key(steps: dict[str, dict[str, Any]]) -> None:
    """So an EventBridge rule can pass the new object's bucket and key as they are."""
    (dataset,) = [
        channel
        for channel in steps["Preprocess"]["Arguments"]["ProcessingInputs"]
        if channel["InputName"] == "dataset"
    ]
    assert join_values(dataset["S3Input"]["S3Uri"]) == [
        "s3:/",
        {"Get": "Parameters.InputDataBucket"},
        {"Get": "Parameters.InputDataKey"},
    ]


def test_preprocess_gets_the_target_and_the_columns_to_drop_as_parameters(
    steps: dict[str, dict[str, Any]],
) -> None:
    """Without them the deployed job used the script's defaults: a fixed target, identifiers one-hot encoded.
    The columns to drop are one argument even when the parameter is empty (`--drop-columns=`). The input's
    URI, version id and ETag follow: its lineage, and (in AppSpecification) part of the step's cache key."""
    assert steps["Preprocess"]["Arguments"]["AppSpecification"]["ContainerArguments"] == [
        "--target-column",
        {"Get": "Parameters.TargetColumn"},
        {"Std:Join": {"On": "", "Values": ["--drop-columns=", {"Get": "Parameters.DropColumns"}]}},
        "--input-uri",
        {"Std:Join": {"On": "/", "Values": ["s3:/", INPUT_BUCKET, INPUT_KEY]}},
        "--input-version-id",
        {"Get": "Parameters.InputDataVersionId"},
        "--input-etag",
        {"Get": "Parameters.InputDataETag"},
    ]


def test_code_is_the_shipped_assets(steps: dict[str, dict[str, Any]]) -> None:
    uris = code_uris("model_build")
    for step, script in (("Preprocess", "preprocess.py"), ("Evaluate", "evaluate.py")):
        arguments = steps[step]["Arguments"]
        (code,) = [channel for channel in arguments["ProcessingInputs"] if channel["InputName"] == "code"]
        assert code["S3Input"]["S3Uri"] == uris[script]
        entry_point = arguments["AppSpecification"]["ContainerEntrypoint"]
        assert entry_point == ["python3", f"/opt/ml/processing/input/code/{uris[script].rsplit('/', 1)[1]}"]


def test_outputs_go_under_the_pipeline_prefix_per_execution(steps: dict[str, dict[str, Any]]) -> None:
    destinations = [
        output["S3Output"]["S3Uri"]
        for step in ("Preprocess", "Evaluate")
        for output in steps[step]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    ] + [steps["ScoreTest"]["Arguments"]["TransformOutput"]["S3OutputPath"]]
    assert len(destinations) == 7  # train, validation, test, baseline, schema; evaluation; scores
    for destination in destinations:
        values = join_values(destination)
        assert values[:4] == ["s3:/", BUCKET, "pipelines", PIPELINE]
        assert values[4] == {"Get": "Execution.PipelineExecutionId"}
        assert all(isinstance(value, str) for value in values[5:])


def test_model_artifacts_and_the_baseline_go_under_models(steps: dict[str, dict[str, Any]]) -> None:
    """The serving accounts may read exactly the models/ prefix: models and their data-quality baselines
    are written there, nothing else."""
    training = steps["Train"]["Arguments"]
    assert training["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/models/{PIPELINE}"
    assert "DebugHookConfig" not in training
    assert training["ProfilerConfig"] == {"DisableProfiler": True}
    (baseline_output,) = steps[DATA_QUALITY_STEP]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert join_values(baseline_output["S3Output"]["S3Uri"]) == BASELINE_OUTPUT
    writers = [static_prefix(value) for value in _output_locations(steps)]
    assert [prefix for prefix in writers if "/models/" in prefix] == [f"s3://{BUCKET}/models/{PIPELINE}"] * 2


def test_training_uses_the_prebuilt_xgboost_image_for_the_region(steps: dict[str, dict[str, Any]]) -> None:
    image = steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
    assert image.endswith(f".dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1")
    assert steps["Evaluate"]["Arguments"]["AppSpecification"]["ImageUri"] == image  # it loads the model
    assert steps["Preprocess"]["Arguments"]["AppSpecification"]["ImageUri"].endswith(
        f".dkr.ecr.{REGION}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    channels = steps["Train"]["Arguments"]["InputDataConfig"]
    assert [(channel["ChannelName"], channel["ContentType"]) for channel in channels] == [
        ("train", "text/csv"),
        ("validation", "text/csv"),
    ]


def test_evaluation_report_is_a_property_file_and_the_model_quality_statistics(
    steps: dict[str, dict[str, Any]],
) -> None:
    assert steps["Evaluate"]["PropertyFiles"] == [
        {"PropertyFileName": EVALUATION_REPORT, "OutputName": "evaluation", "FilePath": "evaluation.json"}
    ]
    statistics = steps["Model-RegisterModel"]["Arguments"]["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    assert join_values(statistics["S3Uri"]) == [
        {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
        "evaluation.json",
    ]


def test_registration(steps: dict[str, dict[str, Any]]) -> None:
    arguments = steps["Model-RegisterModel"]["Arguments"]
    assert arguments["ModelPackageGroupName"] == GROUP
    assert arguments["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    (container,) = arguments["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert arguments["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]


def test_the_model_package_records_the_data_version_and_the_execution(
    steps: dict[str, dict[str, Any]],
) -> None:
    metadata = steps["Model-RegisterModel"]["Arguments"]["CustomerMetadataProperties"]
    assert metadata == {
        "InputDataUri": {"Std:Join": {"On": "/", "Values": ["s3:/", INPUT_BUCKET, INPUT_KEY]}},
        "InputDataVersionId": {"Get": "Parameters.InputDataVersionId"},
        "InputDataETag": {"Get": "Parameters.InputDataETag"},
        "PipelineExecutionArn": {"Get": "Execution.PipelineExecutionArn"},
    }


def test_the_evaluation_reads_the_lineage_record_from_the_schema_channel(
    steps: dict[str, dict[str, Any]],
) -> None:
    (lineage,) = [
        channel
        for channel in steps["Evaluate"]["Arguments"]["ProcessingInputs"]
        if channel["InputName"] == "lineage"
    ]
    assert lineage["S3Input"]["S3Uri"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['schema'].S3Output.S3Uri"
    }
    assert lineage["S3Input"]["LocalPath"] == "/opt/ml/processing/lineage"


def test_scoring_the_test_channel(steps: dict[str, dict[str, Any]]) -> None:
    arguments = steps["ScoreTest"]["Arguments"]
    assert arguments["ModelName"] == {"Get": "Steps.Scoring-CreateModel.ModelName"}
    assert arguments["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"
    }
    # The label column is not sent to the model, and comes back beside the prediction.
    assert arguments["DataProcessing"] == {
        "InputFilter": "$[1:]",
        "OutputFilter": "$[0,-1]",
        "JoinSource": "Input",
    }


def test_the_fail_message_includes_the_accuracy(steps: dict[str, dict[str, Any]]) -> None:
    message = steps["AccuracyTooLow"]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
            "Path": ACCURACY_PATH,
        }
    } in message
    assert {"Get": "Parameters.AccuracyThreshold"} in message


def test_explicit_job_names(steps: dict[str, dict[str, Any]]) -> None:
    names = {
        "Preprocess": ("ProcessingJobName", "model-build-preprocess"),
        "Train": ("TrainingJobName", "model-build-train"),
        "Evaluate": ("ProcessingJobName", "model-build-evaluate"),
        "DataQualityBaseline": ("ProcessingJobName", "model-build-data-quality"),
        "Scoring-CreateModel": ("ModelName", "model-build-model"),
        "ScoreTest": ("TransformJobName", "model-build-score"),
    }
    for step, (field, value) in names.items():
        assert steps[step]["Arguments"][field] == value, step


def test_jobs_use_the_kms_key_and_the_vpc(steps: dict[str, dict[str, Any]]) -> None:
    vpc = {"Subnets": list(SUBNETS), "SecurityGroupIds": list(SECURITY_GROUPS)}
    for step in PROCESSING_JOBS:
        arguments = steps[step]["Arguments"]
        assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KMS_KEY
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == KMS_KEY
        assert arguments["NetworkConfig"]["VpcConfig"] == vpc
        assert arguments["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    training = steps["Train"]["Arguments"]
    assert training["ResourceConfig"]["VolumeKmsKeyId"] == KMS_KEY
    assert training["OutputDataConfig"]["KmsKeyId"] == KMS_KEY
    assert training["VpcConfig"] == vpc
    assert steps["Scoring-CreateModel"]["Arguments"]["VpcConfig"] == vpc
    transform = steps["ScoreTest"]["Arguments"]
    assert transform["TransformOutput"]["KmsKeyId"] == KMS_KEY
    assert transform["TransformResources"]["VolumeKmsKeyId"] == KMS_KEY


def test_without_kms_or_vpc_there_is_none(plain: dict[str, Rendered]) -> None:
    definition = plain["model_build"].definition
    for field in ("KmsKeyId", "VpcConfig", "NetworkConfig", "EnableInterContainerTrafficEncryption"):
        assert field not in definition


def test_caching_when_configured(steps: dict[str, dict[str, Any]]) -> None:
    for name, step in steps.items():
        if name in CACHEABLE:
            assert step["CacheConfig"] == {"Enabled": True, "ExpireAfter": CACHE}, name
        else:
            assert "CacheConfig" not in step, name


def test_no_caching_otherwise(plain: dict[str, Rendered]) -> None:
    assert "CacheConfig" not in plain["model_build"].definition


def test_input_data_comes_from_the_artifact_bucket_unless_a_data_bucket_is_given(
    plain: dict[str, Rendered],
) -> None:
    assert parameters(load(plain["model_build"].definition))["InputDataBucket"]["DefaultValue"] == BUCKET


def test_the_role_is_the_context_role(steps: dict[str, dict[str, Any]]) -> None:
    for step in (*PROCESSING_JOBS, "Train"):
        assert steps[step]["Arguments"]["RoleArn"] == ROLE_ARN
    assert steps["Scoring-CreateModel"]["Arguments"]["ExecutionRoleArn"] == ROLE_ARN


def test_preprocess_writes_the_baseline_channel(steps: dict[str, dict[str, Any]]) -> None:
    outputs = steps["Preprocess"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert [output["OutputName"] for output in outputs] == [
        "train",
        "validation",
        "test",
        preprocess_script.BASELINE_CHANNEL,
        "schema",
    ]
    (baseline,) = [output for output in outputs if output["OutputName"] == "baseline"]
    assert baseline["S3Output"]["LocalPath"] == "/opt/ml/processing/baseline"  # where the script writes it


def test_the_data_quality_baseline(steps: dict[str, dict[str, Any]]) -> None:
    """Model Monitor's analyzer on the baseline channel (headerless CSV of features), the check skipped and
    the result registered as the new baseline: the first model has nothing to compare with."""
    step = steps[DATA_QUALITY_STEP]
    assert step["CheckType"] == "DATA_QUALITY"
    assert (step["SkipCheck"], step["RegisterNewBaseline"]) == (True, True)
    assert step["SuppliedBaselineStatistics"] is None and step["SuppliedBaselineConstraints"] is None
    arguments = step["Arguments"]
    assert arguments["AppSpecification"]["ImageUri"].endswith(
        f".dkr.ecr.{REGION}.amazonaws.com/sagemaker-model-monitor-analyzer"
    )
    assert arguments["ProcessingResources"]["ClusterConfig"]["InstanceType"] == BASELINE_INSTANCE_TYPE
    (dataset,) = arguments["ProcessingInputs"]
    assert dataset["S3Input"]["S3Uri"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"
    }
    environment = arguments["Environment"]
    assert json.loads(environment["dataset_format"]) == {
        "csv": {"header": False, "output_columns_position": "START"}
    }
    assert environment["dataset_source"] == dataset["S3Input"]["LocalPath"]
    assert environment["publish_cloudwatch_metrics"] == "Disabled"
    assert "MLFLOW_TRACKING_ARN" not in environment


def test_registration_carries_the_data_quality_baseline(steps: dict[str, dict[str, Any]]) -> None:
    """What the serving side's deploy-time custom resource reads: DriftCheckBaselines.ModelDataQuality,
    falling back to ModelMetrics.ModelDataQuality."""
    arguments = steps["Model-RegisterModel"]["Arguments"]

    def source(prop: str) -> dict[str, Any]:
        return {"ContentType": "application/json", "S3Uri": {"Get": f"Steps.{DATA_QUALITY_STEP}.{prop}"}}

    assert arguments["ModelMetrics"]["ModelDataQuality"] == {
        "Statistics": source("CalculatedBaselineStatistics"),
        "Constraints": source("CalculatedBaselineConstraints"),
    }
    assert arguments["DriftCheckBaselines"] == {
        "ModelDataQuality": {
            "Statistics": source("BaselineUsedForDriftCheckStatistics"),
            "Constraints": source("BaselineUsedForDriftCheckConstraints"),
        }
    }
    assert "Statistics" in arguments["ModelMetrics"]["ModelQuality"]  # the evaluation report stays


def test_training_metrics_are_the_built_in_algorithms(steps: dict[str, dict[str, Any]]) -> None:
    """SageMaker refuses MetricDefinitions for its built-in algorithms (ValidationException: "You can't
    override the metric definitions for Amazon SageMaker algorithms"): the algorithm's own definitions
    publish eval_metric (auc) on the train and validation channels, which are exactly the two it gets."""
    training = steps["Train"]["Arguments"]
    assert training["AlgorithmSpecification"] == {
        "TrainingImage": training["AlgorithmSpecification"]["TrainingImage"],
        "TrainingInputMode": "File",
    }
    assert training["HyperParameters"]["eval_metric"] == HYPERPARAMETERS["eval_metric"] == "auc"
    channels = [channel["ChannelName"] for channel in training["InputDataConfig"]]
    assert TRAINING_METRICS == ("train:auc", "validation:auc")
    assert [metric.split(":")[0] for metric in TRAINING_METRICS] == channels


def test_jobs_get_the_mlflow_tracking_server(steps: dict[str, dict[str, Any]]) -> None:
    tracking = {"MLFLOW_TRACKING_ARN": MLFLOW_ARN, "MLFLOW_EXPERIMENT_NAME": PIPELINE}
    for step in ("Preprocess", "Train", "Evaluate"):
        assert steps[step]["Arguments"]["Environment"] == tracking, step


def test_without_a_tracking_server_no_job_gets_an_environment(plain: dict[str, Rendered]) -> None:
    steps = all_steps(load(plain["model_build"].definition))
    for step in ("Preprocess", "Train", "Evaluate"):
        assert "Environment" not in steps[step]["Arguments"], step
    assert "MLFLOW" not in plain["model_build"].definition


def test_a_model_package_group_is_required() -> None:
    context = RenderContext(
        region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, code_uris=code_uris("model_build")
    )
    with pytest.raises(ValueError, match="model_package_group is required"):
        render("model_build", context)


def test_every_script_needs_an_s3_uri() -> None:
    context = RenderContext(
        region=REGION,
        role_arn=ROLE_ARN,
        bucket=BUCKET,
        code_uris={"preprocess.py": "s3://__CODE_BUCKET__/a.py"},
        model_package_group=GROUP,
    )
    with pytest.raises(ValueError, match=r"needs code_uris for evaluate\.py"):
        render("model_build", context)


def _output_locations(steps: dict[str, dict[str, Any]]) -> list[Any]:
    """Every S3 location a job of the DAG writes to."""
    locations: list[Any] = []
    for step in steps.values():
        arguments = step["Arguments"]
        locations.extend(
            output["S3Output"]["S3Uri"]
            for output in arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
        )
        if "OutputDataConfig" in arguments:
            locations.append(arguments["OutputDataConfig"]["S3OutputPath"])
        if "TransformOutput" in arguments:
            locations.append(arguments["TransformOutput"]["S3OutputPath"])
    return locations
