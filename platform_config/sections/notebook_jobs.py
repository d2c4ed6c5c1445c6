"""`notebook_jobs`: notebooks from notebooks/, run with parameters as pipelines of one notebook job."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from pydantic import Field, StrictInt, StrictStr, field_validator, model_validator

from platform_config.problems import FieldError
from platform_config.sections.pipelines import MAX_PIPELINE_NAME_LENGTH, pipeline_name
from platform_config.sections.shared import INSTANCE_TYPE_PATTERN, FrozenModel, ScheduleExpression

# Scheduled notebooks live in this folder of the repository; the configuration names them relative to it.
NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
# SageMaker Distribution image versions are tags such as 3.0.0 or 2.6-cpu.
DISTRIBUTION_VERSION_PATTERN = re.compile(r"\d+(\.\d+){0,2}(-(cpu|gpu))?")
# Papermill injects parameters as Python assignments; SageMaker pipeline parameter names allow the same.
NOTEBOOK_PARAMETER_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
KERNEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# What in a notebook's folder stays behind (glob patterns on names): hidden files, Python and Jupyter caches.
NOTEBOOK_FOLDER_EXCLUDED = (".*", "__pycache__", ".ipynb_checkpoints")


class NotebookImageConfig(FrozenModel):
    """What the notebook runs in: a SageMaker Distribution version, or one of the platform's Studio images
    (a repository under images.repositories with a studio_image, whose kernel `kernel_name` is registered)."""

    sagemaker_distribution: StrictStr | None = Field(
        default=None, description="A SageMaker Distribution image version, e.g. 3.0.0 (CPU) or 3.0.0-gpu"
    )
    studio_image: StrictStr | None = Field(
        default=None, description="A repository of images.repositories that has a studio_image"
    )
    kernel_name: StrictStr = Field(default="python3", description="A kernel registered in the image")

    @model_validator(mode="after")
    def _one_image(self) -> NotebookImageConfig:
        if (self.sagemaker_distribution is None) == (self.studio_image is None):
            raise FieldError(
                "has both or neither of sagemaker_distribution and studio_image",
                "set exactly one of sagemaker_distribution (a version such as 3.0.0) or studio_image (a "
                "repository of images.repositories with a studio_image)",
            )
        if self.sagemaker_distribution is not None and not DISTRIBUTION_VERSION_PATTERN.fullmatch(
            self.sagemaker_distribution
        ):
            raise FieldError(
                f"'{self.sagemaker_distribution}' is not an image version",
                "give one such as 3.0.0, 3.0 or 3.0.0-gpu",
                at="sagemaker_distribution",
            )
        if not KERNEL_NAME_PATTERN.fullmatch(self.kernel_name):
            raise FieldError(
                f"'{self.kernel_name}' is not a kernel name", "give one such as python3", at="kernel_name"
            )
        return self


class NotebookStudioViewConfig(FrozenModel):
    """Where Studio's notebook-jobs view shows the job: the whole domain, or one user profile in it."""

    domain: StrictStr = Field(description="A domain of studio.domains")
    user_profile: StrictStr | None = Field(
        default=None, description="A user of that domain; None: every user and space of the domain"
    )


class NotebookJobRoleConfig(FrozenModel):
    """A Studio persona's execution role in one domain, for a notebook job that should run with what that
    persona may do (its instance types, its scratch prefix for output) instead of the environment's
    notebook job role."""

    persona: StrictStr = Field(description="A persona of studio.personas used in `domain`")
    domain: StrictStr = Field(description="A domain of studio.domains: persona roles are per domain")


class NotebookJobConfig(FrozenModel):
    """A notebook from `notebooks/`, run with parameters as a SageMaker pipeline of one notebook job (a
    training job started by the notebook scheduler's entry point), on a schedule and on demand."""

    name: StrictStr = Field(
        min_length=1, max_length=MAX_PIPELINE_NAME_LENGTH, description="The pipeline's name"
    )
    description: StrictStr = Field(default="", max_length=3072)
    notebook: StrictStr = Field(description="The .ipynb file, relative to the repository's notebooks/ folder")
    image: NotebookImageConfig
    instance_type: StrictStr = "ml.m5.large"
    parameters: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        description="Papermill parameters (strings); each is also a pipeline parameter a run may override",
    )
    schedule: ScheduleExpression | None = Field(
        default=None, description="rate(...) or cron(...) (EventBridge)"
    )
    max_runtime_minutes: StrictInt = Field(default=120, ge=1, le=2 * 24 * 60)
    volume_size_gb: StrictInt = Field(default=30, ge=1, le=512)
    studio_view: NotebookStudioViewConfig | None = Field(
        default=None, description="Tag the job so that Studio's notebook-jobs view lists it"
    )
    run_as: NotebookJobRoleConfig | None = Field(
        default=None,
        description="The role the pipeline and its job run as: None for the environment's notebook job role "
        "(<env>-sagemaker-platform-notebook-jobs), or a persona's execution role in a domain",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return pipeline_name(value, jobs="the job is named <name>-notebook")

    @field_validator("notebook")
    @classmethod
    def _notebook(cls, value: str) -> str:
        relative = Path(value)
        if relative.is_absolute() or ".." in relative.parts or relative.suffix != ".ipynb":
            raise FieldError(
                f"'{value}' is not a notebook path relative to notebooks/",
                "give one without '..' or a leading '/', ending in .ipynb, e.g. report/report.ipynb",
            )
        if not (NOTEBOOKS_DIR / relative).is_file():
            raise FieldError(
                f"notebook '{value}' not found (looked for {NOTEBOOKS_DIR / relative})",
                "add the notebook there or fix the path",
            )
        return value

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        if not INSTANCE_TYPE_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a SageMaker training instance type", "use one such as ml.m5.large"
            )
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(name for name in value if not NOTEBOOK_PARAMETER_PATTERN.fullmatch(name))
        if bad:
            raise FieldError(
                f"parameter names {', '.join(bad)} are not Python identifiers, and papermill assigns them as "
                "variables",
                "use letters, digits and _, not starting with a digit, at most 64",
            )
        return value

    @property
    def notebook_path(self) -> Path:
        return NOTEBOOKS_DIR / self.notebook

    @property
    def notebook_files_excluded(self) -> tuple[str, ...]:
        """Glob patterns (matched against each name, as CDK's asset exclusion does) of what in the notebook's
        folder does not ship next to it: the notebook itself (its own asset), hidden files, caches."""
        return (self.notebook_path.name, *NOTEBOOK_FOLDER_EXCLUDED)

    @property
    def notebook_files(self) -> tuple[Path, ...]:
        """The files that ship next to the notebook, sorted: the rest of its folder when the notebook has a
        folder of its own under notebooks/ (a notebook directly in notebooks/ ships alone)."""
        folder = self.notebook_path.parent
        if folder == NOTEBOOKS_DIR:
            return ()
        excluded = self.notebook_files_excluded
        return tuple(
            sorted(
                path
                for path in folder.rglob("*")
                if path.is_file()
                and not any(
                    fnmatch.fnmatchcase(part, pattern)
                    for part in path.relative_to(folder).parts
                    for pattern in excluded
                )
            )
        )
