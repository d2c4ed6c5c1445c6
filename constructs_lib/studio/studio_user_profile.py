"""A Studio user profile bound to its persona's execution role."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


class StudioUserProfile(Construct):
    """`AWS::SageMaker::UserProfile` in a domain; exposes `resource`, `name` and `arn`.

    `file_systems`: EFS file systems SageMaker mounts in the private spaces of this user (shared spaces
    take theirs from their own settings).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_id: str,
        user_profile_name: str,
        execution_role: iam.IRole,
        security_group_id: str,
        sso_user_name: str | None,
        file_systems: Sequence[efs.IFileSystem] = (),
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = user_profile_name
        self.resource = sagemaker.CfnUserProfile(
            self,
            "Resource",
            domain_id=domain_id,
            user_profile_name=user_profile_name,
            single_sign_on_user_identifier="UserName" if sso_user_name else None,
            single_sign_on_user_value=sso_user_name,
            user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(
                execution_role=execution_role.role_arn,
                security_groups=[security_group_id],
                custom_file_system_configs=[
                    sagemaker.CfnUserProfile.CustomFileSystemConfigProperty(
                        efs_file_system_config=sagemaker.CfnUserProfile.EFSFileSystemConfigProperty(
                            file_system_id=file_system.file_system_id
                        )
                    )
                    for file_system in file_systems
                ]
                or None,
            ),
        )
        for file_system in file_systems:
            # SageMaker looks for a mount target in each of the domain's subnets when it mounts.
            self.resource.node.add_dependency(file_system.mount_targets_available)
        self.resource.apply_removal_policy(removal_policy)
        self.arn: str = self.resource.attr_user_profile_arn
