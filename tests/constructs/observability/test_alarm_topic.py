"""AlarmTopic: an SNS topic encrypted with its own rotated key, which CloudWatch and EventBridge may use,
refusing publishing without TLS, with e-mail subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk.assertions import Template

from constructs_lib.observability.alarm_topic import AlarmTopic
from tests.constructs.support import bare_stack, logical_id, resource, synthesize

EMAILS = ("ml-platform@example.com", "ml-oncall@example.com")


@dataclass(frozen=True)
class Topics:
    template: Template
    nag_errors: list[str]
    alarms: AlarmTopic  # two e-mails, retained key
    quiet: AlarmTopic  # no e-mail, the default removal policy

    def logical(self, topic: str, child: str) -> str:
        return logical_id(getattr(self, topic).node.find_child(child))

    def subscriptions(self, topic: str) -> list[dict[str, Any]]:
        return [
            written["Properties"]
            for written in self.template.find_resources("AWS::SNS::Subscription").values()
            if written["Properties"]["TopicArn"] == {"Ref": self.logical(topic, "Topic")}
        ]


@pytest.fixture(scope="module")
def topics(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Topics:
    outdir = tmp_path_factory.mktemp("topic")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    alarms = AlarmTopic(
        stack,
        "Alarms",
        display_name="SageMaker platform prod: alarms",
        emails=EMAILS,
        removal_policy=RemovalPolicy.RETAIN,
    )
    quiet = AlarmTopic(stack, "Quiet", display_name="Quiet")
    synthesized = synthesize(stack, outdir)
    return Topics(synthesized.template, synthesized.nag_errors, alarms, quiet)


def test_one_key_and_one_topic_each(topics: Topics) -> None:
    topics.template.resource_count_is("AWS::KMS::Key", 2)
    topics.template.resource_count_is("AWS::SNS::Topic", 2)
    assert logical_id(topics.alarms.topic) == topics.logical("alarms", "Topic")
    assert logical_id(topics.alarms.key) == topics.logical("alarms", "Key")


def test_the_topic_is_encrypted_with_its_own_key(topics: Topics) -> None:
    topic = resource(topics.template, topics.logical("alarms", "Topic"))["Properties"]
    assert topic == {
        "DisplayName": "SageMaker platform prod: alarms",
        "KmsMasterKeyId": {"Fn::GetAtt": [topics.logical("alarms", "Key"), "Arn"]},
    }


@pytest.mark.parametrize(("topic", "policy"), [("alarms", "Retain"), ("quiet", "Delete")])
def test_the_key_rotates_and_follows_the_removal_policy(topics: Topics, topic: str, policy: str) -> None:
    key = resource(topics.template, topics.logical(topic, "Key"))
    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == (policy, policy)


def test_the_key_describes_its_topic(topics: Topics) -> None:
    key = resource(topics.template, topics.logical("alarms", "Key"))["Properties"]
    assert key["Description"] == "SageMaker platform prod: alarms: SNS messages"


def test_cloudwatch_and_eventbridge_may_use_the_key(topics: Topics) -> None:
    statements = resource(topics.template, topics.logical("alarms", "Key"))["Properties"]["KeyPolicy"][
        "Statement"
    ]
    (services,) = [statement for statement in statements if "Service" in statement["Principal"]]
    assert services == {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
        "Resource": "*",
    }
    # The only other statement is the account's own (IAM decides for its principals).
    others = [statement for statement in statements if statement is not services]
    assert [statement["Principal"] for statement in others] == [{"AWS": "arn:aws:iam::123456789012:root"}]


def test_the_topic_refuses_publishing_without_tls_and_takes_this_accounts_alarms(topics: Topics) -> None:
    topic = topics.logical("alarms", "Topic")
    (policy,) = topics.template.find_resources(
        "AWS::SNS::TopicPolicy", {"Properties": {"Topics": [{"Ref": topic}]}}
    ).values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Sid": "AllowPublishThroughSSLOnly",
            "Action": "sns:Publish",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": "*",
            "Resource": {"Ref": topic},
        },
        # With an access policy, SNS refuses CloudWatch unless the policy names it (the IAM evaluation in
        # tests/iam sends every configured alarm's publish request).
        {
            "Sid": "CloudWatchAlarmsOfThisAccount",
            "Action": "sns:Publish",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*"},
            },
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Resource": {"Ref": topic},
        },
    ]


def test_the_given_addresses_are_subscribed_by_email(topics: Topics) -> None:
    topic = {"Ref": topics.logical("alarms", "Topic")}
    assert sorted(topics.subscriptions("alarms"), key=lambda subscription: subscription["Endpoint"]) == [
        {"Endpoint": email, "Protocol": "email", "TopicArn": topic} for email in sorted(EMAILS)
    ]


def test_no_subscription_without_addresses(topics: Topics) -> None:
    assert topics.subscriptions("quiet") == []
    topics.template.resource_count_is("AWS::SNS::Subscription", len(EMAILS))


def test_passes_the_compliance_packs(topics: Topics) -> None:
    assert topics.nag_errors == []
