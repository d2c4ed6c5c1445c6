"""The promotion notifier against moto's SNS: an approval becomes the configuration change to review."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from typing import Any, Final

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from functions._runtime.entry import ConfigurationError
from functions.promotion_notifier import handler as notifier_module
from functions.promotion_notifier.handler import (
    MAX_SUBJECT,
    Clients,
    Endpoint,
    MalformedEventError,
    PinChange,
    StateChange,
    build_notification,
    config_path,
    handler,
    load_settings,
    parse_event,
)
from tests.functions import support
from tests.functions.support import REGION

ENVIRONMENT: Final = "staging"
CONFIG_FILE: Final = "config/staging.yaml"
TOPIC_NAME: Final = "staging-model-promotions"
TOPIC_ARN: Final = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:{TOPIC_NAME}"
BUILD_ACCOUNT: Final = "110000000001"
OTHER_ACCOUNT: Final = "330000000003"
GROUP: Final = "churn-model"

CHURN: Final = {
    "endpoint": "churn-model",
    "source": "dev",
    "source_account": BUILD_ACCOUNT,
    "group": GROUP,
    "version": 3,
}
DEMAND: Final = {
    "endpoint": "demand-forecast",
    "source": "dev",
    "source_account": BUILD_ACCOUNT,
    "group": "demand-forecast",
    "version": 7,
}
ENDPOINTS: Final = [CHURN, DEMAND]

Notification = tuple[str, str, str | None, dict[str, Any] | None, str | None]


def package_arn(version: int, group: str = GROUP, account: str = BUILD_ACCOUNT) -> str:
    return f"arn:aws:sagemaker:{REGION}:{account}:model-package/{group.lower()}/{version}"


def state_change(
    version: int, *, group: str = GROUP, status: str = "Approved", account: str = BUILD_ACCOUNT
) -> dict[str, Any]:
    """The event the build account's bus forwards: SageMaker's own, with the build account's id."""
    return support.state_change(package_arn(version, group, account), group, version, status, account=account)


def environ(endpoints: object = ENDPOINTS, **overrides: str) -> dict[str, str]:
    raw = endpoints if isinstance(endpoints, str) else json.dumps(endpoints)
    return {
        "ENVIRONMENT_NAME": ENVIRONMENT,
        "CONFIG_FILE": CONFIG_FILE,
        "TOPIC_ARN": TOPIC_ARN,
        "ENDPOINTS": raw,
        **overrides,
    }


class Topic:
    """The serving account's topic in moto, and what was published to it."""

    def __init__(self, session: boto3.Session) -> None:
        self.sns = session.client("sns")
        self.clients = Clients(sns=self.sns)
        assert self.sns.create_topic(Name=TOPIC_NAME)["TopicArn"] == TOPIC_ARN

    def notifications(self) -> list[Notification]:
        """(message id, message, subject, attributes, group id) of each message published to the topic.

        moto's backend is internal API, but it is the only place a test can read what was published.
        """
        return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[TOPIC_ARN].sent_notifications)

    def only_notification(self) -> Notification:
        [notification] = self.notifications()
        return notification


@pytest.fixture(autouse=True)
def notifier_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The function's configuration, and a cold start: the per-environment caches are empty."""
    for name, value in environ().items():
        monkeypatch.setenv(name, value)
    notifier_module.current_settings.cache_clear()
    notifier_module.default_clients.cache_clear()
    yield
    notifier_module.current_settings.cache_clear()
    notifier_module.default_clients.cache_clear()


def use_endpoints(monkeypatch: pytest.MonkeyPatch, endpoints: object) -> None:
    monkeypatch.setenv("ENDPOINTS", endpoints if isinstance(endpoints, str) else json.dumps(endpoints))
    notifier_module.current_settings.cache_clear()


@pytest.fixture
def topic(boto_session: boto3.Session) -> Iterator[Topic]:
    with mock_aws():
        yield Topic(boto_session)


def run(topic: Topic, event: object) -> dict[str, Any]:
    return handler(event, None, clients=topic.clients)


# --- notifying -------------------------------------------------------------------------------------------


