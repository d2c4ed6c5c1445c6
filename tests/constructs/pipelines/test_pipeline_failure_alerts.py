"""PipelineFailureAlerts: failed executions of the given pipelines go to a topic with its own key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk.assertions import Match, Template

from constructs_lib.pipelines.pipeline_failure_alerts import PipelineFailureAlerts
from tests.constructs.support import ACCOUNT, REGION, bare_stack, logical_id, resource, synth

PIPELINES = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline"
# Deliberately unsorted: the rule lists them sorted.
ARNS = [f"{PIPELINES}/scoring", f"{PIPELINES}/churn-training", f"{PIPELINES}/fraud-training"]


@dataclass(frozen=True)
class Alerts:
    template: Template
    topic: str
    key: str


@pytest.fixture(scope="module")
def alerts(cdk_context: dict[str, Any]) -> Alerts:
    stack = bare_stack(cdk_context)
    construct = PipelineFailureAlerts(
        stack, "Alerts", pipeline_arns=ARNS, removal_policy=RemovalPolicy.DESTROY
    )
    return Alerts(
        Template.from_stack(stack),
        topic=logical_id(construct.topic),
        key=logical_id(construct.node.find_child("Key")),
    )


def test_rule_matches_failed_executions_of_the_sorted_pipelines_only(alerts: Alerts) -> None:
    alerts.template.resource_count_is("AWS::Events::Rule", 1)
    (rule,) = alerts.template.find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
        "detail": {"pipelineArn": sorted(ARNS), "currentPipelineExecutionStatus": ["Failed"]},
    }
    assert rule["Properties"]["EventPattern"]["detail"]["pipelineArn"][0] == f"{PIPELINES}/churn-training"


def test_rule_publishes_to_the_topic_only(alerts: Alerts) -> None:
    (rule,) = alerts.template.find_resources("AWS::Events::Rule").values()
    targets = rule["Properties"]["Targets"]
    assert len(targets) == 1
    assert targets[0]["Arn"] == {"Ref": alerts.topic}
    assert "RoleArn" not in targets[0]


def test_topic_is_encrypted_with_its_own_rotated_key(alerts: Alerts) -> None:
    alerts.template.resource_count_is("AWS::SNS::Topic", 1)
    alerts.template.resource_count_is("AWS::KMS::Key", 1)
    topic = resource(alerts.template, alerts.topic)["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [alerts.key, "Arn"]}
    key = resource(alerts.template, alerts.key)
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Delete"  # the removal policy given


def test_key_policy_lets_eventbridge_decrypt_and_generate_data_keys(alerts: Alerts) -> None:
    statements = resource(alerts.template, alerts.key)["Properties"]["KeyPolicy"]["Statement"]
    (events,) = [s for s in statements if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert events["Effect"] == "Allow"
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= set(events["Action"])
    assert not [
        action for action in events["Action"] if action in {"kms:*", "kms:Encrypt", "kms:ScheduleKeyDeletion"}
    ]


def test_topic_enforces_ssl(alerts: Alerts) -> None:
    alerts.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": alerts.topic}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Principal": "*",
                                "Resource": {"Ref": alerts.topic},
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_passes_the_compliance_packs(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    PipelineFailureAlerts(stack, "Alerts", pipeline_arns=ARNS, removal_policy=RemovalPolicy.RETAIN)
    synth(stack)  # raises on any unacknowledged cdk-nag finding


def test_no_pipelines_is_refused(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="needs at least one pipeline"):
        PipelineFailureAlerts(
            bare_stack(cdk_context), "Alerts", pipeline_arns=[], removal_policy=RemovalPolicy.DESTROY
        )
