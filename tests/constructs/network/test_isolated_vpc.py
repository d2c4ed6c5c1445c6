"""IsolatedVpc: isolated subnets only, one per given zone, no route out; fewer than two zones rejected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.network.isolated_vpc import IsolatedVpc
from tests.constructs.support import bare_stack, logical_id

ZONES = ("eu-west-1a", "eu-west-1c")  # not the stack's first two: the given zones must be the ones used


@dataclass(frozen=True)
class Network:
    template: Template
    vpc: str
    subnets: list[str]


@pytest.fixture(scope="module")
def network(cdk_context: dict[str, Any]) -> Network:
    stack = bare_stack(cdk_context)
    isolated = IsolatedVpc(
        stack, "Network", cidr="10.20.0.0/16", availability_zones=ZONES, subnet_cidr_mask=24
    )
    assert [subnet.node.path for subnet in isolated.subnets] == [
        subnet.node.path for subnet in isolated.vpc.isolated_subnets
    ]
    return Network(
        Template.from_stack(stack),
        vpc=logical_id(isolated.vpc),
        subnets=[logical_id(subnet) for subnet in isolated.subnets],
    )


def test_vpc_has_the_cidr_and_dns(network: Network) -> None:
    network.template.has_resource_properties(
        "AWS::EC2::VPC", {"CidrBlock": "10.20.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True}
    )


@pytest.mark.parametrize(
    "resource_type",
    [
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::EgressOnlyInternetGateway",
        "AWS::EC2::TransitGatewayAttachment",
        # Not even a route to 0.0.0.0/0: the route tables hold only the local route.
        "AWS::EC2::Route",
    ],
)
def test_no_path_out_of_the_vpc(network: Network, resource_type: str) -> None:
    network.template.resource_count_is(resource_type, 0)


def test_one_isolated_subnet_per_given_zone(network: Network) -> None:
    subnets = network.template.find_resources("AWS::EC2::Subnet")
    assert sorted(subnets) == sorted(network.subnets)
    assert sorted(subnet["Properties"]["AvailabilityZone"] for subnet in subnets.values()) == list(ZONES)
    for subnet in subnets.values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
        assert subnet["Properties"]["CidrBlock"].endswith("/24")
        assert {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in subnet["Properties"]["Tags"]


def test_subnets_tell_cfn_lint_their_literal_zones_are_intended(network: Network) -> None:
    for subnet in network.template.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["W3010"]}}


def test_default_security_group_is_emptied(network: Network) -> None:
    network.template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)
    handlers = network.template.find_resources("AWS::Lambda::Function")
    assert [handler["Metadata"]["cfn-lint"] for handler in handlers.values()] == [
        {"config": {"ignore_checks": ["W3005"]}}
    ]


@pytest.mark.parametrize("zones", [(), ("eu-west-1a",)])
def test_rejects_fewer_than_two_zones(cdk_context: dict[str, Any], zones: tuple[str, ...]) -> None:
    stack = bare_stack(cdk_context)
    with pytest.raises(ValueError, match="at least two availability zones"):
        IsolatedVpc(stack, "Network", cidr="10.20.0.0/16", availability_zones=zones, subnet_cidr_mask=24)
