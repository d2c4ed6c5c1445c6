"""The promotion notifier: an approval in the build account becomes a configuration change to review.

Runs in a serving account (staging, prod). The build account forwards its `SageMaker Model Package State
Change` events here. Endpoints stay under CloudFormation, pinned to a model package version in the
environment's YAML configuration: an approval never deploys anything. When a version newer than what an
endpoint pins is approved, the SNS topic hears the exact change to make (the file, the YAML path, the line),
the approved package's ARN, and the steps: a pull request, `make diff`, `make deploy`, `make smoke`.
One event gives at most one message, listing every endpoint that pins an older version of that group.

Environment:
- `ENVIRONMENT_NAME`: this environment's name, e.g. `staging` (lower case letters, digits, hyphens).
- `CONFIG_FILE`: its configuration file as the repository names it, e.g. `config/staging.yaml`.
- `TOPIC_ARN`: the SNS topic for the notifications.
- `ENDPOINTS`: JSON list of the endpoints this environment serves, each
  {"endpoint": str, "source": str, "source_account": str, "group": str, "version": int}: the endpoint's
  name, the environment and account whose registry holds the model, the model package group and the pinned
  version. An empty list is valid (every event is then ignored).
- `AWS_REGION`: set by Lambda; the client's region.
All are validated once per cold start; a bad value raises on every invocation (naming the variable and the
field) rather than staying silent.

Events that are not approvals, or of a group and account no endpoint uses, and approvals of a version no
newer than the pinned one, are logged and ignored. Malformed events are logged and ignored too (EventBridge
must not retry garbage); AWS errors raise, so that Lambda retries and a persistent failure lands in the
dead-letter queue. Delivery is at least once: a retried event may repeat a notification.

The asset is this package and functions/_runtime (shared logging and entry point): standard library and
boto3 only.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3

from functions._runtime.entry import CLIENT_CONFIG, ConfigurationError, client_region, run
from functions._runtime.logs import event_log

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

EVENT_SOURCE: Final = "aws.sagemaker"
EVENT_DETAIL_TYPE: Final = "SageMaker Model Package State Change"
APPROVED: Final = "Approved"
MAX_SUBJECT: Final = 99  # SNS: "less than 100 characters"

ENVIRONMENT_NAME_PATTERN: Final = re.compile(r"^[a-z][a-z0-9-]{0,19}$")  # the platform's own
ENDPOINT_NAME_PATTERN: Final = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's
GROUP_NAME_PATTERN: Final = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's
ACCOUNT_ID_PATTERN: Final = re.compile(r"^[0-9]{12}$")
CONFIG_FILE_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,255}$")
MODEL_PACKAGE_ARN_PATTERN: Final = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:(?P<account>[0-9]{12}):model-package/(?P<name>\S{1,2048})$"
)
VERSION_SUFFIX_PATTERN: Final = re.compile(r"/(?P<version>[1-9][0-9]{0,9})$")
TOPIC_ARN_PATTERN: Final = re.compile(r"^arn:aws[a-z\-]*:sns:[a-z0-9\-]+:[0-9]{12}:[A-Za-z0-9_\-]{1,256}$")
ENDPOINT_KEYS: Final = frozenset({"endpoint", "source", "source_account", "group", "version"})

log = event_log("promotion_notifier")


# --- configuration ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """An endpoint this environment serves, and the model package version it is pinned to."""

    name: str
    source: str
    source_account: str
    group: str
    version: int

    def serves(self, account: str, group: str) -> bool:
        """Whether this endpoint's model comes from `group` in `account`.

        Group names compare case-insensitively: SageMaker lower-cases them in version ARNs.
        """
        return self.source_account == account and self.group.lower() == group.lower()


@dataclass(frozen=True)
class Settings:
    environment: str
    config_file: str
    topic_arn: str
    endpoints: tuple[Endpoint, ...]


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ConfigurationError(f"ENDPOINTS: duplicate keys {duplicates}")
    return dict(pairs)


def _parse_endpoint(index: int, entry: object) -> Endpoint:
    where = f"ENDPOINTS[{index}]"
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: expected an object with {sorted(ENDPOINT_KEYS)}")
    if unknown := sorted(set(entry) - ENDPOINT_KEYS):
        raise ConfigurationError(f"{where}: unknown keys {unknown}; allowed: {sorted(ENDPOINT_KEYS)}")
    if missing := sorted(ENDPOINT_KEYS - set(entry)):
        raise ConfigurationError(f"{where}: missing keys {missing}")
    checks: tuple[tuple[str, re.Pattern[str], str], ...] = (
        ("endpoint", ENDPOINT_NAME_PATTERN, "an endpoint name (letters, digits, hyphens, <= 63)"),
        ("source", ENVIRONMENT_NAME_PATTERN, "an environment name (lower case letters, digits, hyphens)"),
        ("source_account", ACCOUNT_ID_PATTERN, "a 12-digit account id (a string)"),
        ("group", GROUP_NAME_PATTERN, "a model package group name (letters, digits, hyphens, <= 63)"),
    )
    for key, pattern, expected in checks:
        value = entry[key]
        if not isinstance(value, str) or not pattern.match(value):
            raise ConfigurationError(f"{where}.{key}: expected {expected}, got {value!r}")
    version = entry["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigurationError(f"{where}.version: expected a model package version (>= 1), got {version!r}")
    return Endpoint(
        name=entry["endpoint"],
        source=entry["source"],
        source_account=entry["source_account"],
        group=entry["group"],
        version=version,
    )


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Validate the environment; raise ConfigurationError naming the variable and the field."""
    environment = environ.get("ENVIRONMENT_NAME", "")
    if not ENVIRONMENT_NAME_PATTERN.match(environment):
        raise ConfigurationError(
            f"ENVIRONMENT_NAME: expected an environment name (lower case letters, digits, hyphens, "
            f"<= 20), got {environment!r}"
        )
    config_file = environ.get("CONFIG_FILE", "")
    if not CONFIG_FILE_PATTERN.match(config_file):
        raise ConfigurationError(
            f"CONFIG_FILE: expected the configuration file's path in the repository, e.g. "
            f"config/{environment}.yaml, got {config_file!r}"
        )
    topic_arn = environ.get("TOPIC_ARN", "")
    if not TOPIC_ARN_PATTERN.match(topic_arn):
        raise ConfigurationError(f"TOPIC_ARN: expected an SNS topic ARN, got {topic_arn!r}")

    raw_endpoints = environ.get("ENDPOINTS")
    if raw_endpoints is None or not raw_endpoints.strip():
        raise ConfigurationError("ENDPOINTS is not set: expected a JSON list of the endpoints served here")
    try:
        parsed = json.loads(raw_endpoints, object_pairs_hook=_reject_duplicate_keys)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ConfigurationError(f"ENDPOINTS is not valid JSON: {error}") from error
    if not isinstance(parsed, list):
        raise ConfigurationError("ENDPOINTS must be a JSON list of endpoints")
    endpoints = tuple(_parse_endpoint(index, entry) for index, entry in enumerate(parsed))
    names = [endpoint.name for endpoint in endpoints]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise ConfigurationError(f"ENDPOINTS: endpoints listed more than once: {duplicates}")
    return Settings(
        environment=environment, config_file=config_file, topic_arn=topic_arn, endpoints=endpoints
    )