def test_a_newer_approved_version_publishes_the_exact_configuration_change(topic: Topic) -> None:
    event = state_change(5)

    summary = run(topic, event)

    message_id, message, subject, attributes, _ = topic.only_notification()
    assert summary == {
        "environment": ENVIRONMENT,
        "notified": ["churn-model"],
        "model_package_arn": package_arn(5),
        "model_package_group": GROUP,
        "model_package_version": 5,
        "message_id": message_id,
    }
    assert subject == "staging: churn-model version 5 approved, endpoint churn-model pins 3"
    for expected in (
        f"account {BUILD_ACCOUNT}",
        "Nothing was deployed",
        f"Approved model package: {package_arn(5)}",
        f"The change to make in {CONFIG_FILE}:",
        "path:   serving.endpoints[churn-model].model_package.version",
        "change: version: 3  ->  version: 5",
        f"Open a pull request with this change to {CONFIG_FILE}.",
        "make diff BASE=origin/main",
        "make deploy ENV=staging",
        "make smoke ENV=staging",
    ):
        assert expected in message, expected
    # The steps are in order.
    steps = ["Open a pull request", "make diff", "make deploy", "make smoke"]
    assert [message.index(step) for step in steps] == sorted(message.index(step) for step in steps)
    assert "Already at" not in message
    assert attributes == {
        "environment": {"Type": "String", "Value": ENVIRONMENT},
        "group": {"Type": "String", "Value": GROUP},
        "version": {"Type": "Number", "Value": "5"},
    }


def test_every_endpoint_pinning_the_group_is_listed_in_one_message(
    topic: Topic, monkeypatch: pytest.MonkeyPatch
) -> None:
    shadow = {**CHURN, "endpoint": "churn-model-shadow", "version": 4}
    use_endpoints(monkeypatch, [CHURN, shadow, DEMAND])

    summary = run(topic, state_change(6))

    assert summary["notified"] == ["churn-model", "churn-model-shadow"]
    _, message, subject, _, _ = topic.only_notification()
    assert subject == "staging: churn-model version 6 approved, 2 endpoints pin older versions"
    assert "from 2 endpoints pinned to an older version" in message
    for endpoint, pinned in (("churn-model", 3), ("churn-model-shadow", 4)):
        assert f"serving.endpoints[{endpoint}].model_package.version" in message
        assert f"change: version: {pinned}  ->  version: 6" in message
    assert "demand-forecast" not in message


def test_endpoints_already_at_or_past_the_version_are_named_but_not_changed(
    topic: Topic, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = {**CHURN, "endpoint": "churn-model-canary", "version": 5}
    ahead = {**CHURN, "endpoint": "churn-model-next", "version": 6}
    use_endpoints(monkeypatch, [CHURN, canary, ahead])

    summary = run(topic, state_change(5))

    assert summary["notified"] == ["churn-model"]
    assert summary["up_to_date"] == ["churn-model-canary", "churn-model-next"]
    assert "skipped" not in summary
    _, message, subject, _, _ = topic.only_notification()
    assert subject == "staging: churn-model version 5 approved, endpoint churn-model pins 3"
    assert "serving.endpoints[churn-model-canary]" not in message
    assert (
        "Already at version 5 or later, no change: churn-model-canary (pins 5), churn-model-next (pins 6)."
        in message
    )


def test_group_names_compare_case_insensitively(topic: Topic, monkeypatch: pytest.MonkeyPatch) -> None:
    use_endpoints(monkeypatch, [{**CHURN, "group": "Churn-Model"}])

    summary = run(topic, state_change(4))  # the event's group and ARN are lower case

    assert summary["notified"] == ["churn-model"]
    assert len(topic.notifications()) == 1


def test_the_version_comes_from_the_arn_when_the_event_lacks_it(topic: Topic) -> None:
    event = state_change(9)
    del event["detail"]["ModelPackageVersion"]

    summary = run(topic, event)

    assert summary["model_package_version"] == 9
    _, message, _, _, _ = topic.only_notification()
    assert "change: version: 3  ->  version: 9" in message


# --- what the notifier leaves alone ----------------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 2, 1])
def test_a_version_no_newer_than_the_pinned_one_is_not_announced(topic: Topic, version: int) -> None:
    summary = run(topic, state_change(version))

    assert summary["notified"] == []
    assert (
        summary["skipped"] == f"version {version} is not newer than the pinned versions (churn-model pins 3)"
    )
    assert summary["up_to_date"] == ["churn-model"]
    assert topic.notifications() == []


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_other_statuses_are_ignored(topic: Topic, status: str) -> None:
    summary = run(topic, state_change(5, status=status))

    assert summary == {
        "environment": ENVIRONMENT,
        "notified": [],
        "skipped": f"status is {status}, not Approved",
        "model_package_arn": package_arn(5),
        "model_package_group": GROUP,
        "model_package_version": 5,
    }
    assert topic.notifications() == []


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            state_change(5, group="scratch-models"),
            f"no endpoint of staging serves group scratch-models from account {BUILD_ACCOUNT}",
        ),
        (
            state_change(5, account=OTHER_ACCOUNT),
            f"no endpoint of staging serves group {GROUP} from account {OTHER_ACCOUNT}",
        ),
    ],
    ids=["another group", "the same group in another account"],
)
def test_a_group_or_account_no_endpoint_uses_is_ignored(
    topic: Topic, event: dict[str, Any], reason: str
) -> None:
    summary = run(topic, event)

    assert summary["notified"] == []
    assert summary["skipped"] == reason
    assert topic.notifications() == []


