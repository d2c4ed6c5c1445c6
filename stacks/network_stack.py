"""The network of one environment: an isolated VPC (new or existing), endpoints and flow logs."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.network.isolated_vpc import IsolatedVpc
from constructs_lib.network.studio_vpc_endpoints import StudioVpcEndpoints
from constructs_lib.network.vpc_flow_logs import VpcFlowLogs
from platform_config import NetworkConfig


class NetworkStack(Stack):
    """Exposes `vpc`, `subnets` (isolated, one per AZ) and `vpc_cidr`.

    Replaceable except for the flow-log group, which is retained outside disposable environments.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: NetworkConfig,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
        experiments: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The zones come from configuration; seeding the context stops the CDK from looking them up.
        self.node.set_context(
            f"availability-zones:account={self.account}:region={self.region}",
            list(network.availability_zones),
        )
        create_endpoints = create_flow_logs = True
        if network.new_vpc is not None:
            isolated = IsolatedVpc(
                self,
                "IsolatedVpc",
                cidr=network.new_vpc.cidr,
                availability_zones=network.new_vpc.availability_zones,
                subnet_cidr_mask=network.new_vpc.subnet_cidr_mask,
            )
            self.vpc: ec2.IVpc = isolated.vpc
            self.subnets: list[ec2.ISubnet] = isolated.subnets
            self.vpc_cidr = network.new_vpc.cidr
        else:
            existing = network.existing_vpc
            assert existing is not None  # the config allows exactly one of the two
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self,
                "ExistingVpc",
                vpc_id=existing.vpc_id,
                vpc_cidr_block=existing.cidr,
                availability_zones=list(network.availability_zones),
            )
            self.subnets = [
                ec2.Subnet.from_subnet_attributes(
                    self,
                    f"Subnet{index}",
                    subnet_id=subnet.subnet_id,
                    availability_zone=subnet.availability_zone,
                    route_table_id=subnet.route_table_id,
                )
                for index, subnet in enumerate(existing.subnets)
            ]
            self.vpc_cidr = existing.cidr
            create_endpoints, create_flow_logs = existing.create_endpoints, existing.create_flow_logs
        if create_endpoints:
            StudioVpcEndpoints(
                self,
                "Endpoints",
                vpc=self.vpc,
                subnets=self.subnets,
                vpc_cidr=self.vpc_cidr,
                # MLflow tracking servers are reached through their own service (experiments).
                extra_services={
                    "MlflowExperiments": ec2.InterfaceVpcEndpointService(
                        f"aws.sagemaker.{self.region}.experiments", 443
                    )
                }
                if experiments
                else None,
            )
        if create_flow_logs:
            VpcFlowLogs(
                self,
                "FlowLogs",
                vpc=self.vpc,
                encryption_key=logs_key,
                retention_days=network.flow_log_retention_days,
                removal_policy=removal_policy,
            )
