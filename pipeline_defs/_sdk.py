"""The adapter to the SageMaker Python SDK: every `sagemaker` import and every offline guard lives here.

The DAG modules build their pipelines from what this module exports and never import `sagemaker` themselves,
so a move between SDK major versions (v2 `sagemaker.workflow` -> v3 `sagemaker.mlops.workflow`) starts and
mostly ends in this file. The guards (ADR 0009) keep a render offline and independent of the machine:

- `AWS_EC2_METADATA_DISABLED` before the SDK is imported: boto3's credential chain must not probe the EC2
  metadata address.
- The SDK's defaults files (admin and user) point at an empty file shipped beside this module, so no
  `config.yaml` on a laptop or build host can inject VPC settings, tags or S3 prefixes into definitions.
- While the SDK is imported and while pipelines are built and rendered (`offline()`), the AWS environment is
  inert: static dummy credentials, no profile, no config or credentials file, no container or web-identity
  credentials. Importing the SDK and constructing an `Estimator` create boto3 clients through the default
  credential chain, which would otherwise fetch container credentials over HTTP (CodeBuild, ECS), run a
  profile's `credential_process`, or fail on an unknown `AWS_PROFILE`. Afterwards the process gets its own
  environment, boto3 default session and root logger back. The pipeline session's boto3 session reads no
  profile or files either and carries the same dummy credentials: a call that slipped through would fail
  rather than act as whoever runs the render.
- `PipelineSession` gets the region and the default bucket, and its private `_default_bucket` is set as
  well, because `default_bucket()` otherwise calls sts:GetCallerIdentity and S3 even when a bucket is given.
- Telemetry, which `Estimator.fit` and friends send under a pipeline session, is stubbed.
- Callers pass s3:// URIs for code and explicit s3:// destinations for every output, so nothing uploads;
  pipelines are built with `PipelineExperimentConfig` None (its default depends on the region) and custom
  job prefixes kept (explicit, timestamp-free job names).

Importing this module sets the first three variables above for the whole process (and silences the SDK's
INFO logging and two expected warnings); it takes about two seconds.
The pin in requirements.txt is exact because two of the guards touch private attributes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

# boto3 and botocore themselves read nothing on import; the SDK below does.
import boto3
import botocore.session

EMPTY_SDK_CONFIG: Final = Path(__file__).resolve().parent / "sagemaker_config_empty.yaml"

# Credentials that sign nothing real: the render never calls AWS, and must not act as whoever runs it.
_INERT_ACCESS_KEY: Final = "OFFLINE-RENDER"
_INERT_SECRET_KEY: Final = "offline-render-never-calls-aws"

# For the whole process, before the SDK is imported.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["SAGEMAKER_ADMIN_CONFIG_OVERRIDE"] = str(EMPTY_SDK_CONFIG)
os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = str(EMPTY_SDK_CONFIG)
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

# Only while the SDK is imported and while a pipeline is built and rendered. Importing the SDK creates a
# session (JumpStart's default) and `Estimator()` a client of boto3's default session, both through boto3's
# credential chain: that fetches container credentials over HTTP where CodeBuild or ECS set
# AWS_CONTAINER_CREDENTIALS_*, runs a profile's credential_process, and fails on an unknown AWS_PROFILE.
# Static credentials in the environment end the chain at its first provider.
_OFFLINE_ENVIRONMENT: Final = {
    "AWS_ACCESS_KEY_ID": _INERT_ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": _INERT_SECRET_KEY,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_OFFLINE_UNSET: Final = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


class _ExpectedNotices(logging.Filter):
    """Drops the SDK's warnings about what this package does on purpose; every other record passes."""

    EXPECTED: Final = (
        # SKLearnProcessor picks its image with the ProcessingInstanceType parameter's default (a CPU type).
        "The input argument instance_type of function (sagemaker.image_uris.retrieve) is a pipeline variable",
        # Model registration: the service sets this field at execution time.
        "Popping out 'CertifyForMarketplace'",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.EXPECTED)


