"""StudioSecurityGroup: apps reach each other, and only HTTPS and NFS inside the VPC; no CIDR ingress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from constructs_lib.studio.studio_security_group import StudioSecurityGroup
from tests.constructs.support import (
    VPC_CIDR,
    VPC_ID,
    SecurityGroupTemplate,
    bare_stack,
    imported_vpc,
    logical_id,
    synth,
)


@pytest.fixture(scope="module")
def group(cdk_context: dict[str, Any]) -> SecurityGroupTemplate:
    stack = bare_stack(cdk_context)
    construct = StudioSecurityGroup(
        stack, "Studio", vpc=imported_vpc(stack), vpc_cidr=VPC_CIDR, description="Studio domain ml-research"
    )
    return SecurityGroupTemplate(Template.from_stack(stack), logical_id(construct.security_group))


def test_group_is_in_the_vpc_with_its_description(group: SecurityGroupTemplate) -> None:
    group.template.resource_count_is("AWS::EC2::SecurityGroup", 1)
    group.template.has_resource_properties(
        "AWS::EC2::SecurityGroup", {"VpcId": VPC_ID, "GroupDescription": "Studio domain ml-research"}
    )


def test_only_ingress_is_from_the_group_itself(group: SecurityGroupTemplate) -> None:
    group.assert_ingress_only_from_itself("Apps and jobs of this domain")


def test_egress_is_the_group_itself_https_and_nfs_to_the_vpc(group: SecurityGroupTemplate) -> None:
    assert sorted(
        (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIp"]) for rule in group.inline_egress
    ) == [("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 2049, 2049, VPC_CIDR)]
    group.template.resource_count_is("AWS::EC2::SecurityGroupEgress", 1)
    group.template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {
            "GroupId": group.group_id,
            "DestinationSecurityGroupId": group.group_id,
            "IpProtocol": "-1",
            "CidrIp": Match.absent(),
        },
    )


def test_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    StudioSecurityGroup(stack, "Studio", vpc=imported_vpc(stack), vpc_cidr=VPC_CIDR, description="Studio")
    synth(stack)  # raises on any unacknowledged cdk-nag finding
