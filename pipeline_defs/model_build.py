"""The model build DAG: preprocess, baseline the data, train, evaluate, then register and score, or fail.

```
Preprocess -> Train -> Evaluate -> CheckAccuracy
Preprocess -> DataQualityBaseline (beside Train and Evaluate; Model-RegisterModel reads its baseline)
    if accuracy >= AccuracyThreshold: Model-RegisterModel, and Scoring-CreateModel -> ScoreTest
    else:                             AccuracyTooLow (Fail)
```
(`python -m pipeline_defs render model_build --region eu-west-1 --graph` lists every edge.)

- Preprocess (scikit-learn container, `steps/preprocess.py`): reads the CSV at `s3://InputDataBucket/
  InputDataKey` (its version `InputDataVersionId` and `InputDataETag`, as a data trigger passes them, are
  in the step's arguments: a new upload to the same key is a new cache key, and they are its lineage),
  labels from the column `TargetColumn`, leaves out the comma-separated `DropColumns`
  (identifiers: one-hot encoded they would each add a feature per row) and writes train/validation/test
  channels (label first, no header, as SageMaker's XGBoost reads CSV), the `baseline` channel (the train
  features only, no label, no header: what an endpoint receives as text/csv) and the feature schema.
- DataQualityBaseline (a QualityCheckStep, Model Monitor's image): statistics and constraints of the
  baseline channel, written under `models/` (`s3://<bucket>/models/<pipeline>/<execution id>/data-quality/`)
  because the serving accounts may read exactly that prefix. The check itself is skipped and the new
  baseline registered: the first model has nothing to compare with, and drift is checked where the model
  serves (the endpoints' data-quality monitoring schedules, baselined from the registered package).
- Train: SageMaker's prebuilt XGBoost algorithm (no training code to ship), model under `models/`. Its
  training metrics (`train:auc`, `validation:auc`: `eval_metric` on each channel) reach CloudWatch through
  the algorithm's own metric definitions: SageMaker refuses MetricDefinitions for its built-in algorithms
  ("You can't override the metric definitions for Amazon SageMaker algorithms"), so none are declared.
- Evaluate (the same XGBoost image, `steps/evaluate.py`): scores the test channel and writes
  `evaluation.json` (`{"metrics": {"accuracy": {"value": ...}}}`), the property file `EvaluationReport`.
- CheckAccuracy: accuracy >= `AccuracyThreshold`. If so, register the model in the model package group
  (status `ModelApprovalStatus`; model metrics: the report as ModelQuality statistics, which the registry's
  approval guard reads, and the baseline as ModelDataQuality statistics and constraints; drift check
  baselines: ModelDataQuality, which the serving side's monitoring reads; customer metadata: the input's
  URI, version id and ETag and the execution's ARN) and create a model to batch-score
  the test channel; if not, fail with the accuracy.

With `RenderContext.mlflow_tracking_server_arn`, the Preprocess, Train and Evaluate jobs get the
environment variables MLFLOW_TRACKING_ARN (the tracking server) and MLFLOW_EXPERIMENT_NAME (the pipeline
name); the evaluate script logs its metrics and the data's lineage there.
"""

from __future__ import annotations

from typing import Final

from pipeline_defs import _sdk
from pipeline_defs._naming import (
    MODELS_PREFIX,
    PIPELINES_PREFIX,
    check_pipeline_name,
    job_prefix,
    model_output_path,
    require_code,
)
from pipeline_defs.context import RenderContext
from pipeline_defs.input_data import input_data_parameters

PREPROCESS_SCRIPT: Final = "preprocess.py"
EVALUATE_SCRIPT: Final = "evaluate.py"
SCRIPTS: Final = (PREPROCESS_SCRIPT, EVALUATE_SCRIPT)

# Prebuilt images, by version: the scikit-learn image runs preprocessing, the XGBoost algorithm image trains
# and (with python3 as its command) evaluates, since it has the library that loads the model.
SKLEARN_VERSION: Final = "1.2-1"
XGBOOST_VERSION: Final = "1.7-1"

