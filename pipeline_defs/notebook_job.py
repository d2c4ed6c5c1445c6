"""A scheduled notebook as a SageMaker pipeline of one step: a notebook job, in the request shape the SDK's
`NotebookJobStep` renders (a training job whose entry point is the notebook scheduler,
`amazon_sagemaker_scheduler`, on an image with the headless execution driver).

```
Notebook (Training: the notebook scheduler runs the notebook with its parameters)
```

Unlike the SDK's step, nothing is uploaded while the definition is rendered: the notebook is a
content-hashed asset the stack ships (`NotebookJobSpec.staged_notebook_uri`, `s3://<assets>/<sha256>.ipynb`),
the job's input channel is that object, and the scheduler finds the notebook under the asset's file
name. So two renders are byte-identical and need no network.

The other files of the notebook's folder (the SDK's `additional_dependencies`, which it uploads into the
notebook's input folder) ship as the folder's content-hashed zip asset in a channel of its own, with
`UNPACK_SCRIPT` (an asset too) in another; the scheduler sources it as the init script in the notebook's
folder before papermill runs, and it unpacks the zip there. No copy at deploy time.

- Parameters: each configured parameter is a pipeline parameter (its configured value the default), passed
  to the notebook as papermill parameters (the job's hyperparameters); a run may override any of them.
- Output: the executed notebook, with its outputs, in the training job's output archive under
  `s3://<bucket>/<output prefix>/<pipeline>/<execution id>/Notebook/<job name>/output/`, encrypted with the
  context's key (the prefix `notebook-jobs`, or a persona's `<scratch prefix>/notebook-jobs`).
- Network and keys from the context like every job: the VPC's subnets and security group, the data key
  on the volume and the output, traffic between containers encrypted.
- Tags: the SDK's notebook-job tags (`sagemaker:name`, `sagemaker:notebook-name`,
  `sagemaker:notebook-job-origin`, `sagemaker:is-studio-archived`) and, with a Studio view, the domain's
  ARN (`sagemaker:domain-arn`) and a user profile (`sagemaker:user-profile-name`), which is how Studio's
  notebook-jobs view finds jobs started by pipelines.
- Environment: the SDK's (`SM_KERNEL_NAME`, `SM_INPUT_NOTEBOOK_NAME`, ...) and `PLATFORM_DATA_BUCKET`,
  `PLATFORM_ARTIFACT_BUCKET`: where the notebook reads its data and may write more.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from pipeline_defs import _sdk, render_cache
from pipeline_defs._naming import check_pipeline_name, job_prefix
from pipeline_defs.context import RenderContext

STEP_NAME: Final = "Notebook"
OUTPUT_PREFIX: Final = "notebook-jobs"
# The tags the Studio notebook-jobs view reads to list a job started by a pipeline (besides the SDK's own).
DOMAIN_TAG: Final = "sagemaker:domain-arn"
USER_PROFILE_TAG: Final = "sagemaker:user-profile-name"
DATA_BUCKET_VARIABLE: Final = "PLATFORM_DATA_BUCKET"
# Sourced in the job before the notebook runs: unpacks the files shipped next to the notebook.
UNPACK_SCRIPT: Final = Path(__file__).resolve().parent / "notebook_files" / "unpack.sh"
ARTIFACT_BUCKET_VARIABLE: Final = "PLATFORM_ARTIFACT_BUCKET"


@dataclass(frozen=True)
class NotebookJobSpec:
    """One scheduled notebook: the repository file, its staged asset, and how it runs.

    `staged_notebook_uri` is the s3:// URI of the notebook's asset (its key the content hash); the stack
    renders with a placeholder bucket and the real key. `studio_domain_arn` may be a placeholder.
    """

    notebook: Path
    staged_notebook_uri: str
    image_uri: str
    kernel_name: str = "python3"
    instance_type: str = "ml.m5.large"
    parameters: Mapping[str, str] = field(default_factory=dict)
    max_runtime_seconds: int = 2 * 60 * 60
    volume_size_gb: int = 30
    studio_domain_arn: str | None = None
    studio_user_profile: str | None = None
    description: str | None = None
    # Under the artifact bucket: where the job writes (a persona's role writes only its scratch prefix).
    output_prefix: str = OUTPUT_PREFIX
    # The files next to the notebook (its folder's zip asset, s3://<assets>/<sha256>.zip) and the script
    # that unpacks them next to it in the job (UNPACK_SCRIPT's asset); None: the folder is the notebook.
    staged_files_uri: str | None = None
    staged_unpack_script_uri: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(sorted(self.parameters.items()))))
        if self.studio_user_profile is not None and self.studio_domain_arn is None:
            raise ValueError("studio_user_profile needs studio_domain_arn: a user profile is in a domain")
        if not self.notebook.is_file():
            raise ValueError(f"notebook {self.notebook} is not a file")
        if (self.staged_files_uri is None) != (self.staged_unpack_script_uri is None):
            raise ValueError("staged_files_uri and staged_unpack_script_uri go together")

    def cache_key(self) -> tuple[object, ...]:
        return (
            str(self.notebook),
            self.staged_notebook_uri,
            self.image_uri,
            self.kernel_name,
            self.instance_type,
            tuple(self.parameters.items()),
            self.max_runtime_seconds,
            self.volume_size_gb,
            self.studio_domain_arn,
            self.studio_user_profile,
            self.description,
            self.output_prefix,
            self.staged_files_uri,
            self.staged_unpack_script_uri,
        )

    def __hash__(self) -> int:
        return hash(self.cache_key())


def get_pipeline(*, context: RenderContext, name: str, spec: NotebookJobSpec) -> _sdk.Pipeline:
    """The notebook job pipeline `name` for `context`. Pure: no AWS calls, no uploads."""
    with _sdk.offline():  # the SDK creates boto3 clients while it builds jobs
        return _build(context=context, name=name, spec=spec)


def _build(*, context: RenderContext, name: str, spec: NotebookJobSpec) -> _sdk.Pipeline:
    check_pipeline_name(name)
    if not name[0].isalpha():
        # The SDK's notebook job names start with a letter.
        raise ValueError(f"notebook job pipeline name {name!r} must start with a letter")
    session = _sdk.pipeline_session(region=context.region, bucket=context.bucket)
    parameters = [
        _sdk.ParameterString(name=parameter, default_value=value)
        for parameter, value in spec.parameters.items()
    ]
    tags = []
    if spec.studio_domain_arn is not None:
        tags.append({"Key": DOMAIN_TAG, "Value": spec.studio_domain_arn})
    if spec.studio_user_profile is not None:
        tags.append({"Key": USER_PROFILE_TAG, "Value": spec.studio_user_profile})
    step = _sdk.staged_notebook_job_step(
        name=STEP_NAME,
        description=spec.description,
        notebook_job_name=job_prefix(name, "notebook"),
        local_notebook=str(spec.notebook),
        staged_input_uri=spec.staged_notebook_uri,
        image_uri=spec.image_uri,
        kernel_name=spec.kernel_name,
        role=context.role_arn,
        s3_root_uri=f"s3://{context.bucket}/{spec.output_prefix.strip('/')}",
        instance_type=spec.instance_type,
        volume_size_gb=spec.volume_size_gb,
        max_runtime_seconds=spec.max_runtime_seconds,
        parameters={parameter.name: parameter for parameter in parameters},
        environment_variables={
            DATA_BUCKET_VARIABLE: context.input_bucket,
            ARTIFACT_BUCKET_VARIABLE: context.bucket,
        },
        tags=tags,
        kms_key_id=context.kms_key_id,
        subnet_ids=context.subnet_ids,
        security_group_ids=context.security_group_ids,
        staged_files=_sdk.StagedNotebookFiles(
            archive_uri=spec.staged_files_uri, script_uri=spec.staged_unpack_script_uri
        )
        if spec.staged_files_uri is not None and spec.staged_unpack_script_uri is not None
        else None,
    )
    return _sdk.new_pipeline(name=name, parameters=parameters, steps=[step], session=session)


def render(*, context: RenderContext, name: str, spec: NotebookJobSpec) -> str:
    """The definition JSON of notebook job pipeline `name`: deterministic, offline, cached per process."""
    return _render(context, name, spec)


def render_cached(*, context: RenderContext, name: str, spec: NotebookJobSpec) -> str:
    """`render`, through the on-disk cache (`render_cache`): byte-identical, what synth calls. The key
    holds the notebook's content as well as its path (the SDK reads the file)."""
    notebook = hashlib.sha256(spec.notebook.read_bytes()).hexdigest()
    return render_cache.cached(
        f"notebook\0{name}\0{notebook}\0{spec.cache_key()!r}\0{context.cache_key()}",
        lambda: _render(context, name, spec),
    )


@functools.cache
def _render(context: RenderContext, name: str, spec: NotebookJobSpec) -> str:
    return _sdk.definition(get_pipeline(context=context, name=name, spec=spec))
