"""VpcFlowLogs: all traffic into a KMS-encrypted log group with a retention the configuration allows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from constructs_lib.network.vpc_flow_logs import VpcFlowLogs
from constructs_lib.shared.log_retention import RETENTION_BY_DAYS
from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import VPC_ID, bare_stack, imported_vpc, logical_id, resource, synth


@dataclass(frozen=True)
class FlowLogs:
    template: Template
    key: str
    log_groups: dict[int, str]  # retention days -> logical id of the log group
    flow_log: str  # of the 90-day flow logs, the only ones retained


def logs_key_and_vpc(stack: cdk.Stack) -> tuple[PlatformKey, ec2.IVpc]:
    key = PlatformKey(
        stack, "LogsKey", alias="alias/logs", description="Logs", removal_policy=cdk.RemovalPolicy.RETAIN
    )
    key.allow_cloudwatch_logs()
    return key, imported_vpc(stack)


@pytest.fixture(scope="module")
def flow_logs(cdk_context: dict[str, Any]) -> FlowLogs:
    # Flow logs for every allowed retention in one stack, so one synth covers the whole mapping.
    stack = bare_stack(cdk_context)
    key, vpc = logs_key_and_vpc(stack)
    constructs = {
        days: VpcFlowLogs(
            stack,
            f"FlowLogs{days}",
            vpc=vpc,
            encryption_key=key.key,
            retention_days=days,
            removal_policy=cdk.RemovalPolicy.RETAIN if days == 90 else cdk.RemovalPolicy.DESTROY,
        )
        for days in RETENTION_BY_DAYS
    }
    return FlowLogs(
        Template.from_stack(stack),
        key=logical_id(key.key),
        log_groups={days: logical_id(construct.log_group) for days, construct in constructs.items()},
        flow_log=logical_id(constructs[90].node.find_child("FlowLog")),
    )


def test_log_groups_are_encrypted_with_the_given_key(flow_logs: FlowLogs) -> None:
    flow_logs.template.all_resources_properties(
        "AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [flow_logs.key, "Arn"]}}
    )


@pytest.mark.parametrize("days", sorted(RETENTION_BY_DAYS))
def test_retention_in_days_is_the_configured_number(flow_logs: FlowLogs, days: int) -> None:
    assert resource(flow_logs.template, flow_logs.log_groups[days])["Properties"]["RetentionInDays"] == days


@pytest.mark.parametrize(("days", "policy"), [(90, "Retain"), (30, "Delete")])
def test_removal_policy_applies_to_the_log_group(flow_logs: FlowLogs, days: int, policy: str) -> None:
    written = resource(flow_logs.template, flow_logs.log_groups[days])
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


def test_flow_log_records_all_traffic_of_the_vpc_into_cloudwatch_logs(flow_logs: FlowLogs) -> None:
    properties = resource(flow_logs.template, flow_logs.flow_log)["Properties"]
    assert {
        key: properties[key] for key in ("ResourceType", "ResourceId", "TrafficType", "LogDestinationType")
    } == {
        "ResourceType": "VPC",
        "ResourceId": VPC_ID,
        "TrafficType": "ALL",
        "LogDestinationType": "cloud-watch-logs",
    }
    assert properties["LogGroupName"] == {"Ref": flow_logs.log_groups[90]}


@pytest.mark.parametrize("days", [0, 1, 14, 89, 400, 3650])
def test_rejects_a_retention_cloudwatch_logs_or_the_configuration_does_not_offer(
    cdk_context: dict[str, Any], days: int
) -> None:
    stack = bare_stack(cdk_context)
    key, vpc = logs_key_and_vpc(stack)
    with pytest.raises(ValueError, match=rf"retention_days must be one of .*, got {days}$"):
        VpcFlowLogs(
            stack,
            "FlowLogs",
            vpc=vpc,
            encryption_key=key.key,
            retention_days=days,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )


def test_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    key, vpc = logs_key_and_vpc(stack)
    VpcFlowLogs(
        stack,
        "FlowLogs",
        vpc=vpc,
        encryption_key=key.key,
        retention_days=365,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
