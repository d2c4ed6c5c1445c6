"""What more than one configuration section uses: the frozen base model, SageMaker names, account ids,
regions, environment names, tags, e-mail addresses, numbers, instance types and schedules."""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictStr

from platform_config.aws_constraints import constraint, value_problem
from platform_config.aws_values import AWS_REGIONS
from platform_config.problems import FieldError, key_path

# SageMaker's pattern for domain, user profile, space and lifecycle config names.
SAGEMAKER_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
SAGEMAKER_NAME_MAX_LENGTH = 63
# Environment names become Stage ids, stack-name prefixes and tag values.
ENVIRONMENT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
# Prefixes S3 reserves; environment names start bucket names (platform_config.naming).
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
# Tag keys the platform sets on every resource itself.
RESERVED_TAG_KEYS = ("project", "environment")
# SageMaker instance types as notebook jobs, endpoints and monitoring take them: ml.<family>.<size>.
INSTANCE_TYPE_PATTERN = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
# A persona's job instance types may also have a hyphen in the family, as some of the API's enumerations do
# (ml.c7i-flex.xlarge, ml.p6-b200.48xlarge). INSTANCE_TYPE_PATTERN does not take them yet: an endpoint on
# such a family would need ModelEndpoint's instance-storage check (constructs_lib) to know it first.
PERSONA_JOB_INSTANCE_TYPE_PATTERN = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9]+")
SCHEDULE_PATTERN = re.compile(r"(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))")


class FrozenModel(BaseModel):
    """Base for every configuration object: immutable, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _sagemaker_name(value: str) -> str:
    if len(value) > SAGEMAKER_NAME_MAX_LENGTH or not SAGEMAKER_NAME_PATTERN.fullmatch(value):
        raise FieldError(
            f"'{value}' is not a valid SageMaker name",
            "use 1-63 letters, digits and hyphens, starting and ending with a letter or digit (no "
            "underscores, dots or spaces)",
        )
    return value


def _account_id(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        raise FieldError(
            "an account id must be a quoted string of 12 digits (YAML reads an unquoted number as an "
            "integer and drops leading zeros)",
            "quote it, e.g. '012345678901'",
        )
    if isinstance(value, str) and not ACCOUNT_ID_PATTERN.fullmatch(value):
        raise FieldError(f"'{value}' is not an AWS account id", "use exactly 12 digits, quoted")
    return value


def _region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise FieldError(f"unknown region '{value}'", f"use one of {', '.join(sorted(AWS_REGIONS))}")
    return value


def unique(values: tuple[str, ...], what: str, at: str = "") -> tuple[str, ...]:
    duplicates = sorted(name for name, count in Counter(values).items() if count > 1)
    if duplicates:
        raise FieldError(f"duplicate {what}: {', '.join(duplicates)}", "list each once", at=at)
    return values


def email_addresses(value: tuple[str, ...]) -> tuple[str, ...]:
    for email in value:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise FieldError(
                f"'{email}' is not an e-mail address", "give an address such as team@example.com"
            )
    return unique(value, "e-mail addresses")


# The retention periods CloudWatch Logs offers.
LogRetentionDays = Literal[30, 60, 90, 180, 365, 731, 1827, 3653]


def _whole_days(value: object) -> object:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldError(f"{value!r} is not a whole number of days", "give one such as 365, without quotes")
    return value


WholeDays = Annotated[LogRetentionDays, BeforeValidator(_whole_days)]


def valid_tag_map(value: dict[str, str]) -> dict[str, str]:
    for key, tag_value in value.items():
        if key in RESERVED_TAG_KEYS or key.lower().startswith("aws:"):
            raise FieldError(
                f"tag key '{key}' is reserved (the platform sets {', '.join(RESERVED_TAG_KEYS)}, AWS the "
                "aws: keys)",
                "use another key",
                at=key_path(key),
            )
        for part, text, target in (("key", key, "tag key"), ("value", tag_value, "tag value")):
            problem = value_problem(text, target)
            if problem:
                raise FieldError(
                    f"the {part} {text!r} {problem} ({constraint(target).source})",
                    f"change the tag's {part}",
                    at=key_path(key),
                )
    return value


SageMakerName = Annotated[StrictStr, AfterValidator(_sagemaker_name)]
AccountId = Annotated[StrictStr, BeforeValidator(_account_id)]
Region = Annotated[StrictStr, AfterValidator(_region)]


def _environment_name(value: str) -> str:
    if value.startswith(RESERVED_BUCKET_PREFIXES):
        raise FieldError(
            f"'{value}' starts with a prefix S3 reserves ({', '.join(RESERVED_BUCKET_PREFIXES)}), and bucket "
            "names start with the environment name",
            "rename the environment's file",
        )
    return value


EnvironmentName = Annotated[
    StrictStr, Field(pattern=ENVIRONMENT_NAME_PATTERN.pattern), AfterValidator(_environment_name)
]


def _number(value: object) -> object:
    # One check, so a string is one problem (a float | int union would report it once per member).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"{value!r} is not a number", "give one such as 0.9, without quotes")
    return float(value)


Number = Annotated[float, BeforeValidator(_number)]


def _schedule_expression(value: str) -> str:
    if not SCHEDULE_PATTERN.fullmatch(value):
        raise FieldError(f"'{value}' is not a schedule", "use one such as rate(1 day) or cron(0 6 * * ? *)")
    return value


# An EventBridge schedule, for pipelines and notebook jobs alike.
ScheduleExpression = Annotated[StrictStr, AfterValidator(_schedule_expression)]
