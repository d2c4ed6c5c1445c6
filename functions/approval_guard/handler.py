"""The model approval guard: the model registry is the quality gate.

EventBridge sends every `SageMaker Model Package State Change` event here. When a package of a group with a
baseline becomes `Approved`, the guard reads the package's metric (its model quality statistics, other JSON
metric reports in S3, then its customer metadata) and compares it with the baseline. A package that misses
the baseline, or whose metric cannot be found, goes back to `Rejected` with the reason in its approval
description; either way the SNS topic hears about it.

Environment:
- `BASELINES`: JSON object, group name -> {"metric": str, "threshold": number, "comparison": one of
  `greater_than_or_equal`, `less_than_or_equal`}. Validated once per cold start; a bad value raises on every
  invocation rather than letting packages through.
- `TOPIC_ARN`: the SNS topic for notifications.
- `AWS_REGION`: set by Lambda; the clients' region.

Malformed events are logged and ignored (EventBridge must not retry garbage); AWS errors raise, so that Lambda
retries and a persistent failure lands in the dead-letter queue.

The asset is this package and functions/_runtime (shared logging and entry point): standard library and
boto3 only.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Literal

import boto3
from botocore.exceptions import ClientError

from functions._runtime.entry import CLIENT_CONFIG, ConfigurationError, client_region, run
from functions._runtime.logs import event_log

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.type_defs import DescribeModelPackageOutputTypeDef
    from mypy_boto3_sns import SNSClient

EVENT_SOURCE: Final = "aws.sagemaker"
EVENT_DETAIL_TYPE: Final = "SageMaker Model Package State Change"
APPROVED: Final = "Approved"
REJECTED: Final = "Rejected"

# A metrics report is a few kilobytes; anything near this is not one, and the function's memory is small.
MAX_REPORT_BYTES: Final = 1024 * 1024
MAX_APPROVAL_DESCRIPTION: Final = 1024  # UpdateModelPackage's limit
MAX_SUBJECT: Final = 99  # SNS: "less than 100 characters"
REJECTION_PREFIX: Final = "Rejected by the approval guard: "

# SageMaker's own patterns: a group name, and a model package ARN.
GROUP_NAME_PATTERN: Final = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MODEL_PACKAGE_ARN_PATTERN: Final = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package/\S{1,2048}$"
)
TOPIC_ARN_PATTERN: Final = re.compile(r"^arn:aws[a-z\-]*:sns:[a-z0-9\-]+:[0-9]{12}:[A-Za-z0-9_\-]{1,256}$")
JSON_CONTENT_TYPES: Final = frozenset({"application/json", "text/json"})
# S3 errors that describe the package's data (deterministic, retrying will not help): the metric is missing.
# Anything else (access denied, KMS, throttling) is the platform's problem and raises.
MISSING_OBJECT_ERRORS: Final = frozenset({"NoSuchKey", "NoSuchBucket", "404"})

Action = Literal["ignored", "rejected", "passed"]

log = event_log("approval_guard")


# --- configuration ---------------------------------------------------------------------------------------


class Comparison(StrEnum):
    GREATER_THAN_OR_EQUAL = "greater_than_or_equal"
    LESS_THAN_OR_EQUAL = "less_than_or_equal"


@dataclass(frozen=True)
class Baseline:
    metric: str
    threshold: float
    comparison: Comparison

    def passes(self, value: float) -> bool:
        if self.comparison is Comparison.GREATER_THAN_OR_EQUAL:
            return value >= self.threshold
        return value <= self.threshold

    def judgement(self, value: float) -> str:
        """Why `value` passes or fails: "accuracy 0.82 is below the baseline 0.9 (greater_than_or_equal)"."""
        if self.passes(value):
            verdict = "meets"
        elif self.comparison is Comparison.GREATER_THAN_OR_EQUAL:
            verdict = "is below"
        else:
            verdict = "is above"
        return f"{self.metric} {value!r} {verdict} the baseline {self.threshold!r} ({self.comparison.value})"


@dataclass(frozen=True)
class Settings:
    baselines: Mapping[str, Baseline]
    topic_arn: str


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ConfigurationError(f"BASELINES: duplicate keys {duplicates}")
    return dict(pairs)


def _parse_baseline(group: object, entry: object) -> Baseline:
    where = f"BASELINES[{json.dumps(group)}]"
    if not isinstance(group, str) or not GROUP_NAME_PATTERN.match(group):
        raise ConfigurationError(f"{where}: not a model package group name (letters, digits, hyphens, <= 63)")
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: expected an object with metric, threshold and comparison")
    allowed = {"metric", "threshold", "comparison"}
    if unknown := sorted(set(entry) - allowed):
        raise ConfigurationError(f"{where}: unknown keys {unknown}; allowed: {sorted(allowed)}")
    if missing := sorted(allowed - set(entry)):
        raise ConfigurationError(f"{where}: missing keys {missing}")
    metric, threshold, comparison = entry["metric"], entry["threshold"], entry["comparison"]
    if not isinstance(metric, str) or not metric.strip():
        raise ConfigurationError(f"{where}.metric: expected a non-empty string, got {metric!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ConfigurationError(f"{where}.threshold: expected a number, got {threshold!r}")
    if not math.isfinite(threshold):
        raise ConfigurationError(f"{where}.threshold: expected a finite number, got {threshold!r}")
    allowed_comparisons = [member.value for member in Comparison]
    if comparison not in allowed_comparisons:
        raise ConfigurationError(f"{where}.comparison: {comparison!r} is not one of {allowed_comparisons}")
    return Baseline(metric=metric, threshold=float(threshold), comparison=Comparison(comparison))


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Validate `BASELINES` and `TOPIC_ARN`; raise ConfigurationError naming the variable and the field."""
    raw_baselines = environ.get("BASELINES")
    if raw_baselines is None or not raw_baselines.strip():
        raise ConfigurationError("BASELINES is not set: the guard has nothing to enforce")
    try:
        parsed = json.loads(raw_baselines, object_pairs_hook=_reject_duplicate_keys)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ConfigurationError(f"BASELINES is not valid JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise ConfigurationError("BASELINES must be a JSON object of group name -> baseline")
    if not parsed:
        # An empty gate approves everything; that is a deployment mistake, not a configuration.
        raise ConfigurationError("BASELINES has no groups: the guard would let every package through")
    baselines = {group: _parse_baseline(group, entry) for group, entry in parsed.items()}

    topic_arn = environ.get("TOPIC_ARN", "")
    if not TOPIC_ARN_PATTERN.match(topic_arn):
        raise ConfigurationError(f"TOPIC_ARN: expected an SNS topic ARN, got {topic_arn!r}")
    return Settings(baselines=baselines, topic_arn=topic_arn)


@functools.cache
def current_settings() -> Settings:
    """The settings of this execution environment, read on first use (a failure is not cached: it repeats)."""
    return load_settings(os.environ)


# --- clients ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clients:
    sagemaker: SageMakerClient
    s3: S3Client
    sns: SNSClient


@functools.cache
def default_clients() -> Clients:
    """Clients for Lambda's region, made once per execution environment."""
    region = client_region()
    return Clients(
        sagemaker=boto3.client("sagemaker", region_name=region, config=CLIENT_CONFIG),
        s3=boto3.client("s3", region_name=region, config=CLIENT_CONFIG),
        sns=boto3.client("sns", region_name=region, config=CLIENT_CONFIG),
    )


# --- the event -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    """The fields of a model package state change the guard relies on."""

    model_package_arn: str
    group: str
    status: str
    version: int | None


class MalformedEventError(ValueError):
    """The event is not a model package state change the guard can read."""


def parse_event(event: object) -> StateChange:
    """The state change; raises MalformedEventError saying what is wrong with it."""
    if not isinstance(event, dict):
        raise MalformedEventError(f"event is a {type(event).__name__}, not an object")
    for key, expected in (("source", EVENT_SOURCE), ("detail-type", EVENT_DETAIL_TYPE)):
        if event.get(key) != expected:
            raise MalformedEventError(f"{key} is {clip(repr(event.get(key)), 100)}, not {expected!r}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise MalformedEventError("detail is missing or not an object")
    fields: dict[str, str] = {}
    for name in ("ModelPackageArn", "ModelPackageGroupName", "ModelApprovalStatus"):
        value = detail.get(name)
        if not isinstance(value, str) or not value:
            raise MalformedEventError(f"detail.{name} is missing or not a non-empty string")
        fields[name] = value
    if not MODEL_PACKAGE_ARN_PATTERN.match(fields["ModelPackageArn"]):
        raise MalformedEventError("detail.ModelPackageArn is not a model package ARN")
    version = detail.get("ModelPackageVersion")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise MalformedEventError("detail.ModelPackageVersion is not an integer")
    return StateChange(
        model_package_arn=fields["ModelPackageArn"],
        group=fields["ModelPackageGroupName"],
        status=fields["ModelApprovalStatus"],
        version=version,
    )


# --- finding the metric ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """The metric's value and where it came from, or (value None) what was looked at and why it failed."""

    value: float | None
    source: str | None
    problems: tuple[str, ...]


def finite_number(candidate: object) -> float | None:
    """A finite number, or an object whose `value` is one (SageMaker's model quality format); else None."""
    if isinstance(candidate, dict):
        candidate = candidate.get("value")
    if isinstance(candidate, bool) or not isinstance(candidate, int | float):
        return None
    try:
        number = float(candidate)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def search_metric(document: object, metric: str) -> float | None:
    """The shallowest finite value of `metric` in nested objects, e.g. `{"metrics": {"acc": {"value": 1}}}`.

    Breadth first, so a top-level metric wins over one buried in a sub-report; lists are not searched.
    """
    pending: deque[object] = deque([document])
    while pending:
        node = pending.popleft()
        if not isinstance(node, dict):
            continue
        if metric in node and (number := finite_number(node[metric])) is not None:
            return number
        pending.extend(child for child in node.values() if isinstance(child, dict))
    return None


def metric_sources(model_metrics: Mapping[str, object]) -> list[tuple[str, Mapping[str, object]]]:
    """(label, MetricsSource) pairs: ModelQuality.Statistics first, then the others in a stable order."""
    sources: list[tuple[str, Mapping[str, object]]] = []
    for category, reports in sorted(model_metrics.items()):
        if not isinstance(reports, dict):
            continue
        for report, source in sorted(reports.items()):
            if isinstance(source, dict) and "S3Uri" in source:
                sources.append((f"ModelMetrics.{category}.{report}", source))
    sources.sort(key=lambda pair: pair[0] != "ModelMetrics.ModelQuality.Statistics")  # stable
    return sources


def is_json_content_type(content_type: object) -> bool:
    if not isinstance(content_type, str):
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in JSON_CONTENT_TYPES or media_type.endswith("+json")


def read_json_report(s3: S3Client, uri: str) -> tuple[object, str | None]:
    """The parsed JSON object at `uri`, or (None, why not). Errors other than a missing object raise."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        return None, f"{uri} is not an s3:// URI"
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in MISSING_OBJECT_ERRORS:
            return None, f"{uri} does not exist ({code})"
        raise
    body = response["Body"]
    try:
        if response.get("ContentLength", 0) > MAX_REPORT_BYTES:
            return None, f"{uri} is too big ({response['ContentLength']} bytes, limit {MAX_REPORT_BYTES})"
        content = body.read(MAX_REPORT_BYTES + 1)
    finally:
        body.close()
    if len(content) > MAX_REPORT_BYTES:
        return None, f"{uri} is too big (over {MAX_REPORT_BYTES} bytes)"
    try:
        return json.loads(content), None
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested beyond the parser's depth
        return None, f"{uri} is not valid JSON"


def measure(package: DescribeModelPackageOutputTypeDef, metric: str, s3: S3Client) -> Measurement:
    """The metric from the package's JSON metric reports in S3, else from its customer metadata."""
    problems: list[str] = []
    for label, source in metric_sources(package.get("ModelMetrics", {})):
        uri = source.get("S3Uri")
        if not isinstance(uri, str):
            problems.append(f"{label} has no S3 URI")
            continue
        if not is_json_content_type(source.get("ContentType")):
            problems.append(f"{label} is not JSON (content type {source.get('ContentType')!r})")
            continue
        document, problem = read_json_report(s3, uri)
        if problem is not None:
            problems.append(f"{label}: {problem}")
            continue
        value = search_metric(document, metric)
        if value is not None:
            return Measurement(value=value, source=f"{label} ({uri})", problems=tuple(problems))
        problems.append(f"{label} ({uri}) has no finite {metric}")

    properties = package.get("CustomerMetadataProperties", {})
    raw = properties.get(metric)
    if raw is None:
        problems.append(f"CustomerMetadataProperties has no {metric}")
    else:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return Measurement(value=value, source="CustomerMetadataProperties", problems=tuple(problems))
        problems.append(f"CustomerMetadataProperties[{metric}] = {raw!r} is not a finite number")
    return Measurement(value=None, source=None, problems=tuple(problems))


# --- the decision ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the guard did, returned to Lambda (and logged). Unknown fields are left out of `as_dict`."""

    action: Action
    reason: str
    model_package_arn: str | None = None
    model_package_group: str | None = None
    model_package_version: int | None = None
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    comparison: str | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def subject_line(text: str) -> str:
    """An SNS subject: printable ASCII, one line, under 100 characters."""
    ascii_text = "".join(char if " " <= char <= "~" else "?" for char in text)
    return clip(ascii_text, MAX_SUBJECT)


def notify(sns: SNSClient, topic_arn: str, outcome: Outcome) -> None:
    version = outcome.model_package_version
    verdict = "REJECTED" if outcome.action == "rejected" else "passed the gate"
    subject = subject_line(f"Model approval guard: {outcome.model_package_group} v{version} {verdict}")
    lines = [
        (
            "The approval guard rejected an approved model package; it is now Rejected."
            if outcome.action == "rejected"
            else "An approved model package passed the approval guard; it stays Approved."
        ),
        "",
        f"Model package group: {outcome.model_package_group}",
        f"Version: {version}",
        f"Model package ARN: {outcome.model_package_arn}",
        f"Reason: {outcome.reason}",
    ]
    if outcome.source is not None:
        lines.append(f"Metric source: {outcome.source}")
    sns.publish(
        TopicArn=topic_arn,
        Subject=subject,
        Message="\n".join(lines),
        # So that a subscription can filter, e.g. only rejections.
        MessageAttributes={
            "action": {"DataType": "String", "StringValue": outcome.action},
            "model_package_group": {"DataType": "String", "StringValue": outcome.model_package_group or "-"},
        },
    )


def ignore(reason: str, **context: Any) -> Outcome:
    outcome = Outcome(action="ignored", reason=reason, **context)
    log(logging.INFO, "approval guard ignored the event", **outcome.as_dict())
    return outcome


def guard(event: object, *, settings: Settings, clients: Clients) -> Outcome:
    """Decide on one event: ignore it, let an approved package through, or reject it."""
    try:
        change = parse_event(event)
    except MalformedEventError as error:
        reason = f"malformed event: {error}"
        log(logging.WARNING, "approval guard ignored a malformed event", action="ignored", reason=reason)
        return Outcome(action="ignored", reason=reason)
    context: dict[str, Any] = {
        "model_package_arn": change.model_package_arn,
        "model_package_group": change.group,
        "model_package_version": change.version,
    }
    if change.status != APPROVED:
        return ignore(f"status is {change.status}, not {APPROVED}", **context)
    baseline = settings.baselines.get(change.group)
    if baseline is None:
        return ignore(f"group {change.group} has no baseline", **context)
    context.update(metric=baseline.metric, threshold=baseline.threshold, comparison=baseline.comparison.value)

    package = clients.sagemaker.describe_model_package(ModelPackageName=change.model_package_arn)
    context["model_package_version"] = package.get("ModelPackageVersion", change.version)
    current_status = package.get("ModelApprovalStatus")
    if current_status != APPROVED:
        # Someone changed it again since the event; their decision is newer than ours would be.
        return ignore(f"status is now {current_status}, no longer {APPROVED}", **context)

    measurement = measure(package, baseline.metric, clients.s3)
    if measurement.value is None:
        reason = f"{baseline.metric} is missing ({'; '.join(measurement.problems)})"
        outcome = Outcome(action="rejected", reason=reason, **context)
    else:
        verdict: Action = "passed" if baseline.passes(measurement.value) else "rejected"
        outcome = Outcome(
            action=verdict,
            reason=baseline.judgement(measurement.value),
            value=measurement.value,
            source=measurement.source,
            **context,
        )

    if outcome.action == "rejected":
        # Reject before notifying: the rejection is what matters. If publishing then fails, the error is
        # raised, and the retry finds the package Rejected and stops: a notification is lost, not the gate.
        clients.sagemaker.update_model_package(
            ModelPackageArn=change.model_package_arn,
            ModelApprovalStatus=REJECTED,
            ApprovalDescription=clip(REJECTION_PREFIX + outcome.reason, MAX_APPROVAL_DESCRIPTION),
        )
        log(logging.WARNING, "approval guard rejected a model package", **outcome.as_dict())
    else:
        log(logging.INFO, "approval guard let a model package through", **outcome.as_dict())
    notify(clients.sns, settings.topic_arn, outcome)
    return outcome


def handler(event: object, context: object, *, clients: Clients | None = None) -> dict[str, Any]:
    """Lambda's entry point. `clients` is for tests; Lambda passes only the event and the context."""
    return run(
        log,
        "approval guard",
        settings=current_settings,
        decide=lambda settings: guard(
            event, settings=settings, clients=clients or default_clients()
        ).as_dict(),
    )
