"""A custom resource that reads a model package of the build account: its approval, image and baseline.

Runs in a serving account, behind the CDK `custom_resources.Provider` framework: `on_event` returns the
physical resource id and `Data` (read with `Fn::GetAtt`), and an exception fails the deployment with its
message shown in CloudFormation. The package lives in another account, whose model package group's resource
policy lets this function's role describe it; the function only calls `DescribeModelPackage` with the ARN.

On Create and Update, the package must be Approved (unless `RequireApproved` is "false"), and it must have a
data-quality baseline for model monitoring: constraints and statistics from
`DriftCheckBaselines.ModelDataQuality` first, else `ModelMetrics.ModelDataQuality` (both from the same
place); the overrides win. On Delete nothing is called: the resource only reads.

ResourceProperties (CloudFormation passes every value as a string):
- `ModelPackageArn` (required): the model package version's ARN; it is the physical resource id, so pinning
  another version replaces the resource (the old one's Delete is a no-op).
- `RequireApproved`: "true" (default) or "false".
- `ConstraintsUri`, `StatisticsUri` (optional, s3:// URIs): the baseline to use instead of the package's.

Data: `ConstraintsUri`, `StatisticsUri`, `BaselineSource` (where the baseline came from), `ApprovalStatus`,
`ModelPackageArn`, `ImageUri` (the first container's image), `ModelDataUrl` (the first container's model
data, "" if none).

Every failure raises with the package's ARN, what is wrong and how to fix it; AWS errors are wrapped the same
way (the client retries throttling first).

The asset is this package and functions/_runtime (shared logging): standard library and boto3 only.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from functions._runtime.logs import event_log

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

APPROVED: Final = "Approved"
MODEL_PACKAGE_ARN_PATTERN: Final = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:(?P<account>[0-9]{12}):model-package/\S{1,2048}$"
)
S3_URI_PATTERN: Final = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+$")
ACCESS_DENIED_ERRORS: Final = frozenset({"AccessDenied", "AccessDeniedException"})
# Where a package's data-quality baseline may be, in the order it is looked for.
BASELINE_SOURCES: Final = (
    ("DriftCheckBaselines", "ModelDataQuality"),
    ("ModelMetrics", "ModelDataQuality"),
)
BASELINE_FIX: Final = (
    "register the package with data-quality baselines (the model build pipeline's QualityCheckStep does), "
    "or set monitoring.baseline in the environment's config"
)
APPROVAL_FIX: Final = (
    "approve it in the model registry of the build account, or pin an approved version in the "
    "environment's config"
)

log = event_log("model_package_baseline")


class ModelPackageError(RuntimeError):
    """The model package cannot be served as configured; the message says why and what to do."""


class PropertyError(ValueError):
    """The custom resource's properties are wrong (a bug in the stack that declares it)."""


# --- the properties --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Properties:
    model_package_arn: str
    require_approved: bool
    constraints_uri: str | None
    statistics_uri: str | None


def _flag(properties: Mapping[str, object], name: str, *, default: bool) -> bool:
    value = properties.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise PropertyError(f"{name} must be 'true' or 'false', got {value!r}")


def _override(properties: Mapping[str, object], name: str) -> str | None:
    value = properties.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not S3_URI_PATTERN.match(value):
        raise PropertyError(f"{name} must be an s3:// URI (s3://bucket/key), got {value!r}")
    return value


def parse_properties(properties: object) -> Properties:
    """The resource's properties; raises PropertyError naming the property."""
    if not isinstance(properties, dict):
        raise PropertyError("ResourceProperties is missing or not an object")
    arn = properties.get("ModelPackageArn")
    if arn is None or arn == "":
        raise PropertyError("ModelPackageArn is required: the ARN of the model package version to serve")
    if not isinstance(arn, str) or not MODEL_PACKAGE_ARN_PATTERN.match(arn):
        raise PropertyError(f"ModelPackageArn must be a model package ARN, got {arn!r}")
    return Properties(
        model_package_arn=arn,
        require_approved=_flag(properties, "RequireApproved", default=True),
        constraints_uri=_override(properties, "ConstraintsUri"),
        statistics_uri=_override(properties, "StatisticsUri"),
    )


# --- reading the package ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    constraints_uri: str
    statistics_uri: str
    source: str  # e.g. "DriftCheckBaselines.ModelDataQuality", "ConstraintsUri/StatisticsUri properties"


def _s3_uri(package: Mapping[str, object], path: tuple[str, ...]) -> str | None:
    """The non-empty string at `path` (e.g. ModelMetrics, ModelDataQuality, Statistics, S3Uri), or None."""
    node: object = package
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, str) and node else None