def _quiet_sdk_logging() -> None:
    """The SDK's INFO lines (defaults files not applied, the telemetry notice, image defaults) describe what
    the guards arrange. Its config logger would print them on stdout, which carries the definition JSON in
    `python -m pipeline_defs render`: with a level and a handler set first, the SDK leaves it alone and its
    warnings go where the process sends warnings."""
    config_logger = logging.getLogger("sagemaker.config")
    config_logger.setLevel(logging.WARNING)
    config_logger.addHandler(logging.NullHandler())
    logging.getLogger("sagemaker").setLevel(logging.WARNING)
    for name in ("sagemaker.workflow.utilities", "sagemaker.workflow._utils"):
        logging.getLogger(name).addFilter(_ExpectedNotices())


_quiet_sdk_logging()


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """The inert AWS environment above for the duration; afterwards the process gets back its own
    environment, its own boto3 default session (the SDK may create one) and its own root logger (one SDK
    module calls logging.basicConfig(level=INFO) on import). Not thread-safe, like os.environ itself."""
    saved_environment = {key: os.environ.get(key) for key in (*_OFFLINE_ENVIRONMENT, *_OFFLINE_UNSET)}
    root = logging.getLogger()
    root_handlers, root_level = list(root.handlers), root.level
    saved_default_session = boto3.DEFAULT_SESSION
    for key in _OFFLINE_UNSET:
        os.environ.pop(key, None)
    os.environ.update(_OFFLINE_ENVIRONMENT)
    try:
        with warnings.catch_warnings():
            # Every job function under a PipelineSession says so; that is the point of one.
            warnings.filterwarnings("ignore", "Running within a PipelineSession", UserWarning)
            # ModelStep (the recommended API) builds the deprecated CreateModelStep itself.
            warnings.filterwarnings(
                "ignore", "We are deprecating the use of CreateModelStep", DeprecationWarning
            )
            yield
    finally:
        for key, value in saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        root.handlers[:] = root_handlers
        root.setLevel(root_level)
        boto3.DEFAULT_SESSION = saved_default_session


with offline():
    from sagemaker import image_uris
    from sagemaker.drift_check_baselines import DriftCheckBaselines
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.model import Model
    from sagemaker.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.model_monitor.dataset_format import DatasetFormat
    from sagemaker.network import NetworkConfig
    from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
    from sagemaker.sklearn.processing import SKLearnProcessor
    from sagemaker.telemetry import telemetry_logging
    from sagemaker.transformer import Transformer
    from sagemaker.workflow.check_job_config import CheckJobConfig
    from sagemaker.workflow.condition_step import ConditionStep
    from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.workflow.entities import PipelineVariable
    from sagemaker.workflow.execution_variables import ExecutionVariables
    from sagemaker.workflow.fail_step import FailStep
    from sagemaker.workflow.functions import Join, JsonGet
    from sagemaker.workflow.model_step import ModelStep
    from sagemaker.workflow.notebook_job_step import NotebookJobStep
    from sagemaker.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.pipeline_definition_config import PipelineDefinitionConfig
    from sagemaker.workflow.properties import PropertyFile
    from sagemaker.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep
    from sagemaker.workflow.step_collections import StepCollection
    from sagemaker.workflow.steps import CacheConfig, ProcessingStep, Step, TrainingStep, TransformStep

