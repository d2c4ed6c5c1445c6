"""PromotionNotifier: a rule on approvals forwarded from the source accounts, of the groups the endpoints
serve, invoking the promotion_notifier function (dead-letter queue, retries), which may publish to the topic
and is told the endpoints and their pinned versions."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.observability.alarm_topic import AlarmTopic
from constructs_lib.serving.promotion_notifier import PinnedEndpoint, PromotionNotifier
from constructs_lib.shared.platform_key import PlatformKey
from functions.promotion_notifier.handler import Endpoint, load_settings
from tests.constructs.support import (
    ACCOUNT,
    REGION,
    SUBNET_IDS,
    bare_stack,
    imported_subnets,
    imported_vpc,
    logical_id,
    resource,
    synthesize,
)

DEV = "110000000001"
QA = "444444444444"
# Deliberately unsorted, with a group and an account used twice: the rule lists each once, sorted.
ENDPOINTS = (
    PinnedEndpoint(endpoint="churn-model", source="dev", source_account=DEV, group="churn-model", version=3),
    PinnedEndpoint(endpoint="demand", source="dev", source_account=DEV, group="demand-forecast", version=7),
    PinnedEndpoint(endpoint="churn-qa", source="qa", source_account=QA, group="churn-model", version=1),
)
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:staging-alarms"


@dataclass(frozen=True)
class Notifier:
    template: Template
    nag_errors: list[str]
    notifier: PromotionNotifier
    topic: str
    topic_key: str

    def logical(self, path: str) -> str:
        construct: Any = self.notifier
        for part in path.split("/"):
            construct = construct.node.find_child(part)
        return logical_id(construct)

    def properties(self, path: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.logical(path))["Properties"]
        return written

    def variables(self) -> dict[str, Any]:
        written: dict[str, Any] = self.properties("Notifier/Function")["Environment"]["Variables"]
        return written


@pytest.fixture(scope="module")
def notifier(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Notifier:
    outdir = tmp_path_factory.mktemp("notifier")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    logs_key = PlatformKey(
        stack, "LogsKey", alias="alias/logs", description="Logs", removal_policy=cdk.RemovalPolicy.DESTROY
    )
    logs_key.allow_cloudwatch_logs()
    topic = AlarmTopic(stack, "Alarms", display_name="staging alarms")
    construct = PromotionNotifier(
        stack,
        "PromotionNotifier",
        environment_name="staging",
        config_file="config/staging.yaml",
        endpoints=ENDPOINTS,
        topic=topic.topic,
        vpc=imported_vpc(stack),
        subnets=imported_subnets(stack),
        logs_key=logs_key.key,
    )
    synthesized = synthesize(stack, outdir)
    return Notifier(
        synthesized.template,
        synthesized.nag_errors,
        construct,
        topic=logical_id(topic.topic),
        topic_key=logical_id(topic.key),
    )


# --- the rule -------------------------------------------------------------------------------------------


def test_the_rule_matches_approvals_of_the_served_groups_from_the_source_accounts(notifier: Notifier) -> None:
    notifier.template.resource_count_is("AWS::Events::Rule", 1)
    assert notifier.properties("OnApproval")["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "account": [DEV, QA],
        "detail": {
            "ModelPackageGroupName": ["churn-model", "demand-forecast"],
            "ModelApprovalStatus": ["Approved"],
        },
    }


def test_the_rule_invokes_the_function_with_retries_and_the_dead_letter_queue(notifier: Notifier) -> None:
    (target,) = notifier.properties("OnApproval")["Targets"]
    function = notifier.logical("Notifier/Function")
    assert target["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [notifier.logical("Notifier/DeadLetters"), "Arn"]}
    }
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4}
    (permission,) = notifier.template.find_resources("AWS::Lambda::Permission").values()
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [function, "Arn"]},
        "Principal": "events.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": [notifier.logical("OnApproval"), "Arn"]},
    }


# --- the function ------------------------------------------------------------------------------------------


def test_the_function_runs_the_promotion_notifier_handler(notifier: Notifier) -> None:
    function = notifier.properties("Notifier/Function")
    assert function["Handler"] == "functions.promotion_notifier.handler.handler"
    assert function["VpcConfig"]["SubnetIds"] == list(SUBNET_IDS)
    assert (
        notifier.properties("Notifier/SecurityGroup")["GroupDescription"] == "promotion_notifier: HTTPS out"
    )
    assert logical_id(notifier.notifier.function) == notifier.logical("Notifier/Function")


def test_the_function_is_told_the_environment_file_topic_and_endpoints(notifier: Notifier) -> None:
    variables = notifier.variables()
    assert set(variables) == {"ENVIRONMENT_NAME", "CONFIG_FILE", "TOPIC_ARN", "ENDPOINTS"}
    assert variables["ENVIRONMENT_NAME"] == "staging"
    assert variables["CONFIG_FILE"] == "config/staging.yaml"
    assert variables["TOPIC_ARN"] == {"Ref": notifier.topic}
    assert json.loads(variables["ENDPOINTS"]) == [asdict(endpoint) for endpoint in ENDPOINTS]


def test_the_handler_accepts_the_settings_it_is_given(notifier: Notifier) -> None:
    variables = notifier.variables()
    # The topic's ARN is a reference until deployment: substitute a real one.
    resolved = {name: TOPIC_ARN if name == "TOPIC_ARN" else value for name, value in variables.items()}
    settings = load_settings(resolved)
    assert settings.environment == "staging"
    assert settings.config_file == "config/staging.yaml"
    assert settings.topic_arn == TOPIC_ARN
    assert settings.endpoints == tuple(
        Endpoint(
            name=endpoint.endpoint,
            source=endpoint.source,
            source_account=endpoint.source_account,
            group=endpoint.group,
            version=endpoint.version,
        )
        for endpoint in ENDPOINTS
    )


def test_the_function_may_publish_to_the_topic_only(notifier: Notifier) -> None:
    statements = notifier.properties("Notifier/Policy")["PolicyDocument"]["Statement"]
    publish = [statement for statement in statements if "sns:Publish" in _as_list(statement["Action"])]
    assert publish == [{"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": notifier.topic}}]
    # The topic is encrypted: publishing needs its key.
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [notifier.topic_key, "Arn"]},
    } in statements


def test_dead_letters_have_their_own_key_that_eventbridge_may_use(notifier: Notifier) -> None:
    key_id = notifier.logical("DeadLetterKey")
    key = resource(notifier.template, key_id)["Properties"]
    assert key["EnableKeyRotation"] is True
    assert key["Description"] == "staging: dead letters of the promotion notifier"
    (events,) = [
        statement
        for statement in key["KeyPolicy"]["Statement"]
        if statement["Principal"] == {"Service": "events.amazonaws.com"}
    ]
    assert sorted(_as_list(events["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert notifier.properties("Notifier/DeadLetters")["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_the_rule_may_send_its_failures_to_the_dead_letter_queue(notifier: Notifier) -> None:
    queue = notifier.logical("Notifier/DeadLetters")
    (policy,) = notifier.template.find_resources(
        "AWS::SQS::QueuePolicy", {"Properties": {"Queues": [{"Ref": queue}]}}
    ).values()
    (allowed,) = [
        statement
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
    ]
    assert allowed["Principal"] == {"Service": "events.amazonaws.com"}
    assert allowed["Action"] == "sqs:SendMessage"
    assert allowed["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [notifier.logical("OnApproval"), "Arn"]}}
    }


# --- refusals and compliance -------------------------------------------------------------------------------


def test_no_endpoint_is_refused(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    with pytest.raises(ValueError, match="PromotionNotifier needs at least one endpoint pinned"):
        PromotionNotifier(
            stack,
            "PromotionNotifier",
            environment_name="staging",
            config_file="config/staging.yaml",
            endpoints=[],
            topic=AlarmTopic(stack, "Alarms", display_name="alarms").topic,
            vpc=imported_vpc(stack),
            subnets=imported_subnets(stack),
            logs_key=kms.Key.from_key_arn(
                stack, "LogsKey", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/2b2b2b2b-2b2b-2b2b-2b2b-2b2b2b2b2b2b"
            ),
        )


def test_passes_the_compliance_packs_with_its_acknowledgements(notifier: Notifier) -> None:
    assert notifier.nag_errors == []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