def test_an_environment_without_endpoints_ignores_everything(
    topic: Topic, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_endpoints(monkeypatch, [])

    summary = run(topic, state_change(5))

    assert summary["skipped"].startswith("no endpoint of staging serves group")
    assert topic.notifications() == []


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in mapping.items() if name != key}


def _with_detail(event: dict[str, Any], name: str, value: object) -> dict[str, Any]:
    return {**event, "detail": {**event["detail"], name: value}}


MALFORMED_EVENTS: list[tuple[str, Any, str]] = [
    ("none", lambda event: None, "event is a NoneType, not an object"),
    ("list", lambda event: [event], "event is a list, not an object"),
    ("wrong source", lambda event: {**event, "source": "custom.pipeline"}, "source is 'custom.pipeline'"),
    (
        "wrong detail-type",
        lambda event: {**event, "detail-type": "SageMaker Model State Change"},
        "detail-type is 'SageMaker Model State Change'",
    ),
    ("no account", lambda event: _without(event, "account"), "account is None, not a 12-digit account id"),
    ("account a number", lambda event: {**event, "account": 110000000001}, "not a 12-digit account id"),
    ("no detail", lambda event: _without(event, "detail"), "detail is missing or not an object"),
    (
        "no ModelPackageArn",
        lambda event: {**event, "detail": _without(event["detail"], "ModelPackageArn")},
        "detail.ModelPackageArn is missing or not a non-empty string",
    ),
    (
        "ModelPackageArn not an ARN",
        lambda event: _with_detail(event, "ModelPackageArn", "churn-model/5"),
        "detail.ModelPackageArn is not a model package ARN",
    ),
    (
        "ModelPackageArn of another account",
        lambda event: _with_detail(event, "ModelPackageArn", package_arn(5, account=OTHER_ACCOUNT)),
        f"detail.ModelPackageArn is in account {OTHER_ACCOUNT}, but the event comes from {BUILD_ACCOUNT}",
    ),
    (
        "no group",
        lambda event: {**event, "detail": _without(event["detail"], "ModelPackageGroupName")},
        "detail.ModelPackageGroupName is missing",
    ),
    (
        "status null",
        lambda event: _with_detail(event, "ModelApprovalStatus", None),
        "detail.ModelApprovalStatus is missing",
    ),
    (
        "version a string",
        lambda event: _with_detail(event, "ModelPackageVersion", "5"),
        "detail.ModelPackageVersion is not a positive integer",
    ),
    (
        "version a bool",
        lambda event: _with_detail(event, "ModelPackageVersion", True),
        "detail.ModelPackageVersion is not a positive integer",
    ),
    (
        "version zero",
        lambda event: _with_detail(event, "ModelPackageVersion", 0),
        "detail.ModelPackageVersion is not a positive integer",
    ),
    (
        "no version anywhere",
        lambda event: {
            **event,
            "detail": {
                **_without(event["detail"], "ModelPackageVersion"),
                "ModelPackageArn": f"arn:aws:sagemaker:{REGION}:{BUILD_ACCOUNT}:model-package/churn-model",
            },
        },
        "detail.ModelPackageVersion is missing and the ARN names no version",
    ),
]


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [pytest.param(corrupt, reason, id=name) for name, corrupt, reason in MALFORMED_EVENTS],
)
def test_a_malformed_event_is_ignored(topic: Topic, corrupt: Any, reason: str) -> None:
    summary = run(topic, corrupt(copy.deepcopy(state_change(5))))

    assert summary["notified"] == []
    assert summary["skipped"].startswith("malformed event: ")
    assert reason in summary["skipped"]
    assert topic.notifications() == []


