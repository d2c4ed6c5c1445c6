"""`model_registry` and `cross_account`: the model package groups with their quality gates, and the
conditions on the roles that trusted environments assume in this account."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, StrictBool, StrictStr, field_validator

from platform_config.problems import FieldError
from platform_config.sections.shared import (
    FrozenModel,
    Number,
    SageMakerName,
    email_addresses,
    unique,
    valid_tag_map,
)

METRIC_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,127}")


class ModelBaselineConfig(FrozenModel):
    """The quality gate of a model package group: an approval stands only if the metric meets this."""

    metric: StrictStr
    threshold: Number
    comparison: Literal["greater_than_or_equal", "less_than_or_equal"] = "greater_than_or_equal"

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, value: str) -> str:
        if not METRIC_NAME_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a metric name", "use a letter, then letters, digits, '_', '.' or '-'"
            )
        return value

    @field_validator("threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise FieldError(f"{value} is not a finite number", "give a threshold such as 0.8")
        return value


class ModelPackageGroupConfig(FrozenModel):
    """A model package group: the versions of one model, their metrics and approval status."""

    name: SageMakerName
    description: StrictStr = Field(
        min_length=1, max_length=1024, description="Create-only: changing it replaces the group"
    )
    baseline: ModelBaselineConfig | None = None
    share_with_ram: StrictBool = Field(
        default=False, description="Also share the group with the served accounts through AWS RAM"
    )
    tags: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        description="On the group, besides the environment's tags (e.g. owner, use case)",
    )

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, value: dict[str, str]) -> dict[str, str]:
        return valid_tag_map(value)


class ModelRegistryConfig(FrozenModel):
    groups: tuple[ModelPackageGroupConfig, ...] = Field(min_length=1)
    notification_emails: tuple[StrictStr, ...] = Field(
        default=(), description="Subscribed (after confirmation) to approval-guard notifications"
    )

    @field_validator("groups")
    @classmethod
    def _unique_groups(
        cls, value: tuple[ModelPackageGroupConfig, ...]
    ) -> tuple[ModelPackageGroupConfig, ...]:
        unique(tuple(group.name for group in value), "model package group names")
        return value

    @field_validator("notification_emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return email_addresses(value)


class CrossAccountConfig(FrozenModel):
    """Extra conditions on the roles that trusted environments assume in this account."""

    external_id: StrictStr | None = Field(
        default=None,
        description="Required as sts:ExternalId when the promotion role assumes the deployment role",
    )
    organization_id: StrictStr | None = Field(
        default=None, description="The caller must belong to this AWS Organization (aws:PrincipalOrgID)"
    )
    bootstrap_qualifier: StrictStr = Field(
        default="hnb659fds",
        pattern=r"^[a-z0-9]{1,10}$",
        description="`cdk bootstrap --qualifier` of this account: its CloudFormation role creates models "
        "from the trusted environments' packages, so their registries name it",
    )

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w+=,.@:/-]{2,1224}", value):
            raise FieldError(
                f"{value!r} is not an external id",
                "use 2-1224 letters, digits or the characters + = , . @ : / - _",
            )
        return value

    @field_validator("organization_id")
    @classmethod
    def _organization_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"o-[a-z0-9]{10,32}", value):
            raise FieldError(f"'{value}' is not an AWS Organizations id", "give one such as o-a1b2c3d4e5")
        return value
