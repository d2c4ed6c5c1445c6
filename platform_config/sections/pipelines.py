"""`pipelines`: SageMaker pipelines deployed from the DAGs in pipeline_defs/, and what starts their runs."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, StrictInt, StrictStr, field_validator, model_validator

from platform_config.problems import FieldError
from platform_config.sections.shared import FrozenModel, ScheduleExpression

# The DAGs pipeline_defs renders; a test checks this list against pipeline_defs.DEFINITIONS.
PipelineDefinitionName = Literal["model_build", "batch_inference"]
# SageMaker allows 256 characters; job names are `<pipeline>-<step>` within 63, hence 52 (notebook jobs
# are pipelines too, their job `<name>-notebook`).
MAX_PIPELINE_NAME_LENGTH = 52
PIPELINE_NAME_PATTERN = re.compile(rf"[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,{MAX_PIPELINE_NAME_LENGTH - 1}}}")
# The ISO 8601 durations SageMaker step caching accepts, e.g. P30D, PT12H, P1Y2M3W4DT5H6M7S (pipeline_defs'
# RenderContext checks with this one too).
ISO_DURATION_PATTERN = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")
S3_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9!_.*'()/-]{1,512}")


def pipeline_name(value: str, *, jobs: str) -> str:
    """A pipeline's name as SageMaker and the platform's job names allow it; `jobs` says how the
    pipeline's jobs are named, for the hint."""
    if not PIPELINE_NAME_PATTERN.fullmatch(value):
        raise FieldError(
            f"'{value}' is not a pipeline name",
            f"use letters, digits and hyphens, up to {MAX_PIPELINE_NAME_LENGTH} ({jobs} within 63)",
        )
    return value


class PipelineTriggerConfig(FrozenModel):
    """What starts a run besides a person: new data under a prefix of the data bucket, a schedule."""

    data_prefix: StrictStr | None = Field(
        default=None, description="A new object under this prefix of the data bucket starts a run with it"
    )
    schedule: ScheduleExpression | None = Field(
        default=None, description="rate(...) or cron(...) (EventBridge)"
    )

    @field_validator("data_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and (not S3_PREFIX_PATTERN.fullmatch(value) or value.startswith("/")):
            raise FieldError(f"'{value}' is not an S3 key prefix", "give one such as incoming/churn/")
        return value


class PipelineConfig(FrozenModel):
    """A SageMaker pipeline deployed from a DAG in pipeline_defs/."""

    name: StrictStr = Field(min_length=1, max_length=MAX_PIPELINE_NAME_LENGTH)
    definition: PipelineDefinitionName
    description: StrictStr = Field(default="", max_length=3072)
    model_package_group: StrictStr | None = Field(
        default=None, description="model_build registers into this group of the environment's registry"
    )
    max_parallel_steps: StrictInt = Field(default=4, ge=1, le=256)
    cache_expire_after: StrictStr | None = Field(
        default=None,
        description="ISO 8601 duration steps are cached for. Caching is keyed on a step's arguments, not on "
        "the data behind them: a data trigger passes the object's version, a schedule does not (refused)",
    )
    trigger: PipelineTriggerConfig = PipelineTriggerConfig()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return pipeline_name(value, jobs="jobs are named <pipeline>-<step>")

    @field_validator("cache_expire_after")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and not ISO_DURATION_PATTERN.fullmatch(value):
            raise FieldError(f"'{value}' is not an ISO 8601 duration", "give one such as P30D or PT12H")
        return value

    @model_validator(mode="after")
    def _group_for_model_build(self) -> PipelineConfig:
        if self.definition == "model_build" and self.model_package_group is None:
            raise FieldError(
                "a model_build pipeline registers models and needs a group for them",
                "name a group of model_registry.groups",
                at="model_package_group",
            )
        return self
