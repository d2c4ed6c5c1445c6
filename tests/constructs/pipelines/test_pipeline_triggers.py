"""PipelineTriggers: new data under a prefix and/or a schedule start one pipeline; nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from constructs_lib.pipelines.pipeline_triggers import PipelineTriggers
from tests.constructs.support import ACCOUNT, REGION, bare_stack, logical_id, resource, synth

PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/churn-training"
BUCKET = "platform-data-dev"
PREFIX = "incoming/churn/"
SCHEDULE = "cron(0 3 * * ? *)"
EVENT_PARAMETERS = {
    "SourceBucket": "$.detail.bucket.name",
    "SourceKey": "$.detail.object.key",
    "SourceVersion": "$.detail.object.version-id",
}


@dataclass(frozen=True)
class Triggers:
    template: Template
    role: str
    policy: str

    def rules(self) -> dict[str, dict[str, Any]]:
        return {
            logical: dict(rule["Properties"])
            for logical, rule in self.template.find_resources("AWS::Events::Rule").items()
        }

    @property
    def target(self) -> dict[str, Any]:
        """The target every rule has: the pipeline, started as the triggers' role."""
        return {"Id": "Pipeline", "Arn": PIPELINE_ARN, "RoleArn": {"Fn::GetAtt": [self.role, "Arn"]}}


def add_triggers(stack: cdk.Stack, *, data_prefix: str | None, schedule: str | None) -> PipelineTriggers:
    return PipelineTriggers(
        stack,
        "Triggers",
        pipeline_name="Churn-Training",
        pipeline_arn=PIPELINE_ARN,
        data_bucket=s3.Bucket.from_bucket_name(stack, "Data", BUCKET),
        data_prefix=data_prefix,
        schedule=schedule,
        event_parameters=EVENT_PARAMETERS,
    )


def build(cdk_context: dict[str, Any], *, data_prefix: str | None, schedule: str | None) -> Triggers:
    stack = bare_stack(cdk_context)
    construct = add_triggers(stack, data_prefix=data_prefix, schedule=schedule)
    return Triggers(
        Template.from_stack(stack),
        role=logical_id(construct.node.find_child("Role")),
        policy=logical_id(construct.node.find_child("Policy")),
    )


@pytest.fixture(scope="module")
def on_data(cdk_context: dict[str, Any]) -> Triggers:
    return build(cdk_context, data_prefix=PREFIX, schedule=None)


@pytest.fixture(scope="module")
def on_schedule(cdk_context: dict[str, Any]) -> Triggers:
    return build(cdk_context, data_prefix=None, schedule=SCHEDULE)


@pytest.fixture(scope="module")
def on_both(cdk_context: dict[str, Any]) -> Triggers:
    return build(cdk_context, data_prefix=PREFIX, schedule=SCHEDULE)


def data_rule(triggers: Triggers) -> dict[str, Any]:
    return {
        "Description": f"New data under {PREFIX} starts Churn-Training",
        "EventPattern": {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": PREFIX}]}},
        },
        "Targets": [
            {
                **triggers.target,
                "SageMakerPipelineParameters": {
                    "PipelineParameterList": [
                        {"Name": "SourceBucket", "Value": "$.detail.bucket.name"},
                        {"Name": "SourceKey", "Value": "$.detail.object.key"},
                        {"Name": "SourceVersion", "Value": "$.detail.object.version-id"},
                    ]
                },
            }
        ],
    }


def schedule_rule(triggers: Triggers) -> dict[str, Any]:
    return {
        "Description": f"Churn-Training on {SCHEDULE}",
        "ScheduleExpression": SCHEDULE,
        "Targets": [triggers.target],
    }


def test_new_data_under_the_prefix_starts_the_pipeline_with_the_event_parameters(on_data: Triggers) -> None:
    assert list(on_data.rules().values()) == [data_rule(on_data)]


def test_a_schedule_starts_the_pipeline_without_parameters(on_schedule: Triggers) -> None:
    assert list(on_schedule.rules().values()) == [schedule_rule(on_schedule)]
    on_schedule.template.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": Match.absent(), "Targets": [{"SageMakerPipelineParameters": Match.absent()}]},
    )


def test_both_give_two_rules_with_one_role(on_both: Triggers) -> None:
    rules = on_both.rules()
    assert len(rules) == 2
    assert sorted(rules.values(), key=lambda rule: "ScheduleExpression" in rule) == [
        data_rule(on_both),
        schedule_rule(on_both),
    ]
    on_both.template.resource_count_is("AWS::IAM::Role", 1)


def test_neither_is_rejected(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    with pytest.raises(ValueError, match="needs a data_prefix, a schedule or both"):
        add_triggers(stack, data_prefix=None, schedule=None)
    assert not [child for child in stack.node.find_all() if isinstance(child, cdk.CfnResource)]


def test_role_may_only_start_executions_of_that_pipeline(on_both: Triggers) -> None:
    role = resource(on_both.template, on_both.role)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}
    ]
    assert "Policies" not in role
    assert "ManagedPolicyArns" not in role
    on_both.template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    on_both.template.resource_count_is("AWS::IAM::Policy", 0)
    policy = resource(on_both.template, on_both.policy)["Properties"]
    assert policy["Roles"] == [{"Ref": on_both.role}]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": "sagemaker:StartPipelineExecution", "Effect": "Allow", "Resource": PIPELINE_ARN}
    ]


def test_passes_the_compliance_packs(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    add_triggers(stack, data_prefix=PREFIX, schedule=SCHEDULE)
    synth(stack)  # raises on any unacknowledged cdk-nag finding
