"""render(), script_paths() and RenderContext: the interface the pipeline stack uses."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipeline_defs import DEFINITIONS, RenderContext, UnknownDefinitionError, render, script_paths
from pipeline_defs.context import PLACEHOLDER_MLFLOW_TRACKING_ARN, splice
from pipeline_defs.definitions import STEPS_DIR, clear_render_cache
from tests.pipeline_defs.conftest import Rendered
from tests.pipeline_defs.support import (
    BUCKET,
    CODE_BUCKET,
    DATA_BUCKET,
    DEFINITION_LIMIT,
    GROUP,
    KMS_KEY,
    MLFLOW_ARN,
    REGION,
    ROLE_ARN,
    SECURITY_GROUPS,
    SUBNETS,
    blocked_network,
    code_uris,
    full_context,
)


def test_every_placeholder_of_the_context_occurs(full: dict[str, Rendered]) -> None:
    """The stack replaces each placeholder with its token by str.replace: each must be there to replace."""
    model_build = full["model_build"].definition
    for placeholder in (
        BUCKET,
        DATA_BUCKET,
        ROLE_ARN,
        GROUP,
        KMS_KEY,
        MLFLOW_ARN,
        *SUBNETS,
        *SECURITY_GROUPS,
        *code_uris("model_build").values(),
    ):
        assert placeholder in model_build, placeholder
    batch_inference = full["batch_inference"].definition
    for placeholder in (BUCKET, DATA_BUCKET, KMS_KEY):
        assert placeholder in batch_inference, placeholder
    # Nothing that CloudFormation's Fn::Sub would read as a variable.
    for definition in (model_build, batch_inference):
        assert "${" not in definition


def test_code_placeholders_keep_the_asset_key(full: dict[str, Rendered]) -> None:
    """Only the code bucket is a token: the object key (the asset hash) is concrete and must survive."""
    for uri in code_uris("model_build").values():
        assert uri.startswith(f"s3://{CODE_BUCKET}/")
        assert full["model_build"].definition.count(f'"{uri}"') == 1


def test_two_renders_are_identical(full: dict[str, Rendered]) -> None:
    clear_render_cache()
    with blocked_network() as attempts:
        again = {name: render(name, full_context(name)) for name in DEFINITIONS}
    assert attempts == []
    for name, rendered in full.items():
        assert again[name] == rendered.definition, name


def test_renders_are_cached_per_context(full: dict[str, Rendered]) -> None:
    assert render("model_build", full_context("model_build")) is render(
        "model_build", full_context("model_build")
    )


def test_definitions_are_far_under_the_limit(full: dict[str, Rendered]) -> None:
    for rendered in full.values():
        print(f"{rendered.name}: {len(rendered.definition)} characters")
        assert len(rendered.definition) < DEFINITION_LIMIT // 50, (
            rendered.name
        )  # ~20 KB: inline, no S3 location


def test_the_pipeline_name_goes_into_paths_and_job_names() -> None:
    definition = render("model_build", full_context("model_build"), pipeline_name="churn-build")
    assert '"churn-build"' in definition  # a path segment
    assert '"churn-build-train"' in definition
    assert "model-build" not in definition


def test_invalid_pipeline_names_are_refused() -> None:
    with pytest.raises(ValueError, match="not a SageMaker pipeline name"):
        render("batch_inference", full_context("batch_inference"), pipeline_name="batch_inference")
    with pytest.raises(ValueError, match="shorten the pipeline name"):
        render("batch_inference", full_context("batch_inference"), pipeline_name="x" * 60)


def test_the_region_changes_only_image_uris() -> None:
    context = dataclasses.replace(full_context("model_build"), region="us-east-1")
    ireland = render("model_build", full_context("model_build"))
    virginia = render("model_build", context)
    assert ".dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1" in virginia
    # The registries' accounts: XGBoost and scikit-learn share one per region, Model Monitor has its own.
    accounts = {"141502667606": "683313688378", "468650794304": "156813124566"}
    translated = ireland.replace(".dkr.ecr.eu-west-1.", ".dkr.ecr.us-east-1.")
    for ireland_account, virginia_account in accounts.items():
        assert f'"{ireland_account}.dkr.ecr.' in ireland
        translated = translated.replace(ireland_account, virginia_account)
    assert translated == virginia


def test_unknown_names_raise_a_clear_key_error() -> None:
    with pytest.raises(KeyError) as raised:
        render("model-build", full_context("model_build"))
    assert isinstance(raised.value, UnknownDefinitionError)
    assert (
        str(raised.value) == "unknown pipeline definition 'model-build'; known: batch_inference, model_build"
    )
    with pytest.raises(UnknownDefinitionError):
        script_paths("nope")


def test_script_paths() -> None:
    assert dict(script_paths("model_build")) == {
        "preprocess.py": STEPS_DIR / "preprocess.py",
        "evaluate.py": STEPS_DIR / "evaluate.py",
    }
    assert all(path.is_file() for path in script_paths("model_build").values())
    assert dict(script_paths("batch_inference")) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"region": "${Token[AWS.Region]}"}, "not a concrete AWS region"),
        ({"role_arn": "PipelineRole"}, "not a full IAM role ARN"),
        ({"bucket": "s3://bucket"}, "not a bucket name"),
        ({"data_bucket": "data/"}, "data_bucket 'data/' is not a bucket name"),
        ({"code_uris": {"preprocess.py": "pipeline_defs/steps/preprocess.py"}}, "is not an s3:// URI"),
        ({"cache_expire_after": "30 days"}, "not an ISO 8601 duration"),
        ({"subnet_ids": ("subnet-1",), "security_group_ids": ()}, "go together"),
        ({"model_package_group": ""}, "model_package_group is empty"),
        ({"kms_key_id": ""}, "kms_key_id is empty"),
        ({"mlflow_tracking_server_arn": ""}, "not a SageMaker MLflow tracking server ARN"),
    ],
)
def test_invalid_contexts_are_refused(change: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "region": REGION,
        "role_arn": ROLE_ARN,
        "bucket": BUCKET,
        "code_uris": code_uris("model_build"),
        "model_package_group": GROUP,
    }
    with pytest.raises(ValueError, match=message):
        RenderContext(**(fields | change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "arn",
    [
        "my-tracking-server",
        "__MLFLOW_TRACKING_SERVER__",  # not the placeholder
        "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-app/app-1",
        "arn:aws:sagemaker:eu-west-1:1234:mlflow-tracking-server/t",
        "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/-t",
        "arn:aws:sagemaker::123456789012:mlflow-tracking-server/t",
        "arn:aws:sagemaker:${AWS::Region}:123456789012:mlflow-tracking-server/t",
        "arn:aws:iam::123456789012:role/mlflow-tracking-server/t",
    ],
)
def test_invalid_mlflow_tracking_servers_are_refused(arn: str) -> None:
    with pytest.raises(ValueError, match="not a SageMaker MLflow tracking server ARN"):
        dataclasses.replace(full_context("model_build"), mlflow_tracking_server_arn=arn)


@pytest.mark.parametrize(
    "arn",
    [
        PLACEHOLDER_MLFLOW_TRACKING_ARN,
        "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/experiments",
        "arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:mlflow-tracking-server/Team-A-1",
        "arn:aws-cn:sagemaker:cn-north-1:123456789012:mlflow-tracking-server/t",
    ],
)
def test_mlflow_tracking_servers_and_the_placeholder_are_accepted(arn: str) -> None:
    context = dataclasses.replace(full_context("model_build"), mlflow_tracking_server_arn=arn)
    assert context.mlflow_tracking_server_arn == arn


def test_the_tracking_server_is_part_of_the_cache_key() -> None:
    """Two contexts that differ only in the tracking server render apart (the render cache is keyed on it)."""
    tracked = full_context("model_build")
    untracked = dataclasses.replace(tracked, mlflow_tracking_server_arn=None)
    assert tracked.cache_key() != untracked.cache_key()
    assert json.loads(tracked.cache_key())["mlflow_tracking_server_arn"] == MLFLOW_ARN
    assert MLFLOW_ARN in render("model_build", tracked)
    assert MLFLOW_ARN not in render("model_build", untracked)


def test_a_context_is_frozen_and_hashable() -> None:
    uris = code_uris("model_build")
    subnets = list(SUBNETS)
    context = RenderContext(
        region=REGION,
        role_arn=ROLE_ARN,
        bucket=BUCKET,
        code_uris=uris,
        subnet_ids=subnets,
        security_group_ids=SECURITY_GROUPS,
    )
    uris["evaluate.py"] = "s3://elsewhere/evaluate.py"
    subnets.append("subnet-later")
    assert context.code_uris["evaluate.py"] != "s3://elsewhere/evaluate.py"
    assert context.subnet_ids == SUBNETS
    with pytest.raises(TypeError):
        context.code_uris["x"] = "y"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.bucket = "other"  # type: ignore[misc]
    twin = dataclasses.replace(context)
    assert twin == context and hash(twin) == hash(context)


def test_splice_replaces_each_placeholder_and_refuses_a_leftover() -> None:
    body = f'{{"Role": "{ROLE_ARN}", "Key": "{KMS_KEY}"}}'
    tokens = {ROLE_ARN: "${Token[Role]}", KMS_KEY: "${Token[Key]}"}
    assert splice(body, tokens, leftover_markers=("__",), definition="d") == (
        '{"Role": "${Token[Role]}", "Key": "${Token[Key]}"}'
    )
    with pytest.raises(
        ValueError, match=r"^the definition of notebook job d still holds placeholders: __DATA_KEY__$"
    ):
        splice(body, {ROLE_ARN: "r"}, leftover_markers=("__DATA_KEY__",), definition="notebook job d")


def test_the_sdk3_comparison_renders_the_same_full_context() -> None:
    # bench/sdk3_compare.py copies the context for its SDK 3 side, which cannot import the project.
    from bench import sdk3_compare  # noqa: PLC0415 - only this test reads the benchmark

    context = full_context("model_build")
    assert (
        sdk3_compare.REGION,
        sdk3_compare.BUCKET,
        sdk3_compare.DATA_BUCKET,
        sdk3_compare.ROLE_ARN,
        sdk3_compare.KMS_KEY,
        tuple(sdk3_compare.SUBNETS),
        tuple(sdk3_compare.SECURITY_GROUPS),
        sdk3_compare.MLFLOW_ARN,
    ) == (
        context.region,
        context.bucket,
        context.data_bucket,
        context.role_arn,
        context.kms_key_id,
        context.subnet_ids,
        context.security_group_ids,
        context.mlflow_tracking_server_arn,
    )