def find_baseline(
    package: Mapping[str, object], *, constraints_uri: str | None = None, statistics_uri: str | None = None
) -> Baseline | None:
    """The data-quality baseline: the overrides, and the rest from the first place that has all of it.

    Constraints and statistics come from the same place (one baselining job made them), unless overridden.
    """
    overrides = {"Constraints": constraints_uri, "Statistics": statistics_uri}
    needed = [name for name, uri in overrides.items() if uri is None]
    if not needed:
        return Baseline(
            constraints_uri=overrides["Constraints"] or "",
            statistics_uri=overrides["Statistics"] or "",
            source="ConstraintsUri/StatisticsUri properties",
        )
    for section, category in BASELINE_SOURCES:
        found = {name: _s3_uri(package, (section, category, name, "S3Uri")) for name in needed}
        if all(found.values()):
            uris = {**overrides, **found}
            source = f"{section}.{category}"
            if len(needed) < len(overrides):
                source += " and properties"
            return Baseline(
                constraints_uri=uris["Constraints"] or "",
                statistics_uri=uris["Statistics"] or "",
                source=source,
            )
    return None


def first_container(package: Mapping[str, object]) -> Mapping[str, object] | None:
    specification = package.get("InferenceSpecification")
    if not isinstance(specification, Mapping):
        return None
    containers = specification.get("Containers")
    if not isinstance(containers, list) or not containers or not isinstance(containers[0], Mapping):
        return None
    return containers[0]


def describe(sagemaker: SageMakerClient, arn: str) -> Mapping[str, object]:
    """DescribeModelPackage; an AWS error becomes a ModelPackageError that says what to check."""
    try:
        return sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        match = MODEL_PACKAGE_ARN_PATTERN.match(arn)
        owner = f"account {match['account']}" if match else "the build account"
        if code in ACCESS_DENIED_ERRORS:
            explanation = (
                f"this function's role may not describe model package {arn}: the model package group's "
                f"resource policy in the build account ({owner}) must allow this role "
                "sagemaker:DescribeModelPackage (deploy the build account's stacks with this environment "
                "among the ones it serves)"
            )
        elif code == "ValidationException":
            explanation = (
                f"model package {arn} cannot be read; check that the ARN and version in the environment's "
                "config name an existing package version"
            )
        else:
            explanation = f"could not describe model package {arn}"
        raise ModelPackageError(f"{explanation} (AWS said {code}: {message})") from error


def read_package(sagemaker: SageMakerClient, properties: Properties) -> dict[str, str]:
    """Check the package and return the resource's Data; raises ModelPackageError naming the package."""
    arn = properties.model_package_arn
    package = describe(sagemaker, arn)
    status = package.get("ModelApprovalStatus")
    status_text = status if isinstance(status, str) and status else "(none)"
    if properties.require_approved and status != APPROVED:
        raise ModelPackageError(f"model package {arn} is {status_text}, not {APPROVED}: {APPROVAL_FIX}")

    baseline = find_baseline(
        package, constraints_uri=properties.constraints_uri, statistics_uri=properties.statistics_uri
    )
    if baseline is None:
        places = " nor ".join(f"{section}.{category}" for section, category in BASELINE_SOURCES)
        raise ModelPackageError(
            f"model package {arn} has no data-quality baseline (neither {places} has both Constraints "
            f"and Statistics S3 URIs): {BASELINE_FIX}"
        )

    container = first_container(package)
    image = container.get("Image") if container is not None else None
    if not isinstance(image, str) or not image:
        raise ModelPackageError(
            f"model package {arn} has no container image in its InferenceSpecification: it cannot be "
            "served; register it with an inference specification"
        )
    model_data = container.get("ModelDataUrl") if container is not None else None
    return {
        "ConstraintsUri": baseline.constraints_uri,
        "StatisticsUri": baseline.statistics_uri,
        "BaselineSource": baseline.source,
        "ApprovalStatus": status_text,
        "ModelPackageArn": arn,
        "ImageUri": image,
        "ModelDataUrl": model_data if isinstance(model_data, str) else "",
    }


# --- the custom resource ---------------------------------------------------------------------------------


@functools.cache
def default_sagemaker_client() -> SageMakerClient:
    """A client for Lambda's region, made once per execution environment."""
    region = os.environ.get("AWS_REGION") or None  # None: boto3's own resolution (AWS_DEFAULT_REGION, config)
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=15)
    return boto3.client("sagemaker", region_name=region, config=config)


def on_event(
    event: Mapping[str, Any], context: object, *, sagemaker: SageMakerClient | None = None
) -> dict[str, Any]:
    """The Provider framework's onEvent handler. `sagemaker` is for tests; Lambda passes event and context."""
    request_type = event.get("RequestType")
    if request_type == "Delete":
        # Nothing was created: keep the physical id (the framework refuses a changed one on Delete).
        physical_id = event.get("PhysicalResourceId")
        log(logging.INFO, "model package baseline: nothing to delete", physical_resource_id=physical_id)
        return {"PhysicalResourceId": physical_id} if isinstance(physical_id, str) else {}
    if request_type not in {"Create", "Update"}:
        raise PropertyError(f"RequestType {request_type!r} is not Create, Update or Delete")

    properties = parse_properties(event.get("ResourceProperties"))
    try:
        data = read_package(sagemaker or default_sagemaker_client(), properties)
    except ModelPackageError as error:
        log(logging.ERROR, "model package baseline failed", request_type=request_type, error=str(error))
        raise
    log(logging.INFO, "model package baseline read", request_type=request_type, **data)
    return {"PhysicalResourceId": properties.model_package_arn, "Data": data}


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """`on_event` under the platform's usual entry point name (`handler.handler`)."""
    return on_event(event, context)