def test_a_huge_foreign_value_is_clipped_in_the_reason() -> None:
    with pytest.raises(MalformedEventError) as raised:
        parse_event({"source": "x" * 10_000})

    assert len(str(raised.value)) < 200


# --- failures that must be retried -----------------------------------------------------------------------


def test_an_sns_error_is_raised_for_lambda_to_retry(topic: Topic) -> None:
    topic.sns.delete_topic(TopicArn=TOPIC_ARN)

    with pytest.raises(ClientError) as raised:
        run(topic, state_change(5))

    assert raised.value.operation_name == "Publish"


def test_a_misconfigured_function_fails_on_every_event(topic: Topic, monkeypatch: pytest.MonkeyPatch) -> None:
    use_endpoints(monkeypatch, [{**CHURN, "version": "3"}])

    for _ in range(2):  # the failure is not cached: it repeats until the configuration is fixed
        with pytest.raises(ConfigurationError, match=r"ENDPOINTS\[0\]\.version"):
            run(topic, state_change(5))
    assert topic.notifications() == []


# --- Lambda's own path: default clients, logs ------------------------------------------------------------


def test_without_injected_clients_the_handler_uses_the_lambda_region(topic: Topic) -> None:
    summary = handler(state_change(5), None)

    assert summary["notified"] == ["churn-model"]
    assert len(topic.notifications()) == 1
    config = vars(notifier_module.default_clients().sns.meta.config)  # botocore's stubs omit `retries`
    assert config["retries"] == {"mode": "standard", "total_max_attempts": 5}  # 4 retries


def test_a_notification_is_logged_as_searchable_fields(
    topic: Topic, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="promotion_notifier"):
        run(topic, state_change(5))

    [record] = [record for record in caplog.records if "published" in record.getMessage()]
    assert 'notified=["churn-model"]' in record.getMessage()
    assert record.__dict__["model_package_version"] == 5


# --- configuration ---------------------------------------------------------------------------------------


def test_the_configuration_loads() -> None:
    settings = load_settings(environ())

    assert settings.environment == ENVIRONMENT
    assert settings.config_file == CONFIG_FILE
    assert settings.topic_arn == TOPIC_ARN
    assert settings.endpoints == (
        Endpoint(name="churn-model", source="dev", source_account=BUILD_ACCOUNT, group=GROUP, version=3),
        Endpoint(
            name="demand-forecast",
            source="dev",
            source_account=BUILD_ACCOUNT,
            group="demand-forecast",
            version=7,
        ),
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ENVIRONMENT_NAME": ""}, "ENVIRONMENT_NAME: expected an environment name"),
        ({"ENVIRONMENT_NAME": "Staging"}, "ENVIRONMENT_NAME: expected an environment name"),
        ({"ENVIRONMENT_NAME": "staging'; rm -rf /"}, "ENVIRONMENT_NAME: expected an environment name"),
        ({"CONFIG_FILE": ""}, "CONFIG_FILE: expected the configuration file's path"),
        ({"CONFIG_FILE": "config/staging.yaml\nversion: 9"}, "CONFIG_FILE: expected"),
        ({"TOPIC_ARN": "staging-model-promotions"}, "TOPIC_ARN: expected an SNS topic ARN"),
        ({"ENDPOINTS": ""}, "ENDPOINTS is not set"),
        ({"ENDPOINTS": "[{endpoint: churn-model"}, "ENDPOINTS is not valid JSON"),
        ({"ENDPOINTS": "{}"}, "ENDPOINTS must be a JSON list of endpoints"),
        ({"ENDPOINTS": '[{"endpoint": "a", "endpoint": "b"}]'}, "ENDPOINTS: duplicate keys ['endpoint']"),
        ({"ENDPOINTS": "[3]"}, "ENDPOINTS[0]: expected an object with"),
        (
            {"ENDPOINTS": json.dumps([{**CHURN, "instance_type": "ml.m5.large"}])},
            "ENDPOINTS[0]: unknown keys ['instance_type']",
        ),
        ({"ENDPOINTS": json.dumps([_without(CHURN, "group")])}, "ENDPOINTS[0]: missing keys ['group']"),
        (
            {"ENDPOINTS": json.dumps([{**CHURN, "endpoint": "churn_model"}])},
            "ENDPOINTS[0].endpoint: expected an endpoint name",
        ),
        ({"ENDPOINTS": json.dumps([{**CHURN, "source": "Dev"}])}, "ENDPOINTS[0].source: expected"),
        (
            {"ENDPOINTS": json.dumps([{**CHURN, "source_account": 110000000001}])},
            "ENDPOINTS[0].source_account: expected a 12-digit account id (a string), got 110000000001",
        ),
        (
            {"ENDPOINTS": json.dumps([CHURN, {**CHURN, "group": "churn model"}])},
            "ENDPOINTS[1].group: expected a model package group name",
        ),
        ({"ENDPOINTS": json.dumps([{**CHURN, "version": 0}])}, "ENDPOINTS[0].version: expected"),
        ({"ENDPOINTS": json.dumps([{**CHURN, "version": True}])}, "ENDPOINTS[0].version: expected"),
        ({"ENDPOINTS": json.dumps([{**CHURN, "version": 3.0}])}, "ENDPOINTS[0].version: expected"),
        (
            {"ENDPOINTS": json.dumps([CHURN, {**DEMAND, "endpoint": "churn-model"}])},
            "ENDPOINTS: endpoints listed more than once: ['churn-model']",
        ),
    ],
)
def test_a_bad_configuration_is_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings({**environ(), **overrides})

    assert message in str(raised.value)


