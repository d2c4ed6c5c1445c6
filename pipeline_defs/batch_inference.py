"""The batch inference DAG, for serving environments: one Transform step with a deployed model.

`ModelName` names a SageMaker model that already exists in the account (the deployment creates it from an
approved model package); the input is the CSV at `s3://InputDataBucket/InputDataKey`, features only, in the
column order of the schema the model build wrote; its version (`InputDataVersionId`, `InputDataETag`, as a
data trigger passes them) is recorded in the transform job's environment. Predictions go to
`s3://<bucket>/pipelines/<pipeline name>/predictions/<execution id>/`, one line per input line: the input
record followed by the predicted probability.
"""

from __future__ import annotations

from typing import Final

from pipeline_defs import _sdk
from pipeline_defs._naming import PIPELINES_PREFIX, check_pipeline_name, job_prefix
from pipeline_defs.context import RenderContext
from pipeline_defs.input_data import input_data_parameters

SCRIPTS: Final[tuple[str, ...]] = ()
DEFAULT_INPUT_KEY: Final = "datasets/churn/inference.csv"
DEFAULT_INSTANCE_TYPE: Final = "ml.m5.large"
# The transform job's environment: lineage record field -> variable.
LINEAGE_ENVIRONMENT: Final = {
    "uri": "INPUT_DATA_URI",
    "version_id": "INPUT_DATA_VERSION_ID",
    "etag": "INPUT_DATA_ETAG",
}


def get_pipeline(*, context: RenderContext, name: str) -> _sdk.Pipeline:
    """The batch inference pipeline `name` for `context`. Pure: no AWS calls, no uploads.

    The model's own configuration (image, VPC) applies to the transform job; the context's KMS key encrypts
    its volume and output. `context.cache_expire_after` is ignored (see the step).
    """
    with _sdk.offline():  # the SDK creates boto3 clients while it builds jobs
        return _build(context=context, name=name)


def _build(*, context: RenderContext, name: str) -> _sdk.Pipeline:
    check_pipeline_name(name)
    session = _sdk.pipeline_session(region=context.region, bucket=context.bucket)

    # No default: an execution must say which deployed model to use.
    model_name = _sdk.ParameterString(name="ModelName")
    input_data = input_data_parameters(default_bucket=context.input_bucket, default_key=DEFAULT_INPUT_KEY)
    instance_type = _sdk.ParameterString(name="TransformInstanceType", default_value=DEFAULT_INSTANCE_TYPE)

    transformer = _sdk.Transformer(
        model_name=model_name,
        instance_count=1,
        instance_type=instance_type,
        strategy="MultiRecord",
        assemble_with="Line",
        accept="text/csv",
        output_path=_sdk.s3_uri(context.bucket, PIPELINES_PREFIX, name, "predictions", _sdk.EXECUTION_ID),
        output_kms_key=context.kms_key_id,
        volume_kms_key=context.kms_key_id,
        base_transform_job_name=job_prefix(name, "predict"),
        # Lineage: the transform job's description shows which object version it scored.
        env={
            LINEAGE_ENVIRONMENT["uri"]: input_data.uri,
            LINEAGE_ENVIRONMENT["version_id"]: input_data.version_id,
            LINEAGE_ENVIRONMENT["etag"]: input_data.etag,
        },
        sagemaker_session=session,
    )
    predict = _sdk.TransformStep(
        name="Predict",
        step_args=transformer.transform(
            data=input_data.uri,
            content_type="text/csv",
            split_type="Line",
            join_source="Input",
            job_name=job_prefix(name, "predict"),
        ),
        # Never cached, whatever the context says: caching matches step arguments, not data, so a new file
        # at the same key would get the previous execution's predictions.
    )
    return _sdk.new_pipeline(
        name=name,
        parameters=[model_name, *input_data.parameters, instance_type],
        steps=[predict],
        session=session,
    )
