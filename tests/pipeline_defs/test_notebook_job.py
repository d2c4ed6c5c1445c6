"""The notebook job pipeline: offline, deterministic, and in the request shape of the SDK's own
NotebookJobStep (which uploads the notebook while rendering; ours ships it as an asset)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from pipeline_defs import RenderContext
from pipeline_defs import _sdk as sdk
from pipeline_defs.notebook_job import (
    ARTIFACT_BUCKET_VARIABLE,
    DATA_BUCKET_VARIABLE,
    DOMAIN_TAG,
    STEP_NAME,
    USER_PROFILE_TAG,
    NotebookJobSpec,
    _render,
    get_pipeline,
    render,
)
from tests.pipeline_defs.support import (
    BUCKET,
    DATA_BUCKET,
    KMS_KEY,
    REGION,
    ROLE_ARN,
    ROOT,
    SECURITY_GROUPS,
    SUBNETS,
    SUBPROCESS_BLOCKER,
    blocked_network,
    load,
)

NOTEBOOK = ROOT / "notebooks" / "churn-report" / "churn-report.ipynb"
STAGED = "s3://__CODE_BUCKET__/0123abcd.ipynb"
IMAGE = "819792524951.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-distribution-prod:3.2.0-cpu"
DOMAIN_ARN = "arn:aws:sagemaker:eu-west-1:000000000000:domain/__DOMAIN__"
NAME = "churn-report"


def _context() -> RenderContext:
    return RenderContext(
        region=REGION,
        role_arn=ROLE_ARN,
        bucket=BUCKET,
        data_bucket=DATA_BUCKET,
        kms_key_id=KMS_KEY,
        subnet_ids=SUBNETS,
        security_group_ids=SECURITY_GROUPS,
    )


def _spec(**changes: Any) -> NotebookJobSpec:
    values: dict[str, Any] = {
        "notebook": NOTEBOOK,
        "staged_notebook_uri": STAGED,
        "image_uri": IMAGE,
        "parameters": {"input_path": "datasets/churn/latest.csv", "group_column": "state"},
        "max_runtime_seconds": 3600,
        "studio_domain_arn": DOMAIN_ARN,
        "studio_user_profile": "alice",
    }
    values.update(changes)
    return NotebookJobSpec(**values)


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    _render.cache_clear()
    with blocked_network() as attempts:
        body = render(context=_context(), name=NAME, spec=_spec())
    assert attempts == []
    return load(body)


def _step(definition: dict[str, Any]) -> dict[str, Any]:
    (step,) = definition["Steps"]
    arguments: dict[str, Any] = step["Arguments"]
    return arguments


def test_renders_offline_twice_byte_identical() -> None:
    _render.cache_clear()
    with blocked_network() as attempts:
        first = render(context=_context(), name=NAME, spec=_spec())
        second = sdk.definition(get_pipeline(context=_context(), name=NAME, spec=_spec()))
    assert attempts == []
    assert first == second


def test_a_fresh_interpreter_renders_the_same_bytes_with_the_network_blocked(
    rendered: dict[str, Any],
) -> None:
    """Another process (another timestamp, another hash seed): the same body, no connection attempted."""
    script = (
        SUBPROCESS_BLOCKER
        + f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from pipeline_defs import RenderContext
from pipeline_defs.notebook_job import NotebookJobSpec, render
context = RenderContext(region={REGION!r}, role_arn={ROLE_ARN!r}, bucket={BUCKET!r},
    data_bucket={DATA_BUCKET!r}, kms_key_id={KMS_KEY!r}, subnet_ids={list(SUBNETS)!r},
    security_group_ids={list(SECURITY_GROUPS)!r})
spec = NotebookJobSpec(notebook=Path({str(NOTEBOOK)!r}), staged_notebook_uri={STAGED!r}, image_uri={IMAGE!r},
    parameters={{"input_path": "datasets/churn/latest.csv", "group_column": "state"}},
    max_runtime_seconds=3600, studio_domain_arn={DOMAIN_ARN!r}, studio_user_profile="alice")
sys.stdout.write(render(context=context, name={NAME!r}, spec=spec))
"""
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == "ATTEMPTS []"
    _render.cache_clear()
    assert result.stdout == render(context=_context(), name=NAME, spec=_spec())


