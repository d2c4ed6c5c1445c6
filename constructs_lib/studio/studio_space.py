"""A Studio space: private to its owner, or shared with the whole domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_cdk import RemovalPolicy
from aws_cdk import aws_efs as efs
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.studio.studio_user_profile import StudioUserProfile


class StudioSpace(Construct):
    """`AWS::SageMaker::Space` with its own EBS volume (encrypted with the domain's key).

    Sharing and ownership are create-only: changing them replaces the space and its volume, which is why
    spaces are retained outside disposable environments. `file_systems`: EFS file systems SageMaker
    mounts in the space's apps. Exposes `resource`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_id: str,
        space_name: str,
        owner: StudioUserProfile,
        sharing: Literal["Private", "Shared"],
        app_type: Literal["JupyterLab", "CodeEditor"],
        storage_gb: int,
        instance_type: str | None,
        display_name: str | None,
        file_systems: Sequence[efs.IFileSystem] = (),
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        resource_spec = (
            sagemaker.CfnSpace.ResourceSpecProperty(instance_type=instance_type) if instance_type else None
        )
        self.resource = sagemaker.CfnSpace(
            self,
            "Resource",
            domain_id=domain_id,
            space_name=space_name,
            space_display_name=display_name,
            ownership_settings=sagemaker.CfnSpace.OwnershipSettingsProperty(
                owner_user_profile_name=owner.name
            ),
            space_sharing_settings=sagemaker.CfnSpace.SpaceSharingSettingsProperty(sharing_type=sharing),
            space_settings=sagemaker.CfnSpace.SpaceSettingsProperty(
                app_type=app_type,
                space_storage_settings=sagemaker.CfnSpace.SpaceStorageSettingsProperty(
                    ebs_storage_settings=sagemaker.CfnSpace.EbsStorageSettingsProperty(
                        ebs_volume_size_in_gb=storage_gb
                    )
                ),
                jupyter_lab_app_settings=sagemaker.CfnSpace.SpaceJupyterLabAppSettingsProperty(
                    default_resource_spec=resource_spec
                )
                if app_type == "JupyterLab" and resource_spec
                else None,
                code_editor_app_settings=sagemaker.CfnSpace.SpaceCodeEditorAppSettingsProperty(
                    default_resource_spec=resource_spec
                )
                if app_type == "CodeEditor" and resource_spec
                else None,
                custom_file_systems=[
                    sagemaker.CfnSpace.CustomFileSystemProperty(
                        efs_file_system=sagemaker.CfnSpace.EFSFileSystemProperty(
                            file_system_id=file_system.file_system_id
                        )
                    )
                    for file_system in file_systems
                ]
                or None,
            ),
        )
        # The owner's profile must exist first (and outlive the space on delete).
        self.resource.add_resource_dependency(owner.resource)
        for file_system in file_systems:
            # SageMaker looks for a mount target in each of the domain's subnets when it mounts.
            self.resource.node.add_dependency(file_system.mount_targets_available)
        self.resource.apply_removal_policy(removal_policy)
