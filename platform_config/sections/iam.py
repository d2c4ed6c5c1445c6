"""`iam`: the path and permissions boundary of every role the platform creates."""

from __future__ import annotations

import re

from pydantic import Field, StrictBool, StrictStr, field_validator, model_validator

from platform_config.problems import FieldError
from platform_config.sections.shared import FrozenModel

# IAM allows any printable ASCII in a path; the platform keeps to the characters of IAM names, so a path
# carries no ARN wildcard (`*`, `?`) into aws:PrincipalArn conditions, and no empty segment.
IAM_PATH_PATTERN = re.compile(r"/([\w+=,.@-]+/)*", re.ASCII)
IAM_PATH_MAX_LENGTH = 512
# A customer-managed (12-digit account) or AWS-managed (`aws`) policy, with an optional path.
MANAGED_POLICY_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}|aws):policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}",
    re.ASCII,
)


def aws_partition(region: str) -> str:
    """The partition of a region's ARNs (the sample's regions are all in `aws`)."""
    return "aws-cn" if region.startswith("cn-") else "aws"


class PermissionsBoundaryConfig(FrozenModel):
    """The permissions boundary of every role the platform creates: exactly one of an existing managed
    policy (`managed_policy_arn`) or the platform's own (`create: true`)."""

    managed_policy_arn: StrictStr | None = Field(
        default=None, description="An existing managed policy of this account (or AWS-managed)"
    )
    create: StrictBool = Field(
        default=False,
        description="The platform creates `<env>-sagemaker-platform-boundary` (stack Boundary) and uses it",
    )

    @field_validator("managed_policy_arn")
    @classmethod
    def _policy_arn(cls, value: str | None) -> str | None:
        if value is not None and not MANAGED_POLICY_ARN_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a managed policy ARN",
                "give one such as arn:aws:iam::123456789012:policy/my-boundary (account: 12 digits, or 'aws' "
                "for an AWS-managed policy, an optional path, a name of letters, digits and + = , . @ _ -)",
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> PermissionsBoundaryConfig:
        if (self.managed_policy_arn is None) != self.create:
            raise FieldError(
                "has both or neither of managed_policy_arn and create: true",
                "set exactly one of managed_policy_arn (an existing policy) or create: true (the platform "
                "creates its own boundary policy)",
            )
        return self


class IamConfig(FrozenModel):
    """The path and permissions boundary of every IAM role the platform creates, CDK's own included."""

    role_path: StrictStr = Field(
        default="/",
        description="Create-only on every role: changing it replaces the roles (fixed names collide)",
    )
    permissions_boundary: PermissionsBoundaryConfig | None = None

    @field_validator("role_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not 1 <= len(value) <= IAM_PATH_MAX_LENGTH or not IAM_PATH_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a role path",
                f"start and end it with '/', keep it within {IAM_PATH_MAX_LENGTH} characters, and use only "
                "letters, digits and + = , . @ _ - in non-empty segments, e.g. /sagemaker-platform/",
            )
        return value