def test_one_training_step_run_by_the_notebook_scheduler_on_the_staged_notebook(
    rendered: dict[str, Any],
) -> None:
    (step,) = rendered["Steps"]
    assert (step["Name"], step["Type"]) == (STEP_NAME, "Training")
    arguments = _step(rendered)
    assert arguments["AlgorithmSpecification"] == {
        "TrainingImage": IMAGE,
        "TrainingInputMode": "File",
        "ContainerEntrypoint": ["amazon_sagemaker_scheduler"],
    }
    (channel,) = arguments["InputDataConfig"]
    assert channel["ChannelName"] == "sagemaker_headless_execution_pipelinestep"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == STAGED
    environment = arguments["Environment"]
    assert environment["SM_INPUT_NOTEBOOK_NAME"] == "0123abcd.ipynb"  # the asset's file name in the job
    assert environment["SM_OUTPUT_NOTEBOOK_NAME"] == "churn-report-notebook.ipynb"
    assert environment["SM_KERNEL_NAME"] == "python3"
    assert (
        environment["SM_EXECUTION_INPUT_PATH"]
        == "/opt/ml/input/data/sagemaker_headless_execution_pipelinestep"
    )
    assert environment[DATA_BUCKET_VARIABLE] == DATA_BUCKET
    assert environment[ARTIFACT_BUCKET_VARIABLE] == BUCKET
    assert arguments["TrainingJobName"] == "churn-report-notebook"
    assert arguments["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_the_executed_notebook_goes_to_the_artifact_bucket_per_execution_under_the_data_key(
    rendered: dict[str, Any],
) -> None:
    output = _step(rendered)["OutputDataConfig"]
    assert output["KmsKeyId"] == KMS_KEY
    assert output["S3OutputPath"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                f"s3://{BUCKET}/notebook-jobs",
                NAME,
                {"Get": "Execution.PipelineExecutionId"},
                STEP_NAME,
            ],
        }
    }


def test_network_and_keys_come_from_the_context(rendered: dict[str, Any]) -> None:
    arguments = _step(rendered)
    assert arguments["VpcConfig"] == {"Subnets": list(SUBNETS), "SecurityGroupIds": list(SECURITY_GROUPS)}
    assert arguments["ResourceConfig"]["VolumeKmsKeyId"] == KMS_KEY
    assert arguments["EnableInterContainerTrafficEncryption"] is True


def test_parameters_are_pipeline_parameters_passed_to_the_notebook(rendered: dict[str, Any]) -> None:
    assert rendered["Parameters"] == [
        {"Name": "group_column", "Type": "String", "DefaultValue": "state"},
        {"Name": "input_path", "Type": "String", "DefaultValue": "datasets/churn/latest.csv"},
    ]
    assert _step(rendered)["HyperParameters"] == {
        "group_column": {"Get": "Parameters.group_column"},
        "input_path": {"Get": "Parameters.input_path"},
    }


def test_tags_for_studio_notebook_jobs_view(rendered: dict[str, Any]) -> None:
    tags = {tag["Key"]: tag["Value"] for tag in _step(rendered)["Tags"]}
    assert tags == {
        DOMAIN_TAG: DOMAIN_ARN,
        USER_PROFILE_TAG: "alice",
        "sagemaker:name": "churn-report-notebook",
        "sagemaker:notebook-name": "churn-report.ipynb",
        "sagemaker:notebook-job-origin": "PIPELINE_STEP",
        "sagemaker:is-studio-archived": "false",
    }


def test_without_a_studio_view_only_the_sdk_tags(rendered: dict[str, Any]) -> None:
    _render.cache_clear()
    body = load(
        render(context=_context(), name=NAME, spec=_spec(studio_domain_arn=None, studio_user_profile=None))
    )
    keys = {tag["Key"] for tag in _step(body)["Tags"]}
    assert DOMAIN_TAG not in keys and USER_PROFILE_TAG not in keys
    assert "sagemaker:notebook-job-origin" in keys


