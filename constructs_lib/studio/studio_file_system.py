"""A team file system for a Studio domain: EFS that chosen users and spaces mount in their apps."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge

NFS_PORT = 2049


class StudioFileSystem(Construct):
    """`AWS::EFS::FileSystem` encrypted with a customer key, with a mount target in each of the domain's
    subnets and a security group that admits NFS from the domain's apps only.

    SageMaker mounts it in an app when the file system is in the user profile's or the space's custom
    file system configs (the caller writes those). Exposes `file_system`, `file_system_id` and
    `security_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        studio_security_group: ec2.ISecurityGroup,
        encryption_key: kms.IKey,
        description: str,
        automatic_backups: bool,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # The file system answers NFS and starts nothing: no egress.
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description=description, allow_all_outbound=False
        )
        # Studio apps mount through the domain's security group, which already allows NFS egress inside the
        # VPC (constructs_lib/studio/studio_security_group.py).
        self.security_group.add_ingress_rule(
            studio_security_group, ec2.Port.tcp(NFS_PORT), "NFS from the Studio domain's apps"
        )
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=list(subnets)),
            security_group=self.security_group,
            encrypted=True,
            kms_key=encryption_key,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            enable_automatic_backups=automatic_backups,
            # No file system policy, like the home EFS SageMaker creates: nothing says Studio mounts custom
            # file systems with IAM authorization, and a policy refusing anonymous clients would then refuse
            # it. Who may connect is decided by the security group above: the domain's apps only.
            allow_anonymous_access=True,
            removal_policy=removal_policy,
        )
        if automatic_backups:
            acknowledge(
                self.file_system,
                "NIST.800.53.R5-EFSInBackupPlan",
                "EFS automatic backups are on: AWS Backup's default plan for EFS backs it up daily into "
                "the account's aws/efs/automatic-backup-vault; no plan of our own is needed.",
            )
        else:
            # Written out: without it the template would leave the choice to EFS's default.
            resource = self.file_system.node.default_child
            assert isinstance(resource, efs.CfnFileSystem)
            resource.backup_policy = efs.CfnFileSystem.BackupPolicyProperty(status="DISABLED")
            acknowledge(
                self.file_system,
                "NIST.800.53.R5-EFSInBackupPlan",
                "Backups turned off in configuration (file_systems[].automatic_backups: false) for a "
                "file system whose contents can be recreated.",
            )
        self.file_system_id: str = self.file_system.file_system_id
