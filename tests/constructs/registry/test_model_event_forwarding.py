"""ModelEventForwarding: the registry's package state changes of the given groups go to the served accounts'
default buses, through a role that may put events on those buses only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.registry.model_event_forwarding import ModelEventForwarding
from tests.constructs.support import bare_stack, logical_id, resource, synth

PROD_BUS = "arn:aws:events:eu-west-1:330000000003:event-bus/default"
STAGING_BUS = "arn:aws:events:eu-central-1:220000000002:event-bus/default"


@dataclass(frozen=True)
class Forwarding:
    template: Template
    rule: str
    role: str

    def rule_properties(self) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.rule)["Properties"]
        return written


@pytest.fixture(scope="module")
def forwarding(cdk_context: dict[str, Any]) -> Forwarding:
    stack = bare_stack(cdk_context)
    construct = ModelEventForwarding(
        stack,
        "Forwarding",
        group_names=["fraud-detection", "churn-prediction"],
        target_bus_arns=[PROD_BUS, STAGING_BUS, PROD_BUS],
    )
    return Forwarding(
        Template.from_stack(stack),
        rule=logical_id(construct.rule),
        role=logical_id(construct.node.find_child("Role")),
    )


def test_matches_sagemaker_package_state_changes_of_the_groups_only(forwarding: Forwarding) -> None:
    assert forwarding.rule_properties()["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["churn-prediction", "fraud-detection"]},
    }
    assert forwarding.rule_properties()["State"] == "ENABLED"
    # On this account's default bus.
    assert "EventBusName" not in forwarding.rule_properties()


def test_one_target_per_bus_each_through_the_role(forwarding: Forwarding) -> None:
    targets = forwarding.rule_properties()["Targets"]
    assert [(target["Arn"], target["RoleArn"]) for target in targets] == [
        (STAGING_BUS, {"Fn::GetAtt": [forwarding.role, "Arn"]}),
        (PROD_BUS, {"Fn::GetAtt": [forwarding.role, "Arn"]}),
    ]
    # The whole event, unchanged: the served account's rules match on the same fields.
    assert all(set(target) == {"Arn", "Id", "RoleArn"} for target in targets)
    assert len({target["Id"] for target in targets}) == 2


def test_only_eventbridge_may_assume_the_role(forwarding: Forwarding) -> None:
    written = resource(forwarding.template, forwarding.role)["Properties"]
    assert written["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in written


def test_the_role_may_only_put_events_on_the_buses(forwarding: Forwarding) -> None:
    (policy,) = forwarding.template.find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": forwarding.role}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "events:PutEvents", "Effect": "Allow", "Resource": [STAGING_BUS, PROD_BUS]}
    ]
    forwarding.template.resource_count_is("AWS::IAM::ManagedPolicy", 0)


def test_one_bus_one_target(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    construct = ModelEventForwarding(stack, "Forwarding", group_names=["churn"], target_bus_arns=[PROD_BUS])
    written = resource(Template.from_stack(stack), logical_id(construct.rule))["Properties"]
    assert [target["Arn"] for target in written["Targets"]] == [PROD_BUS]
    assert written["EventPattern"]["detail"] == {"ModelPackageGroupName": ["churn"]}


def test_two_buses_of_one_account_in_two_regions(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    other_region = STAGING_BUS.replace("eu-central-1", "eu-west-1")
    construct = ModelEventForwarding(
        stack, "Forwarding", group_names=["churn"], target_bus_arns=[STAGING_BUS, other_region]
    )
    written = resource(Template.from_stack(stack), logical_id(construct.rule))["Properties"]
    assert sorted(target["Arn"] for target in written["Targets"]) == [STAGING_BUS, other_region]


def test_passes_the_compliance_packs_with_its_acknowledgement(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    ModelEventForwarding(
        stack,
        "Forwarding",
        group_names=["fraud-detection", "churn-prediction"],
        target_bus_arns=[PROD_BUS, STAGING_BUS],
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding (NIST IAMNoInlinePolicy is acknowledged)