@functools.cache
def current_settings() -> Settings:
    """The settings of this execution environment, read on first use (a failure is not cached: it repeats)."""
    return load_settings(os.environ)


# --- clients ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clients:
    sns: SNSClient


@functools.cache
def default_clients() -> Clients:
    """Clients for Lambda's region, made once per execution environment."""
    return Clients(sns=boto3.client("sns", region_name=client_region(), config=CLIENT_CONFIG))


# --- the event -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    """The fields of a forwarded model package state change the notifier relies on."""

    account: str
    model_package_arn: str
    group: str
    version: int
    status: str


class MalformedEventError(ValueError):
    """The event is not a model package state change the notifier can read."""


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_event(event: object) -> StateChange:
    """The state change; raises MalformedEventError saying what is wrong with it.

    The version comes from `detail.ModelPackageVersion`, else from the ARN (`.../<group>/<version>`).
    """
    if not isinstance(event, dict):
        raise MalformedEventError(f"event is a {type(event).__name__}, not an object")
    for key, expected in (("source", EVENT_SOURCE), ("detail-type", EVENT_DETAIL_TYPE)):
        if event.get(key) != expected:
            raise MalformedEventError(f"{key} is {clip(repr(event.get(key)), 100)}, not {expected!r}")
    account = event.get("account")
    if not isinstance(account, str) or not ACCOUNT_ID_PATTERN.match(account):
        raise MalformedEventError(f"account is {clip(repr(account), 100)}, not a 12-digit account id")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise MalformedEventError("detail is missing or not an object")
    fields: dict[str, str] = {}
    for name in ("ModelPackageArn", "ModelPackageGroupName", "ModelApprovalStatus"):
        value = detail.get(name)
        if not isinstance(value, str) or not value:
            raise MalformedEventError(f"detail.{name} is missing or not a non-empty string")
        fields[name] = value
    arn = MODEL_PACKAGE_ARN_PATTERN.match(fields["ModelPackageArn"])
    if arn is None:
        raise MalformedEventError("detail.ModelPackageArn is not a model package ARN")
    if arn["account"] != account:
        raise MalformedEventError(
            f"detail.ModelPackageArn is in account {arn['account']}, but the event comes from {account}"
        )
    version = detail.get("ModelPackageVersion")
    if version is None and (suffix := VERSION_SUFFIX_PATTERN.search(arn["name"])) is not None:
        version = int(suffix["version"])
    if version is None:
        raise MalformedEventError("detail.ModelPackageVersion is missing and the ARN names no version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise MalformedEventError("detail.ModelPackageVersion is not a positive integer")
    return StateChange(
        account=account,
        model_package_arn=fields["ModelPackageArn"],
        group=fields["ModelPackageGroupName"],
        version=version,
        status=fields["ModelApprovalStatus"],
    )


# --- the message -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PinChange:
    """An endpoint pinned to an older version than the approved one."""

    endpoint: Endpoint
    approved_version: int

    @property
    def yaml_path(self) -> str:
        return config_path(self.endpoint.name)


@dataclass(frozen=True)
class Notification:
    """What goes to the topic: subject, body, and attributes subscribers can filter on."""

    subject: str
    message: str
    attributes: Mapping[str, str]


def config_path(endpoint_name: str) -> str:
    """Where an endpoint's pinned version lives in the environment's configuration."""
    return f"serving.endpoints[{endpoint_name}].model_package.version"


def subject_line(text: str) -> str:
    """An SNS subject: printable ASCII, one line, under 100 characters."""
    ascii_text = "".join(char if " " <= char <= "~" else "?" for char in text)
    return clip(ascii_text, MAX_SUBJECT)


def build_notification(
    *,
    environment: str,
    config_file: str,
    change: StateChange,
    pin_changes: Sequence[PinChange],
    up_to_date: Sequence[Endpoint] = (),
) -> Notification:
    """The message for one approval: the change to `config_file` for each endpoint, and how to ship it."""
    if not pin_changes:
        raise ValueError("a notification needs at least one endpoint to change")
    version = change.version
    if len(pin_changes) == 1:
        [only] = pin_changes
        summary = f"endpoint {only.endpoint.name} pins {only.endpoint.version}"
    else:
        summary = f"{len(pin_changes)} endpoints pin older versions"
    subject = subject_line(f"{environment}: {change.group} version {version} approved, {summary}")

    endpoints = "an endpoint" if len(pin_changes) == 1 else f"{len(pin_changes)} endpoints"
    lines = [
        f"Model package group {change.group}, version {version}, was approved in the model registry of "
        f"account {change.account}.",
        f"{environment} serves this group from {endpoints} pinned to an older version. Nothing was deployed: "
        f"endpoints change only through {config_file} and CloudFormation.",
        "",
        f"Approved model package: {change.model_package_arn}",
        "",
        f"The change to make in {config_file}:",
    ]
    for pin_change in pin_changes:
        endpoint = pin_change.endpoint
        lines += [
            "",
            f"  Endpoint {endpoint.name} (model from {endpoint.source}, account {endpoint.source_account}):",
            f"    path:   {pin_change.yaml_path}",
            f"    change: version: {endpoint.version}  ->  version: {pin_change.approved_version}",
        ]
    lines += [
        "",
        "To promote it:",
        f"  1. Open a pull request with this change to {config_file}.",
        "  2. Review what it changes: make diff BASE=origin/main",
        f"  3. Once the pull request is approved and merged, deploy: make deploy ENV={environment}",
        f"  4. Check the endpoints: make smoke ENV={environment}",
    ]
    if up_to_date:
        pinned = ", ".join(f"{endpoint.name} (pins {endpoint.version})" for endpoint in up_to_date)
        lines += ["", f"Already at version {version} or later, no change: {pinned}."]
    return Notification(
        subject=subject,
        message="\n".join(lines),
        attributes={"environment": environment, "group": change.group, "version": str(version)},
    )


def publish(sns: SNSClient, topic_arn: str, notification: Notification) -> str:
    """Publish the notification; returns SNS's message id."""
    attributes: dict[str, MessageAttributeValueTypeDef] = {
        name: {"DataType": "Number" if name == "version" else "String", "StringValue": value}
        for name, value in notification.attributes.items()
    }
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=notification.subject,
        Message=notification.message,
        MessageAttributes=attributes,
    )
    return response["MessageId"]