def test_a_missing_variable_is_named() -> None:
    with pytest.raises(ConfigurationError, match="ENDPOINTS is not set"):
        load_settings(_without(environ(), "ENDPOINTS"))


# --- the message, without AWS ----------------------------------------------------------------------------


def _endpoint(name: str = "churn-model", version: int = 3, group: str = GROUP) -> Endpoint:
    return Endpoint(name=name, source="dev", source_account=BUILD_ACCOUNT, group=group, version=version)


def _change(version: int = 5, group: str = GROUP) -> StateChange:
    return StateChange(
        account=BUILD_ACCOUNT,
        model_package_arn=package_arn(version, group),
        group=group,
        version=version,
        status="Approved",
    )


def test_the_message_is_built_without_aws() -> None:
    notification = build_notification(
        environment="prod",
        config_file="config/prod.yaml",
        change=_change(12),
        pin_changes=[PinChange(endpoint=_endpoint(version=10), approved_version=12)],
    )

    assert notification.subject == "prod: churn-model version 12 approved, endpoint churn-model pins 10"
    assert notification.attributes == {"environment": "prod", "group": GROUP, "version": "12"}
    assert notification.message == "\n".join(
        [
            f"Model package group churn-model, version 12, was approved in the model registry of account "
            f"{BUILD_ACCOUNT}.",
            "prod serves this group from an endpoint pinned to an older version. Nothing was deployed: "
            "endpoints change only through config/prod.yaml and CloudFormation.",
            "",
            f"Approved model package: {package_arn(12)}",
            "",
            "The change to make in config/prod.yaml:",
            "",
            f"  Endpoint churn-model (model from dev, account {BUILD_ACCOUNT}):",
            "    path:   serving.endpoints[churn-model].model_package.version",
            "    change: version: 10  ->  version: 12",
            "",
            "To promote it:",
            "  1. Open a pull request with this change to config/prod.yaml.",
            "  2. Review what it changes: make diff BASE=origin/main",
            "  3. Once the pull request is approved and merged, deploy: make deploy ENV=prod",
            "  4. Check the endpoints: make smoke ENV=prod",
        ]
    )


def test_a_long_subject_is_clipped_under_the_sns_limit() -> None:
    group = "g" * 63
    endpoint = _endpoint(name="e" * 63, group=group)
    notification = build_notification(
        environment="staging",
        config_file=CONFIG_FILE,
        change=_change(1234567, group=group),
        pin_changes=[PinChange(endpoint=endpoint, approved_version=1234567)],
    )

    assert len(notification.subject) == MAX_SUBJECT
    assert notification.subject.endswith("...")


def test_a_message_needs_an_endpoint_to_change() -> None:
    with pytest.raises(ValueError, match="at least one endpoint"):
        build_notification(environment="staging", config_file=CONFIG_FILE, change=_change(), pin_changes=[])


def test_the_yaml_path_names_the_endpoint() -> None:
    assert config_path("churn-model") == "serving.endpoints[churn-model].model_package.version"
