"""A VPC with no path to the internet, for VPC-only SageMaker Studio."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct


class IsolatedVpc(Construct):
    """VPC with one private isolated subnet per availability zone: no internet or NAT gateway.

    Exposes `vpc` and `subnets` (the isolated subnets). AZs are passed explicitly so synth needs no
    lookup; the owning stack must report the same zones (see `stacks.network_stack`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        availability_zones: Sequence[str],
        subnet_cidr_mask: int,
    ) -> None:
        super().__init__(scope, construct_id)
        if len(availability_zones) < 2:
            raise ValueError("IsolatedVpc needs at least two availability zones")
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=list(availability_zones),
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated",
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=subnet_cidr_mask,
                )
            ],
            enable_dns_hostnames=True,
            enable_dns_support=True,
            # Strips the rules of the default security group, so nothing can use it by accident.
            restrict_default_security_group=True,
        )
        self.subnets: list[ec2.ISubnet] = list(self.vpc.isolated_subnets)
        # The zones are configuration (no lookups at synth), so literal AZ names are intended.
        for subnet in self.subnets:
            subnet.node.default_child.add_metadata(  # type: ignore[union-attr]
                "cfn-lint", {"config": {"ignore_checks": ["W3010"]}}
            )
        # CDK's provider that empties the default security group declares a dependency twice.
        provider = Stack.of(self).node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        if provider is not None:
            handler = provider.node.try_find_child("Handler")
            if isinstance(handler, CfnResource):
                handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