DEFAULT_INPUT_KEY: Final = "datasets/churn/latest.csv"
# The sample churn data: its label column, and its identifier column (a phone number per customer).
DEFAULT_TARGET_COLUMN: Final = "churn"
DEFAULT_DROP_COLUMNS: Final = "phone"
DEFAULT_INSTANCE_TYPE: Final = "ml.m5.xlarge"
# A fixed, small type for scoring the test channel; the deployment chooses its own types.
TRANSFORM_INSTANCE_TYPE: Final = "ml.m5.large"
# A fixed, small type for the data-quality baseline (statistics of the train features).
BASELINE_INSTANCE_TYPE: Final = "ml.m5.large"
DEFAULT_ACCURACY_THRESHOLD: Final = 0.9
DEFAULT_APPROVAL_STATUS: Final = "PendingManualApproval"
APPROVAL_STATUSES: Final = ("PendingManualApproval", "Approved", "Rejected")
INFERENCE_INSTANCE_TYPES: Final = ("ml.m5.large", "ml.m5.xlarge")

# Built-in XGBoost, binary classification: the model outputs the probability of the positive class.
HYPERPARAMETERS: Final = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "num_round": "200",
    "early_stopping_rounds": "10",
    "max_depth": "5",
    "eta": "0.2",
    "subsample": "0.8",
    "min_child_weight": "1",
    "seed": "7",
}

# What the built-in XGBoost algorithm publishes to CloudWatch for these hyperparameters: `eval_metric` on
# each channel it is given, under the algorithm's own metric definitions. (MetricDefinitions of our own are
# refused for SageMaker's built-in algorithms, so the Train step declares none.)
TRAINING_CHANNELS: Final = ("train", "validation")
TRAINING_METRICS: Final = tuple(
    f"{channel}:{HYPERPARAMETERS['eval_metric']}" for channel in TRAINING_CHANNELS
)

# Container paths (the /opt/ml/processing contract the step scripts read and write).
PROCESSING_ROOT: Final = "/opt/ml/processing"
BASELINE_CHANNEL: Final = "baseline"
PREPROCESS_CHANNELS: Final = ("train", "validation", "test", BASELINE_CHANNEL, "schema")

# The data-quality baseline: its step, and where it writes (under models/, per execution).
DATA_QUALITY_STEP: Final = "DataQualityBaseline"
DATA_QUALITY_OUTPUT: Final = "data-quality"
# Experiment tracking: the environment the jobs get when the context names an MLflow tracking server.
MLFLOW_TRACKING_ARN_VARIABLE: Final = "MLFLOW_TRACKING_ARN"
MLFLOW_EXPERIMENT_VARIABLE: Final = "MLFLOW_EXPERIMENT_NAME"

# The property file of the evaluation step, and where the accuracy is in it.
EVALUATION_REPORT: Final = "EvaluationReport"
EVALUATION_OUTPUT: Final = "evaluation"
EVALUATION_FILE: Final = "evaluation.json"
ACCURACY_PATH: Final = "metrics.accuracy.value"

# The model package's customer metadata: lineage record field -> metadata key.
LINEAGE_METADATA: Final = {
    "uri": "InputDataUri",
    "version_id": "InputDataVersionId",
    "etag": "InputDataETag",
    "execution": "PipelineExecutionArn",
}


def get_pipeline(*, context: RenderContext, name: str) -> _sdk.Pipeline:
    """The model build pipeline `name` for `context`. Pure: no AWS calls, no uploads."""
    with _sdk.offline():  # the SDK creates boto3 clients while it builds jobs
        return _build(context=context, name=name)