__all__ = [
    "EXECUTION_ARN",
    "EXECUTION_ID",
    "CacheConfig",
    "CheckJobConfig",
    "ConditionStep",
    "DataQualityCheckConfig",
    "DriftCheckBaselines",
    "Estimator",
    "FailStep",
    "Join",
    "JsonGet",
    "MetricsSource",
    "Model",
    "ModelMetrics",
    "ModelStep",
    "NetworkConfig",
    "NotebookJobStep",
    "ParameterFloat",
    "ParameterString",
    "Pipeline",
    "PipelineSession",
    "PipelineVariable",
    "ProcessingInput",
    "ProcessingOutput",
    "ProcessingStep",
    "PropertyFile",
    "QualityCheckStep",
    "SKLearnProcessor",
    "ScriptProcessor",
    "Step",
    "StepCollection",
    "TrainingInput",
    "TrainingStep",
    "TransformStep",
    "Transformer",
    "cache_config",
    "check_job_config",
    "csv_without_header",
    "definition",
    "greater_than_or_equal",
    "image_uri",
    "network_config",
    "new_pipeline",
    "offline",
    "pipeline_session",
    "s3_uri",
    "staged_notebook_job_step",
]

# Where the execution id goes in output paths: each execution writes under its own prefix.
EXECUTION_ID: Final = ExecutionVariables.PIPELINE_EXECUTION_ID
EXECUTION_ARN: Final = ExecutionVariables.PIPELINE_EXECUTION_ARN


def _no_telemetry(*_args: object, **_kwargs: object) -> None:
    """Replaces the SDK's telemetry request (sts:GetCallerIdentity plus an HTTPS GET per job function)."""


# The documented opt-out (TelemetryOptOut in the defaults file) re-validates the config on every lookup
# and adds seconds per render; replacing the sender is cheap and leaves the decorated functions alone.
telemetry_logging._send_telemetry_request = _no_telemetry