# --- the decision ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the notifier did, returned to Lambda (and logged).

    `notified`: the endpoints whose change was published; `skipped`: why nothing was, when nothing was;
    `up_to_date`: endpoints of the group that already pin the approved version or a later one.
    """

    environment: str
    notified: tuple[str, ...] = ()
    skipped: str | None = None
    up_to_date: tuple[str, ...] = ()
    model_package_arn: str | None = None
    model_package_group: str | None = None
    model_package_version: int | None = None
    message_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        summary: dict[str, Any] = {"environment": self.environment, "notified": list(self.notified)}
        if self.skipped is not None:
            summary["skipped"] = self.skipped
        if self.up_to_date:
            summary["up_to_date"] = list(self.up_to_date)
        for key in ("model_package_arn", "model_package_group", "model_package_version", "message_id"):
            value = getattr(self, key)
            if value is not None:
                summary[key] = value
        return summary


def skip(reason: str, *, environment: str, **context: Any) -> Outcome:
    outcome = Outcome(environment=environment, skipped=reason, **context)
    log(logging.INFO, "promotion notifier ignored the event", **outcome.as_dict())
    return outcome


def notify_promotion(event: object, *, settings: Settings, clients: Clients) -> Outcome:
    """Decide on one event: ignore it, or publish the configuration change that promotes the version."""
    environment = settings.environment
    try:
        change = parse_event(event)
    except MalformedEventError as error:
        reason = f"malformed event: {error}"
        log(logging.WARNING, "promotion notifier ignored a malformed event", skipped=reason)
        return Outcome(environment=environment, skipped=reason)
    context: dict[str, Any] = {
        "model_package_arn": change.model_package_arn,
        "model_package_group": change.group,
        "model_package_version": change.version,
    }
    if change.status != APPROVED:
        return skip(f"status is {change.status}, not {APPROVED}", environment=environment, **context)
    serving = [endpoint for endpoint in settings.endpoints if endpoint.serves(change.account, change.group)]
    if not serving:
        reason = f"no endpoint of {environment} serves group {change.group} from account {change.account}"
        return skip(reason, environment=environment, **context)

    pin_changes = [
        PinChange(endpoint=endpoint, approved_version=change.version)
        for endpoint in serving
        if endpoint.version < change.version
    ]
    up_to_date = tuple(endpoint for endpoint in serving if endpoint.version >= change.version)
    context["up_to_date"] = tuple(endpoint.name for endpoint in up_to_date)
    if not pin_changes:
        pinned = ", ".join(f"{endpoint.name} pins {endpoint.version}" for endpoint in up_to_date)
        reason = f"version {change.version} is not newer than the pinned versions ({pinned})"
        return skip(reason, environment=environment, **context)

    notification = build_notification(
        environment=environment,
        config_file=settings.config_file,
        change=change,
        pin_changes=pin_changes,
        up_to_date=up_to_date,
    )
    message_id = publish(clients.sns, settings.topic_arn, notification)
    outcome = Outcome(
        environment=environment,
        notified=tuple(pin_change.endpoint.name for pin_change in pin_changes),
        message_id=message_id,
        **context,
    )
    log(logging.INFO, "promotion notifier published the configuration change", **outcome.as_dict())
    return outcome


def handler(event: object, context: object, *, clients: Clients | None = None) -> dict[str, Any]:
    """Lambda's entry point. `clients` is for tests; Lambda passes only the event and the context."""
    return run(
        log,
        "promotion notifier",
        settings=current_settings,
        decide=lambda settings: notify_promotion(
            event, settings=settings, clients=clients or default_clients()
        ).as_dict(),
    )
