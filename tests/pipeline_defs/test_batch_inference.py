"""The batch inference DAG: one Transform step with a deployed model, predictions under its prefix."""

from __future__ import annotations

from typing import Any

from tests.pipeline_defs.conftest import Rendered
from tests.pipeline_defs.support import BUCKET, DATA_BUCKET, KMS_KEY, join_values, load, parameters

PIPELINE = "batch-inference"


def _step(rendered: Rendered) -> dict[str, Any]:
    (step,) = load(rendered.definition)["Steps"]
    assert isinstance(step, dict)
    return step


def test_one_transform_step(full: dict[str, Rendered]) -> None:
    graph = full["batch_inference"].graph
    assert dict(graph.steps) == {"Predict": "Transform"}
    assert graph.edges == frozenset()


def test_parameters(full: dict[str, Rendered]) -> None:
    assert parameters(load(full["batch_inference"].definition)) == {
        "ModelName": {"Name": "ModelName", "Type": "String"},  # no default: each execution names its model
        "InputDataBucket": {"Name": "InputDataBucket", "Type": "String", "DefaultValue": DATA_BUCKET},
        "InputDataKey": {
            "Name": "InputDataKey",
            "Type": "String",
            "DefaultValue": "datasets/churn/inference.csv",
        },
        # Declared because a data trigger passes them (StartPipelineExecution refuses undeclared ones).
        "InputDataVersionId": {"Name": "InputDataVersionId", "Type": "String", "DefaultValue": "unrecorded"},
        "InputDataETag": {"Name": "InputDataETag", "Type": "String", "DefaultValue": "unrecorded"},
        "TransformInstanceType": {
            "Name": "TransformInstanceType",
            "Type": "String",
            "DefaultValue": "ml.m5.large",
        },
    }


def test_the_transform(full: dict[str, Rendered]) -> None:
    step = _step(full["batch_inference"])
    arguments = step["Arguments"]
    assert arguments["ModelName"] == {"Get": "Parameters.ModelName"}
    assert arguments["TransformJobName"] == "batch-inference-predict"
    assert join_values(arguments["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]) == [
        "s3:/",
        {"Get": "Parameters.InputDataBucket"},
        {"Get": "Parameters.InputDataKey"},
    ]
    assert arguments["TransformResources"]["InstanceType"] == {"Get": "Parameters.TransformInstanceType"}
    assert join_values(arguments["TransformOutput"]["S3OutputPath"]) == [
        "s3:/",
        BUCKET,
        "pipelines",
        PIPELINE,
        "predictions",
        {"Get": "Execution.PipelineExecutionId"},
    ]
    assert arguments["TransformOutput"]["KmsKeyId"] == KMS_KEY
    # Which object version the job scored, in its description.
    assert arguments["Environment"] == {
        "INPUT_DATA_URI": {
            "Std:Join": {
                "On": "/",
                "Values": ["s3:/", {"Get": "Parameters.InputDataBucket"}, {"Get": "Parameters.InputDataKey"}],
            }
        },
        "INPUT_DATA_VERSION_ID": {"Get": "Parameters.InputDataVersionId"},
        "INPUT_DATA_ETAG": {"Get": "Parameters.InputDataETag"},
    }
    assert arguments["TransformResources"]["VolumeKmsKeyId"] == KMS_KEY


def test_never_cached(full: dict[str, Rendered], plain: dict[str, Rendered]) -> None:
    """Even with caching configured: a new file at the same key must not get old predictions."""
    assert full["batch_inference"].context.cache_expire_after is not None
    assert "CacheConfig" not in full["batch_inference"].definition
    assert "CacheConfig" not in plain["batch_inference"].definition
