"""The security group of a Studio domain's apps (and of the jobs its users start)."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge


class StudioSecurityGroup(Construct):
    """Apps and jobs talk to each other, reach the home EFS (NFS) inside the VPC, and speak HTTPS.

    HTTPS egress is open by address because S3 is reached through the gateway endpoint, whose
    destinations are S3's public ranges (its prefix list id cannot be known without a lookup). What it
    can reach is decided by the route tables: in the platform's VPC, the interface endpoints and the S3
    gateway endpoint only, with no internet route. An existing VPC must keep that property.
    Exposes `security_group`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, vpc_cidr: str, description: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description=description, allow_all_outbound=False
        )
        group = self.security_group
        # Studio apps in one domain (and distributed training containers) talk to each other on any port.
        group.add_ingress_rule(group, ec2.Port.all_traffic(), "Apps and jobs of this domain")
        acknowledge(
            group,
            "NIST.800.53.R5-EC2RestrictedCommonPorts",
            "The only ingress rule's source is this security group itself (no CIDR): apps and jobs of one "
            "domain reach each other, nothing else can.",
        )
        group.add_egress_rule(group, ec2.Port.all_traffic(), "Apps and jobs of this domain")
        group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC endpoints and, via its gateway, S3"
        )
        group.add_egress_rule(ec2.Peer.ipv4(vpc_cidr), ec2.Port.tcp(2049), "Studio home file system (NFS)")
