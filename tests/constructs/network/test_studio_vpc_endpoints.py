"""StudioVpcEndpoints: every interface endpoint Studio needs, private DNS, HTTPS from the VPC, S3 gateway."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.network.isolated_vpc import IsolatedVpc
from constructs_lib.network.studio_vpc_endpoints import STUDIO_INTERFACE_ENDPOINTS, StudioVpcEndpoints
from tests.constructs.support import bare_stack, logical_id

EXPECTED_INTERFACE_SERVICES = {
    "com.amazonaws.eu-west-1.sagemaker.api",
    "com.amazonaws.eu-west-1.sagemaker.runtime",
    "aws.sagemaker.eu-west-1.studio",
    "aws.sagemaker.eu-west-1.notebook",
    "com.amazonaws.eu-west-1.sts",
    "com.amazonaws.eu-west-1.logs",
    "com.amazonaws.eu-west-1.monitoring",
    "com.amazonaws.eu-west-1.ecr.api",
    "com.amazonaws.eu-west-1.ecr.dkr",
    "com.amazonaws.eu-west-1.kms",
    "com.amazonaws.eu-west-1.codebuild",
    "com.amazonaws.eu-west-1.ssm",
    "com.amazonaws.eu-west-1.secretsmanager",
    # For functions in the VPC that notify (the model approval guard).
    "com.amazonaws.eu-west-1.sns",
}


@dataclass(frozen=True)
class Endpoints:
    template: Template
    vpc: str
    subnets: list[str]
    route_tables: list[str]
    security_group: str
    names: list[str]


@pytest.fixture(scope="module")
def endpoints(cdk_context: dict[str, Any]) -> Endpoints:
    stack = bare_stack(cdk_context)
    network = IsolatedVpc(
        stack,
        "Network",
        cidr="10.20.0.0/16",
        availability_zones=("eu-west-1a", "eu-west-1b"),
        subnet_cidr_mask=24,
    )
    construct = StudioVpcEndpoints(
        stack, "Endpoints", vpc=network.vpc, subnets=network.subnets, vpc_cidr="10.20.0.0/16"
    )
    return Endpoints(
        Template.from_stack(stack),
        vpc=logical_id(network.vpc),
        subnets=[logical_id(subnet) for subnet in network.subnets],
        route_tables=[logical_id(subnet.node.find_child("RouteTable")) for subnet in network.subnets],
        security_group=logical_id(construct.security_group),
        names=list(construct.interface_endpoints),
    )


def interface_endpoints(endpoints: Endpoints) -> list[dict[str, Any]]:
    return [
        endpoint["Properties"]
        for endpoint in endpoints.template.find_resources(
            "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
        ).values()
    ]


def test_one_interface_endpoint_per_studio_service(endpoints: Endpoints) -> None:
    services = [endpoint["ServiceName"] for endpoint in interface_endpoints(endpoints)]
    assert sorted(services) == sorted(EXPECTED_INTERFACE_SERVICES)
    assert endpoints.names == list(STUDIO_INTERFACE_ENDPOINTS)


def test_interface_endpoints_resolve_privately_in_the_given_subnets(endpoints: Endpoints) -> None:
    for endpoint in interface_endpoints(endpoints):
        assert endpoint["PrivateDnsEnabled"] is True, endpoint["ServiceName"]
        assert endpoint["VpcId"] == {"Ref": endpoints.vpc}
        assert endpoint["SubnetIds"] == [{"Ref": subnet} for subnet in endpoints.subnets]
        assert endpoint["SecurityGroupIds"] == [{"Fn::GetAtt": [endpoints.security_group, "GroupId"]}]


def test_s3_gateway_endpoint_serves_the_subnets_route_tables(endpoints: Endpoints) -> None:
    endpoints.template.resource_count_is("AWS::EC2::VPCEndpoint", len(EXPECTED_INTERFACE_SERVICES) + 1)
    endpoints.template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]},
            "RouteTableIds": [{"Ref": route_table} for route_table in endpoints.route_tables],
        },
    )


def test_endpoint_security_group_allows_only_https_from_the_vpc(endpoints: Endpoints) -> None:
    group = endpoints.template.find_resources("AWS::EC2::SecurityGroup")[endpoints.security_group][
        "Properties"
    ]
    assert [
        {key: rule[key] for key in ("IpProtocol", "FromPort", "ToPort", "CidrIp")}
        for rule in group["SecurityGroupIngress"]
    ] == [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.20.0.0/16"}]
    # CDK's placeholder for "no egress": the endpoints never initiate connections.
    assert [rule["Description"] for rule in group["SecurityGroupEgress"]] == ["Disallow all traffic"]
    endpoints.template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    endpoints.template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)
