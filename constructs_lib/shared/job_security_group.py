"""The security group of SageMaker jobs that run in the platform's VPC."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge


class JobSecurityGroup(Construct):
    """Jobs reach each other (distributed training) and speak HTTPS out, which the route tables limit to
    the VPC endpoints and, through its gateway, S3. Exposes `security_group`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, description: str) -> None:
        super().__init__(scope, construct_id)
        group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description=description, allow_all_outbound=False
        )
        group.add_ingress_rule(group, ec2.Port.all_traffic(), "Containers of one distributed job")
        group.add_egress_rule(group, ec2.Port.all_traffic(), "Containers of one distributed job")
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC endpoints and S3")
        acknowledge(
            group,
            "NIST.800.53.R5-EC2RestrictedCommonPorts",
            "The only ingress rule's source is this security group itself (no CIDR): containers of one job "
            "reach each other, nothing else can.",
        )
        self.security_group = group