def _build(*, context: RenderContext, name: str) -> _sdk.Pipeline:
    check_pipeline_name(name)
    require_code(context, SCRIPTS, "model_build")
    if context.model_package_group is None:
        raise ValueError("model_build registers models: RenderContext.model_package_group is required")
    session = _sdk.pipeline_session(region=context.region, bucket=context.bucket)
    caching = _sdk.cache_config(context.cache_expire_after)
    vpc_subnets: list[str | _sdk.PipelineVariable] | None = list(context.subnet_ids) or None
    vpc_security_groups: list[str | _sdk.PipelineVariable] | None = list(context.security_group_ids) or None
    xgboost_image = _sdk.image_uri(framework="xgboost", version=XGBOOST_VERSION, region=context.region)

    def run_path(step: str, output: str) -> _sdk.Join:
        return _sdk.s3_uri(context.bucket, PIPELINES_PREFIX, name, _sdk.EXECUTION_ID, step, output)

    # Experiment tracking: None (no Environment at all) without a tracking server.
    tracking_environment: dict[str, str | _sdk.PipelineVariable] | None = (
        {
            MLFLOW_TRACKING_ARN_VARIABLE: context.mlflow_tracking_server_arn,
            MLFLOW_EXPERIMENT_VARIABLE: name,
        }
        if context.mlflow_tracking_server_arn is not None
        else None
    )

    input_data = input_data_parameters(default_bucket=context.input_bucket, default_key=DEFAULT_INPUT_KEY)
    target_column = _sdk.ParameterString(name="TargetColumn", default_value=DEFAULT_TARGET_COLUMN)
    # Comma-separated; empty drops nothing (hence `--drop-columns=<value>`, one argument even when empty).
    drop_columns = _sdk.ParameterString(name="DropColumns", default_value=DEFAULT_DROP_COLUMNS)
    processing_instance_type = _sdk.ParameterString(
        name="ProcessingInstanceType", default_value=DEFAULT_INSTANCE_TYPE
    )
    training_instance_type = _sdk.ParameterString(
        name="TrainingInstanceType", default_value=DEFAULT_INSTANCE_TYPE
    )
    accuracy_threshold = _sdk.ParameterFloat(
        name="AccuracyThreshold", default_value=DEFAULT_ACCURACY_THRESHOLD
    )
    approval_status = _sdk.ParameterString(
        name="ModelApprovalStatus", default_value=DEFAULT_APPROVAL_STATUS, enum_values=list(APPROVAL_STATUSES)
    )

    preprocessor = _sdk.SKLearnProcessor(
        framework_version=SKLEARN_VERSION,
        role=context.role_arn,
        instance_count=1,
        instance_type=processing_instance_type,
        base_job_name=job_prefix(name, "preprocess"),
        volume_kms_key=context.kms_key_id,
        output_kms_key=context.kms_key_id,
        network_config=_sdk.network_config(
            subnet_ids=context.subnet_ids, security_group_ids=context.security_group_ids
        ),
        env=tracking_environment,
        sagemaker_session=session,
    )
    preprocess = _sdk.ProcessingStep(
        name="Preprocess",
        step_args=preprocessor.run(
            code=context.code_uris[PREPROCESS_SCRIPT],
            arguments=[
                "--target-column",
                target_column,
                _sdk.Join(on="", values=["--drop-columns=", drop_columns]),
                # Lineage, and part of this step's cache key: a new version of the same key misses.
                "--input-uri",
                input_data.uri,
                "--input-version-id",
                input_data.version_id,
                "--input-etag",
                input_data.etag,
            ],
            inputs=[
                _sdk.ProcessingInput(
                    input_name="dataset",
                    source=input_data.uri,
                    destination=f"{PROCESSING_ROOT}/input",
                )
            ],
            outputs=[
                _sdk.ProcessingOutput(
                    output_name=channel,
                    source=f"{PROCESSING_ROOT}/{channel}",
                    destination=run_path("preprocess", channel),
                )
                for channel in PREPROCESS_CHANNELS
            ],
        ),
        cache_config=caching,
    )

    def channel_uri(channel: str) -> _sdk.PipelineVariable:
        outputs = preprocess.properties.ProcessingOutputConfig.Outputs
        uri: _sdk.PipelineVariable = outputs[channel].S3Output.S3Uri
        return uri

    # Statistics and constraints of what the endpoints will receive, registered with the model: the serving
    # side's data-quality monitoring is baselined from them.
    data_quality = _sdk.QualityCheckStep(
        name=DATA_QUALITY_STEP,
        quality_check_config=_sdk.DataQualityCheckConfig(
            baseline_dataset=channel_uri(BASELINE_CHANNEL),
            dataset_format=_sdk.csv_without_header(),
            output_s3_uri=_sdk.s3_uri(
                context.bucket, MODELS_PREFIX, name, _sdk.EXECUTION_ID, DATA_QUALITY_OUTPUT
            ),
        ),
        check_job_config=_sdk.check_job_config(
            role=context.role_arn,
            instance_type=BASELINE_INSTANCE_TYPE,
            kms_key_id=context.kms_key_id,
            base_job_name=job_prefix(name, "data-quality"),
            session=session,
            network=_sdk.network_config(
                subnet_ids=context.subnet_ids, security_group_ids=context.security_group_ids
            ),
        ),
        # The first model has nothing to compare with; drift is checked where the model serves.
        skip_check=True,
        register_new_baseline=True,
        cache_config=caching,
    )
    data_quality_properties = data_quality.properties

    estimator = _sdk.Estimator(
        image_uri=xgboost_image,
        role=context.role_arn,
        instance_count=1,
        instance_type=training_instance_type,
        base_job_name=job_prefix(name, "train"),
        output_path=model_output_path(context, name),
        volume_kms_key=context.kms_key_id,
        output_kms_key=context.kms_key_id,
        subnets=vpc_subnets,
        security_group_ids=vpc_security_groups,
        encrypt_inter_container_traffic=context.has_vpc,
        hyperparameters=dict(HYPERPARAMETERS),
        # No metric_definitions: SageMaker refuses them for its built-in algorithms, whose own definitions
        # publish TRAINING_METRICS.
        environment=tracking_environment,
        # No debugger or profiler output: the models/ prefix holds models only.
        debugger_hook_config=False,
        disable_profiler=True,
        sagemaker_session=session,
    )
    train = _sdk.TrainingStep(
        name="Train",
        step_args=estimator.fit(
            inputs={
                channel: _sdk.TrainingInput(s3_data=channel_uri(channel), content_type="text/csv")
                for channel in TRAINING_CHANNELS
            }
        ),
        cache_config=caching,
    )
    model_artifacts = train.properties.ModelArtifacts.S3ModelArtifacts

    evaluator = _sdk.ScriptProcessor(
        image_uri=xgboost_image,
        command=["python3"],
        role=context.role_arn,
        instance_count=1,
        instance_type=processing_instance_type,
        base_job_name=job_prefix(name, "evaluate"),
        volume_kms_key=context.kms_key_id,
        output_kms_key=context.kms_key_id,
        network_config=_sdk.network_config(
            subnet_ids=context.subnet_ids, security_group_ids=context.security_group_ids
        ),
        env=tracking_environment,
        sagemaker_session=session,
    )
    evaluation_report = _sdk.PropertyFile(
        name=EVALUATION_REPORT, output_name=EVALUATION_OUTPUT, path=EVALUATION_FILE
    )
    evaluate = _sdk.ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            code=context.code_uris[EVALUATE_SCRIPT],
            inputs=[
                _sdk.ProcessingInput(
                    input_name="model", source=model_artifacts, destination=f"{PROCESSING_ROOT}/model"
                ),
                _sdk.ProcessingInput(
                    input_name="test", source=channel_uri("test"), destination=f"{PROCESSING_ROOT}/test"
                ),
                # The schema channel holds the data's lineage record, which the report carries.
                _sdk.ProcessingInput(
                    input_name="lineage",
                    source=channel_uri("schema"),
                    destination=f"{PROCESSING_ROOT}/lineage",
                ),
            ],
            outputs=[
                _sdk.ProcessingOutput(
                    output_name=EVALUATION_OUTPUT,
                    source=f"{PROCESSING_ROOT}/{EVALUATION_OUTPUT}",
                    destination=run_path("evaluate", EVALUATION_OUTPUT),
                )
            ],
        ),
        property_files=[evaluation_report],
        cache_config=caching,
    )
    accuracy = _sdk.JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path=ACCURACY_PATH)
    report_uri = _sdk.Join(
        on="/",
        values=[
            evaluate.properties.ProcessingOutputConfig.Outputs[EVALUATION_OUTPUT].S3Output.S3Uri,
            EVALUATION_FILE,
        ],
    )

    model = _sdk.Model(
        image_uri=xgboost_image,
        model_data=model_artifacts,
        role=context.role_arn,
        name=job_prefix(name, "model"),
        vpc_config=(
            {"Subnets": list(context.subnet_ids), "SecurityGroupIds": list(context.security_group_ids)}
            if context.has_vpc
            else None
        ),
        sagemaker_session=session,
    )
    register = _sdk.ModelStep(
        name="Model",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=list(INFERENCE_INSTANCE_TYPES),
            transform_instances=list(INFERENCE_INSTANCE_TYPES),
            model_package_group_name=context.model_package_group,
            approval_status=approval_status,
            model_metrics=_sdk.ModelMetrics(
                model_statistics=_sdk.MetricsSource(content_type="application/json", s3_uri=report_uri),
                model_data_statistics=_sdk.MetricsSource(
                    content_type="application/json",
                    s3_uri=data_quality_properties.CalculatedBaselineStatistics,
                ),
                model_data_constraints=_sdk.MetricsSource(
                    content_type="application/json",
                    s3_uri=data_quality_properties.CalculatedBaselineConstraints,
                ),
            ),
            drift_check_baselines=_sdk.DriftCheckBaselines(
                model_data_statistics=_sdk.MetricsSource(
                    content_type="application/json",
                    s3_uri=data_quality_properties.BaselineUsedForDriftCheckStatistics,
                ),
                model_data_constraints=_sdk.MetricsSource(
                    content_type="application/json",
                    s3_uri=data_quality_properties.BaselineUsedForDriftCheckConstraints,
                ),
            ),
            description=(
                "Built by the model build pipeline; metrics: its evaluation report; data quality: "
                "the baseline of its training features; metadata: the data it was trained on."
            ),
            # Which object version the model came from, beside the execution that built it.
            customer_metadata_properties={
                LINEAGE_METADATA["uri"]: input_data.uri,
                LINEAGE_METADATA["version_id"]: input_data.version_id,
                LINEAGE_METADATA["etag"]: input_data.etag,
                LINEAGE_METADATA["execution"]: _sdk.EXECUTION_ARN,
            },
        ),
    )
    create_model = _sdk.ModelStep(
        name="Scoring", step_args=model.create(instance_type=TRANSFORM_INSTANCE_TYPE)
    )

    transformer = _sdk.Transformer(
        model_name=create_model.properties.ModelName,
        instance_count=1,
        instance_type=TRANSFORM_INSTANCE_TYPE,
        strategy="MultiRecord",
        assemble_with="Line",
        accept="text/csv",
        output_path=run_path("score", "test"),
        output_kms_key=context.kms_key_id,
        volume_kms_key=context.kms_key_id,
        base_transform_job_name=job_prefix(name, "score"),
        sagemaker_session=session,
    )
    score_test = _sdk.TransformStep(
        name="ScoreTest",
        step_args=transformer.transform(
            data=channel_uri("test"),
            content_type="text/csv",
            split_type="Line",
            # The test channel has the label first: score the features, keep the label beside the prediction.
            input_filter="$[1:]",
            join_source="Input",
            output_filter="$[0,-1]",
            job_name=job_prefix(name, "score"),
        ),
        cache_config=caching,
    )

    accuracy_too_low = _sdk.FailStep(
        name="AccuracyTooLow",
        error_message=_sdk.Join(
            on="",
            values=[
                "Accuracy ",
                accuracy,
                " is below the threshold ",
                accuracy_threshold,
                " (AccuracyThreshold): the model was not registered.",
            ],
        ),
    )
    check_accuracy = _sdk.ConditionStep(
        name="CheckAccuracy",
        conditions=[_sdk.greater_than_or_equal(accuracy, accuracy_threshold)],
        if_steps=[register, create_model, score_test],
        else_steps=[accuracy_too_low],
    )

    return _sdk.new_pipeline(
        name=name,
        parameters=[
            *input_data.parameters,
            target_column,
            drop_columns,
            processing_instance_type,
            training_instance_type,
            accuracy_threshold,
            approval_status,
        ],
        steps=[preprocess, data_quality, train, evaluate, check_accuracy],
        session=session,
    )
