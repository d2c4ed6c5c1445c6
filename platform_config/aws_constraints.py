"""AWS's published constraints on the values the configuration feeds it: lengths, patterns, enumerations.

Not written here: `tools/generate_aws_values.py` reads them from botocore's SageMaker service model (what
the API validates) and from the CloudFormation resource schemas cfn-lint ships, for exactly the targets of
`TARGETS`, into `aws_constraints.json`, with cfn-lint's table of availability zones per region; a test
fails when the file is stale. Reading it costs a JSON parse, and the `regex` package compiles patterns with
`\\p{..}` classes, so configuration errors still print before CDK is imported.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

CONSTRAINTS_FILE: Final = Path(__file__).with_name("aws_constraints.json")

# Target -> where its constraint is published: ("api", operation, member) of the SageMaker API (or
# "runtime-api" of the SageMaker Runtime API), validated by the service as a full match, or ("cfn",
# resource type, property) of a resource schema (JSON Schema: the pattern is searched).
TARGETS: Final[dict[str, tuple[str, str, str]]] = {
    "domain name": ("api", "CreateDomain", "DomainName"),
    "user profile name": ("api", "CreateUserProfile", "UserProfileName"),
    "space name": ("api", "CreateSpace", "SpaceName"),
    "space display name": ("api", "CreateSpace", "SpaceDisplayName"),
    "lifecycle config name": ("api", "CreateStudioLifecycleConfig", "StudioLifecycleConfigName"),
    "image name": ("api", "CreateImage", "ImageName"),
    "image display name": ("api", "CreateImage", "DisplayName"),
    "app image config name": ("api", "CreateAppImageConfig", "AppImageConfigName"),
    "model package group name": ("api", "CreateModelPackageGroup", "ModelPackageGroupName"),
    "model package group description": ("api", "CreateModelPackageGroup", "ModelPackageGroupDescription"),
    "pipeline name": ("api", "CreatePipeline", "PipelineName"),
    "pipeline description": ("api", "CreatePipeline", "PipelineDescription"),
    "endpoint name": ("api", "CreateEndpoint", "EndpointName"),
    "model name": ("api", "CreateModel", "ModelName"),
    "endpoint config name": ("api", "CreateEndpointConfig", "EndpointConfigName"),
    "monitoring schedule name": ("api", "CreateMonitoringSchedule", "MonitoringScheduleName"),
    "tracking server name": ("api", "CreateMlflowTrackingServer", "TrackingServerName"),
    "baseline constraints uri": (
        "api",
        "CreateDataQualityJobDefinition",
        "DataQualityBaselineConfig.ConstraintsResource.S3Uri",
    ),
    "baseline statistics uri": (
        "api",
        "CreateDataQualityJobDefinition",
        "DataQualityBaselineConfig.StatisticsResource.S3Uri",
    ),
    # `make smoke` sends each smoke test as an InvokeEndpoint request (its 6 MB body limit is above the
    # loader's 1 MiB file limit).
    "request content type": ("runtime-api", "InvokeEndpoint", "ContentType"),
    "request accept": ("runtime-api", "InvokeEndpoint", "Accept"),
    # Tags go on every resource: the strictest schema's (SageMaker's take values of at most 128).
    "tag key": ("cfn", "AWS::SageMaker::Domain", "Tags.Key"),
    "tag value": ("cfn", "AWS::SageMaker::Domain", "Tags.Value"),
    "tags per resource": ("api", "CreateDomain", "Tags"),
    "repository name": ("cfn", "AWS::ECR::Repository", "RepositoryName"),
    "role name": ("cfn", "AWS::IAM::Role", "RoleName"),
    "role path": ("cfn", "AWS::IAM::Role", "Path"),
    "role description": ("cfn", "AWS::IAM::Role", "Description"),
    "bucket name": ("cfn", "AWS::S3::Bucket", "BucketName"),
    "schedule expression": ("cfn", "AWS::Events::Rule", "ScheduleExpression"),
}
# Instance type enumerations of the SageMaker API, by shape name.
INSTANCE_TYPE_SHAPES: Final = (
    "ProcessingInstanceType",
    "TrainingInstanceType",
    "ProductionVariantInstanceType",
    "TransformInstanceType",
)


@dataclass(frozen=True)
class Constraint:
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    full_match: bool = True
    source: str = ""  # e.g. "api:CreateDomain.DomainName": where AWS publishes it


@functools.cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CONSTRAINTS_FILE.read_text(encoding="utf-8"))
    return data


@functools.cache
def constraint(target: str) -> Constraint:
    entry = _data()["targets"][target]
    return Constraint(
        min_length=entry.get("min"),
        max_length=entry.get("max"),
        pattern=entry.get("pattern"),
        full_match=entry.get("match", "full") == "full",
        source=entry.get("source", ""),
    )


@functools.cache
def instance_types(shape: str) -> frozenset[str]:
    return frozenset(_data()["instance_types"][shape])


def availability_zones(region: str) -> tuple[str, ...] | None:
    """The region's zone names, or None for a region the table does not know."""
    zones = _data()["availability_zones"].get(region)
    return tuple(zones) if zones is not None else None


@functools.cache
def _compiled(pattern: str) -> Any:
    # botocore's and the schemas' patterns use \p{..} classes, which `re` lacks.
    import regex  # type: ignore[import-untyped]  # noqa: PLC0415

    return regex.compile(pattern)


def value_problem(value: str, target: str) -> str | None:
    """Why AWS would refuse `value` for `target`, or None."""
    rule = constraint(target)
    if rule.min_length is not None and len(value) < rule.min_length:
        return f"is shorter than the {rule.min_length} characters AWS requires"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"is {len(value)} characters long, and AWS takes at most {rule.max_length}"
    if rule.pattern is not None:
        compiled = _compiled(rule.pattern)
        matched = compiled.fullmatch(value) if rule.full_match else compiled.search(value)
        if matched is None:
            unusual = sorted({f"{ord(c):#06x}" for c in value if not c.isprintable()})
            shown = f" (it has the unprintable character(s) {', '.join(unusual)})" if unusual else ""
            return f"does not match the pattern AWS requires, {rule.pattern}{shown}"
    return None