def _offline_boto_session(region: str) -> boto3.Session:
    """A boto3 session for `region` that reads no profile, no AWS config or credentials file, no
    environment credentials and no metadata service."""
    isolated = botocore.session.Session(
        session_vars={
            # (config file key, environment variable, default, conversion): no env var, fixed default.
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    return boto3.Session(
        botocore_session=isolated,
        region_name=region,
        aws_access_key_id=_INERT_ACCESS_KEY,
        aws_secret_access_key=_INERT_SECRET_KEY,
    )


@functools.cache
def pipeline_session(*, region: str, bucket: str) -> PipelineSession:
    """The shared pipeline session for a region and artifact bucket (creating one costs about 0.3 s)."""
    session = PipelineSession(boto_session=_offline_boto_session(region), default_bucket=bucket)
    # default_bucket() checks (sts, s3) that the bucket exists unless this private attribute is set. (Through
    # vars(): the SDK declares the attribute's type as None.)
    vars(session)["_default_bucket"] = bucket
    return session


def image_uri(*, framework: str, version: str, region: str) -> str:
    """A prebuilt SageMaker image, looked up in the SDK's bundled tables (no network)."""
    return str(image_uris.retrieve(framework=framework, region=region, version=version))


def s3_uri(bucket: str | PipelineVariable, *parts: str | PipelineVariable) -> Join:
    """`s3://bucket/part/...` as a pipeline expression: parts may be parameters or execution variables."""
    return Join(on="/", values=["s3:/", bucket, *parts])


def greater_than_or_equal(
    left: PipelineVariable, right: ParameterFloat | float
) -> ConditionGreaterThanOrEqualTo:
    """`left >= right`. The SDK's annotation of `left` omits JsonGet, which the service and the SDK's own
    examples use (a property file value compared with a parameter)."""
    operand: Any = left
    return ConditionGreaterThanOrEqualTo(left=operand, right=right)


def cache_config(expire_after: str | None) -> CacheConfig | None:
    """Step caching for `expire_after` (ISO 8601 duration), or None (no caching) when not given."""
    if expire_after is None:
        return None
    return CacheConfig(enable_caching=True, expire_after=expire_after)


def csv_without_header() -> dict[str, Any]:
    """Model Monitor's dataset format for headerless CSV: what an endpoint receives as text/csv."""
    csv: Any = DatasetFormat.csv  # the SDK leaves it unannotated
    dataset_format: dict[str, Any] = csv(header=False)
    return dataset_format


def check_job_config(
    *,
    role: str,
    instance_type: str,
    kms_key_id: str | None,
    base_job_name: str,
    session: PipelineSession,
    network: NetworkConfig | None,
) -> CheckJobConfig:
    """The job of a QualityCheckStep: one instance of `instance_type`, volume and output encrypted with
    `kms_key_id`, in the VPC of `network` (None: none). The session must be the pipeline session, or the
    SDK would create one of its own (and look up a region and credentials)."""
    config_class: Any = CheckJobConfig  # the SDK leaves its constructor unannotated
    config: CheckJobConfig = config_class(
        role=role,
        instance_count=1,
        instance_type=instance_type,
        volume_kms_key=kms_key_id,
        output_kms_key=kms_key_id,
        base_job_name=base_job_name,
        sagemaker_session=session,
        network_config=network,
    )
    return config


def network_config(*, subnet_ids: Sequence[str], security_group_ids: Sequence[str]) -> NetworkConfig | None:
    """Processing jobs' VPC settings, or None to run without a VPC."""
    if not subnet_ids:
        return None
    return NetworkConfig(
        subnets=list(subnet_ids),
        security_group_ids=list(security_group_ids),
        encrypt_inter_container_traffic=True,
    )


def new_pipeline(
    *,
    name: str,
    parameters: Sequence[ParameterString | ParameterFloat],
    steps: Sequence[Step | StepCollection],
    session: PipelineSession,
) -> Pipeline:
    """A pipeline whose definition does not depend on the region (no default experiment config) and keeps
    the explicit job names as prefixes (without timestamps)."""
    return Pipeline(
        name=name,
        parameters=list(parameters),
        steps=list(steps),
        sagemaker_session=session,
        pipeline_experiment_config=None,
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=True),
    )


def definition(pipeline: Pipeline) -> str:
    """The definition JSON. Offline, given the guards above and pipelines built only from s3:// URIs."""
    with offline():
        return str(pipeline.definition())


class _StagedNotebookJobStep(NotebookJobStep):
    """`NotebookJobStep` whose input is already in S3 (a content-hashed asset) instead of uploaded while
    the definition is rendered.

    The SDK's step uploads the notebook during `arguments` to `<s3 root>/<pipeline>/<step>/input-<timestamp>`
    and points the job's one input channel there: the network at synth, and a definition that differs on
    every render. Here the upload does nothing, and the channel and the notebook's file name are the
    staged asset's; everything else (entry point, channel name, environment, tags, output path) is the
    SDK's own request. Setting the two attributes after the SDK's constructor is what its own unit tests
    do in spirit (they patch the uploader and the timestamp).
    """

    _staged_input_uri: str
    _staged_notebook_name: str
    _staged_files: StagedNotebookFiles | None = None

    def _upload_job_files(
        self, s3_base_uri: object, paths_to_upload: object, kms_key: object, sagemaker_session: object
    ) -> None:
        """Nothing is uploaded at render: the notebook ships as an asset."""

    @property
    def arguments(self) -> dict[str, Any]:
        # The SDK annotates a union of request shapes; a training step's is the mapping.
        request: dict[str, Any] = cast(dict[str, Any], super().arguments)
        (channel,) = request["InputDataConfig"]
        channel["DataSource"]["S3DataSource"]["S3Uri"] = self._staged_input_uri
        request["Environment"]["SM_INPUT_NOTEBOOK_NAME"] = self._staged_notebook_name
        files = self._staged_files
        if files is not None:
            # Two more channels, the folder's archive and the script that unpacks it next to the notebook;
            # the scheduler sources SM_INIT_SCRIPT from the notebook's folder, so the path goes up to the
            # script's channel (every channel is a folder under /opt/ml/input/data/).
            for channel_name, uri in (
                (files.archive_channel, files.archive_uri),
                (files.script_channel, files.script_uri),
            ):
                request["InputDataConfig"].append(
                    {
                        "ChannelName": channel_name,
                        "DataSource": {
                            "S3DataSource": {
                                "S3DataType": "S3Prefix",
                                "S3Uri": uri,
                                "S3DataDistributionType": "FullyReplicated",
                            }
                        },
                    }
                )
            request["Environment"]["SM_INIT_SCRIPT"] = f"../{files.script_channel}/{files.script_name}"
            request["Environment"][files.archive_variable] = (
                f"../{files.archive_channel}/{files.archive_name}"
            )
        return request


@dataclass(frozen=True)
class StagedNotebookFiles:
    """The files next to a notebook, staged as two objects: the folder's archive (a zip) and the script that
    unpacks it into the notebook's folder in the job (`SM_INIT_SCRIPT`), each an s3:// URI ending in the
    object's file name, each delivered by a channel of its own."""

    archive_uri: str
    script_uri: str
    archive_channel: str = "notebook_files"
    script_channel: str = "notebook_files_init"
    archive_variable: str = "PLATFORM_NOTEBOOK_FILES_ARCHIVE"

    def __post_init__(self) -> None:
        for uri, suffix in ((self.archive_uri, ".zip"), (self.script_uri, ".sh")):
            if not uri.startswith("s3://") or not uri.endswith(suffix):
                raise ValueError(f"{uri!r} is not the s3:// URI of a {suffix} object")

    @property
    def archive_name(self) -> str:
        return self.archive_uri.rsplit("/", 1)[-1]

    @property
    def script_name(self) -> str:
        return self.script_uri.rsplit("/", 1)[-1]


def staged_notebook_job_step(
    *,
    name: str,
    notebook_job_name: str,
    local_notebook: str,
    staged_input_uri: str,
    image_uri: str,
    kernel_name: str,
    role: str,
    s3_root_uri: str,
    instance_type: str,
    volume_size_gb: int,
    max_runtime_seconds: int,
    parameters: dict[str, str | PipelineVariable],
    environment_variables: dict[str, str | PipelineVariable],
    tags: list[dict[str, str]],
    kms_key_id: str | None,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    display_name: str | None = None,
    description: str | None = None,
    staged_files: StagedNotebookFiles | None = None,
) -> NotebookJobStep:
    """A notebook job step whose notebook is the object `staged_input_uri` (an s3:// URI ending in the
    object's file name, which becomes the notebook's name in the job). `local_notebook` is the same
    notebook in the repository: the SDK checks that it exists and names its tag after it; it is not read
    or uploaded. The job's volume and output are encrypted with `kms_key_id`; with subnets it runs in them."""
    staged_name = staged_input_uri.rsplit("/", 1)[-1]
    if not staged_input_uri.startswith("s3://") or not staged_name.endswith(".ipynb"):
        raise ValueError(
            f"staged_input_uri {staged_input_uri!r} is not the s3:// URI of a notebook object "
            "(ending in <name>.ipynb)"
        )
    step_class: Any = _StagedNotebookJobStep  # the SDK's constructor is decorated, unannotated
    step: _StagedNotebookJobStep = step_class(
        name=name,
        display_name=display_name,
        description=description,
        notebook_job_name=notebook_job_name,
        input_notebook=local_notebook,
        image_uri=image_uri,
        kernel_name=kernel_name,
        role=role,
        s3_root_uri=s3_root_uri,
        parameters=dict(parameters) or None,
        environment_variables=dict(environment_variables) or None,
        s3_kms_key=kms_key_id,
        volume_kms_key=kms_key_id,
        instance_type=instance_type,
        volume_size=volume_size_gb,
        encrypt_inter_container_traffic=True,
        subnets=list(subnet_ids) or None,
        security_group_ids=list(security_group_ids) or None,
        max_retry_attempts=1,
        max_runtime_in_seconds=max_runtime_seconds,
        tags=list(tags) or None,
    )
    step._staged_input_uri = staged_input_uri
    step._staged_notebook_name = staged_name
    step._staged_files = staged_files
    return step
