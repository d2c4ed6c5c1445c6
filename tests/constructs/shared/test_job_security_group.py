"""JobSecurityGroup: jobs reach each other and speak HTTPS out; no CIDR ingress; its NIST acknowledgement."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.shared.job_security_group import JobSecurityGroup
from tests.constructs.support import (
    VPC_ID,
    SecurityGroupTemplate,
    bare_stack,
    imported_vpc,
    logical_id,
    synth,
)


@dataclass(frozen=True)
class Group(SecurityGroupTemplate):
    construct: JobSecurityGroup


@pytest.fixture(scope="module")
def group(cdk_context: dict[str, Any]) -> Group:
    stack = bare_stack(cdk_context)
    construct = JobSecurityGroup(stack, "Jobs", vpc=imported_vpc(stack), description="Pipeline jobs")
    return Group(Template.from_stack(stack), logical_id(construct.security_group), construct)


def test_group_is_in_the_vpc_with_its_description(group: Group) -> None:
    group.template.resource_count_is("AWS::EC2::SecurityGroup", 1)
    group.template.has_resource_properties(
        "AWS::EC2::SecurityGroup", {"VpcId": VPC_ID, "GroupDescription": "Pipeline jobs"}
    )


def test_only_ingress_is_all_traffic_from_the_group_itself(group: Group) -> None:
    group.assert_ingress_only_from_itself("Containers of one distributed job")


def test_egress_is_the_group_itself_and_https_only(group: Group) -> None:
    assert group.inline_egress == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to the VPC endpoints and S3",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert group.standalone_rules("Egress") == [
        {
            "GroupId": group.group_id,
            "DestinationSecurityGroupId": group.group_id,
            "IpProtocol": "-1",
            "Description": "Containers of one distributed job",
        }
    ]


def test_acknowledges_nist_restricted_common_ports_with_a_reason(group: Group) -> None:
    acknowledged = [
        entry.data
        for entry in group.construct.security_group.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    assert len(acknowledged) == 1
    assert list(acknowledged[0]) == ["Annotation::NIST.800.53.R5-EC2RestrictedCommonPorts"]
    reason = acknowledged[0]["Annotation::NIST.800.53.R5-EC2RestrictedCommonPorts"]
    assert isinstance(reason, str)
    assert len(reason) >= 20
    assert "security group itself" in reason


def test_passes_the_compliance_packs_with_its_acknowledgement(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    JobSecurityGroup(stack, "Jobs", vpc=imported_vpc(stack), description="Pipeline jobs")
    synth(stack)  # raises on any unacknowledged cdk-nag finding