def test_the_request_is_the_sdks_own_but_for_the_staged_input(rendered: dict[str, Any]) -> None:
    """The SDK's NotebookJobStep, with its upload and its timestamp patched out (as its own unit tests do),
    renders the same request except the input channel (its upload location) and the input notebook's name
    (the repository file's, where ours is the asset's)."""
    # The SDK (about 2.5 s to import) only here: every test worker imports this module to collect it.
    from sagemaker.s3 import S3Uploader  # noqa: PLC0415
    from sagemaker.workflow import notebook_job_step  # noqa: PLC0415
    from sagemaker.workflow.notebook_job_step import NotebookJobStep  # noqa: PLC0415

    context = _context()
    session = sdk.pipeline_session(region=REGION, bucket=BUCKET)
    parameters = [
        sdk.ParameterString(name="group_column", default_value="state"),
        sdk.ParameterString(name="input_path", default_value="datasets/churn/latest.csv"),
    ]
    uploads: list[tuple[Any, ...]] = []
    with (
        sdk.offline(),
        blocked_network() as attempts,
        mock.patch.object(S3Uploader, "upload", lambda *args: uploads.append(args)),
        mock.patch.object(notebook_job_step, "name_from_base", lambda base: f"{base}-fixed"),
    ):
        step_class: Any = NotebookJobStep
        step = step_class(
            name=STEP_NAME,
            notebook_job_name="churn-report-notebook",
            input_notebook=str(NOTEBOOK),
            image_uri=IMAGE,
            kernel_name="python3",
            role=ROLE_ARN,
            s3_root_uri=f"s3://{BUCKET}/notebook-jobs",
            parameters={parameter.name: parameter for parameter in parameters},
            environment_variables={DATA_BUCKET_VARIABLE: DATA_BUCKET, ARTIFACT_BUCKET_VARIABLE: BUCKET},
            s3_kms_key=KMS_KEY,
            volume_kms_key=KMS_KEY,
            instance_type="ml.m5.large",
            volume_size=30,
            subnets=list(context.subnet_ids),
            security_group_ids=list(context.security_group_ids),
            max_runtime_in_seconds=3600,
            tags=[{"Key": DOMAIN_TAG, "Value": DOMAIN_ARN}, {"Key": USER_PROFILE_TAG, "Value": "alice"}],
        )
        sdk_body = load(
            sdk.definition(sdk.new_pipeline(name=NAME, parameters=parameters, steps=[step], session=session))
        )
    assert attempts == []
    assert len(uploads) == 1  # the SDK's step uploads the notebook while rendering; ours does not
    sdk_arguments = _step(sdk_body)
    assert sdk_arguments["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
        f"s3://{BUCKET}/notebook-jobs/{NAME}/{STEP_NAME}/input-fixed"
    )
    assert sdk_arguments["Environment"]["SM_INPUT_NOTEBOOK_NAME"] == "churn-report.ipynb"
    ours = copy.deepcopy(rendered)
    _step(ours)["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = sdk_arguments[
        "InputDataConfig"
    ][0]["DataSource"]["S3DataSource"]["S3Uri"]
    _step(ours)["Environment"]["SM_INPUT_NOTEBOOK_NAME"] = "churn-report.ipynb"
    assert json.dumps(ours, sort_keys=True) == json.dumps(sdk_body, sort_keys=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"staged_notebook_uri": "notebooks/churn-report.ipynb"}, "not the s3:// URI of a notebook"),
        ({"staged_notebook_uri": "s3://bucket/0123abcd.py"}, "not the s3:// URI of a notebook"),
        ({"studio_domain_arn": None}, "studio_user_profile needs studio_domain_arn"),
        ({"notebook": Path("notebooks/missing.ipynb")}, "is not a file"),
    ],
)
def test_bad_specs_are_refused(changes: dict[str, Any], message: str) -> None:
    _render.cache_clear()
    with pytest.raises(ValueError, match=message):
        render(context=_context(), name=NAME, spec=_spec(**changes))


def test_a_pipeline_name_must_start_with_a_letter() -> None:
    with pytest.raises(ValueError, match="must start with a letter"):
        get_pipeline(context=_context(), name="2-report", spec=_spec())


FILES = "s3://__CODE_BUCKET__/4567cdef.zip"
UNPACK = "s3://__CODE_BUCKET__/89abef01.sh"


def test_the_notebooks_files_come_in_two_channels_with_the_script_that_unpacks_them_next_to_it(
    rendered: dict[str, Any],
) -> None:
    """The SDK uploads `additional_dependencies` into the notebook's input folder; ours are the folder's zip
    and the unpack script, each a channel of its own, the script the scheduler's init script (sourced in
    the notebook's folder, so its path climbs to the script's channel)."""
    _render.cache_clear()
    with blocked_network() as attempts:
        spec = _spec(staged_files_uri=FILES, staged_unpack_script_uri=UNPACK)
        first = render(context=_context(), name=NAME, spec=spec)
        second = sdk.definition(get_pipeline(context=_context(), name=NAME, spec=spec))
    assert attempts == []
    assert first == second
    arguments = _step(load(first))
    channels = {
        channel["ChannelName"]: channel["DataSource"]["S3DataSource"]
        for channel in arguments["InputDataConfig"]
    }
    assert list(channels) == [
        "sagemaker_headless_execution_pipelinestep",
        "notebook_files",
        "notebook_files_init",
    ]
    assert channels["sagemaker_headless_execution_pipelinestep"]["S3Uri"] == STAGED
    for name, uri in (("notebook_files", FILES), ("notebook_files_init", UNPACK)):
        assert channels[name] == {
            "S3DataType": "S3Prefix",
            "S3Uri": uri,
            "S3DataDistributionType": "FullyReplicated",
        }
    environment = arguments["Environment"]
    assert environment["SM_INIT_SCRIPT"] == "../notebook_files_init/89abef01.sh"
    assert environment["PLATFORM_NOTEBOOK_FILES_ARCHIVE"] == "../notebook_files/4567cdef.zip"
    # Nothing else changes.
    without = copy.deepcopy(arguments)
    without["InputDataConfig"] = without["InputDataConfig"][:1]
    del without["Environment"]["SM_INIT_SCRIPT"], without["Environment"]["PLATFORM_NOTEBOOK_FILES_ARCHIVE"]
    assert json.dumps(without, sort_keys=True) == json.dumps(_step(rendered), sort_keys=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"staged_files_uri": FILES}, "go together"),
        ({"staged_unpack_script_uri": UNPACK}, "go together"),
        ({"staged_files_uri": "s3://bucket/4567cdef.tar.gz", "staged_unpack_script_uri": UNPACK}, "a .zip"),
        ({"staged_files_uri": FILES, "staged_unpack_script_uri": "unpack.sh"}, "a .sh"),
    ],
)
def test_bad_staged_files_are_refused(changes: dict[str, Any], message: str) -> None:
    _render.cache_clear()
    with pytest.raises(ValueError, match=message):
        render(context=_context(), name=NAME, spec=_spec(**changes))
