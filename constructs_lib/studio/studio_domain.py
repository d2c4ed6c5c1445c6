"""A VPC-only, KMS-encrypted SageMaker Studio domain with its default user and space settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


@dataclass(frozen=True)
class IdleShutdown:
    """Native idle shutdown: apps stop after `default_minutes`; users may choose within min..max."""

    default_minutes: int
    min_minutes: int
    max_minutes: int


@dataclass(frozen=True)
class AppDefaults:
    """Defaults of one app type (JupyterLab or CodeEditor) for every user and space of the domain."""

    default_instance_type: str
    lifecycle_config_arns: Sequence[str] = ()
    default_lifecycle_config_arn: str | None = None
    # (image name, app image config name) of custom images users may pick; JupyterLab only.
    custom_images: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class PortalRestrictions:
    """What the Studio web portal hides. Cosmetic: the execution roles are what enforce."""

    hidden_app_types: Sequence[str] = ()
    hidden_ml_tools: Sequence[str] = ()
    hidden_instance_types: Sequence[str] = ()


@dataclass(frozen=True)
class SpaceStorage:
    default_gb: int
    max_gb: int


@dataclass(frozen=True)
class DockerAccess:
    enabled: bool
    # Accounts whose ECR images apps may pull in VPC-only mode (besides the domain's own).
    trusted_accounts: Sequence[str] = field(default_factory=tuple)


class StudioDomain(Construct):
    """`AWS::SageMaker::Domain` in VpcOnly mode, its storage encrypted with a customer key.

    Default user and space settings carry the execution role, security group, JupyterLab and Code Editor
    defaults with native idle shutdown, lifecycle configurations, storage limits and portal restrictions.
    Tags propagate to the resources Studio creates, and the caller's identity (user profile name) is the
    source identity of the execution role, so CloudTrail names the person. With `home_efs` off SageMaker
    creates no home EFS and mounts none; `shared_space_file_systems` are the custom file systems the
    default space settings offer to shared spaces.

    Exposes `resource`, `domain_id`, `domain_arn`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        auth_mode: Literal["IAM", "SSO"],
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        encryption_key: kms.IKey,
        default_execution_role: iam.IRole,
        shared_space_execution_role: iam.IRole | None = None,
        idle_shutdown: IdleShutdown,
        jupyterlab: AppDefaults,
        code_editor: AppDefaults,
        portal: PortalRestrictions,
        space_storage: SpaceStorage,
        docker_access: DockerAccess,
        home_efs: bool,
        shared_space_file_systems: Sequence[efs.IFileSystem] = (),
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        security_group_ids = [security_group.security_group_id]
        idle_settings = sagemaker.CfnDomain.AppLifecycleManagementProperty(
            idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=idle_shutdown.default_minutes,
                min_idle_timeout_in_minutes=idle_shutdown.min_minutes,
                max_idle_timeout_in_minutes=idle_shutdown.max_minutes,
            )
        )
        jupyterlab_settings = sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                instance_type=jupyterlab.default_instance_type,
                lifecycle_config_arn=jupyterlab.default_lifecycle_config_arn,
            ),
            lifecycle_config_arns=list(jupyterlab.lifecycle_config_arns) or None,
            app_lifecycle_management=idle_settings,
            custom_images=[
                sagemaker.CfnDomain.CustomImageProperty(image_name=image, app_image_config_name=config)
                for image, config in jupyterlab.custom_images
            ]
            or None,
        )
        storage_settings = sagemaker.CfnDomain.DefaultSpaceStorageSettingsProperty(
            default_ebs_storage_settings=sagemaker.CfnDomain.DefaultEbsStorageSettingsProperty(
                default_ebs_volume_size_in_gb=space_storage.default_gb,
                maximum_ebs_volume_size_in_gb=space_storage.max_gb,
            )
        )
        user_settings = sagemaker.CfnDomain.UserSettingsProperty(
            execution_role=default_execution_role.role_arn,
            security_groups=security_group_ids,
            studio_web_portal="ENABLED",
            default_landing_uri="studio::",
            auto_mount_home_efs="Enabled" if home_efs else "Disabled",
            jupyter_lab_app_settings=jupyterlab_settings,
            code_editor_app_settings=sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
                default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                    instance_type=code_editor.default_instance_type,
                    lifecycle_config_arn=code_editor.default_lifecycle_config_arn,
                ),
                lifecycle_config_arns=list(code_editor.lifecycle_config_arns) or None,
                app_lifecycle_management=idle_settings,
            ),
            studio_web_portal_settings=sagemaker.CfnDomain.StudioWebPortalSettingsProperty(
                hidden_app_types=sorted(portal.hidden_app_types) or None,
                hidden_ml_tools=sorted(portal.hidden_ml_tools) or None,
                hidden_instance_types=sorted(portal.hidden_instance_types) or None,
            ),
            space_storage_settings=storage_settings,
            # Notebook output sharing copies cell outputs to S3 outside the platform's controls.
            sharing_settings=sagemaker.CfnDomain.SharingSettingsProperty(notebook_output_option="Disabled"),
        )
        self.resource = sagemaker.CfnDomain(
            self,
            "Resource",
            domain_name=domain_name,
            auth_mode=auth_mode,
            app_network_access_type="VpcOnly",
            vpc_id=vpc.vpc_id,
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            kms_key_id=encryption_key.key_arn,
            tag_propagation="ENABLED",
            # JupyterLab and Code Editor spaces keep their files on their own EBS volumes.
            home_efs_file_system_creation="Enabled" if home_efs else "Disabled",
            default_user_settings=user_settings,
            # SageMaker runs every shared space with this role, whoever opens it.
            default_space_settings=sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                execution_role=(shared_space_execution_role or default_execution_role).role_arn,
                security_groups=security_group_ids,
                jupyter_lab_app_settings=jupyterlab_settings,
                space_storage_settings=storage_settings,
                custom_file_system_configs=[
                    sagemaker.CfnDomain.CustomFileSystemConfigProperty(
                        efs_file_system_config=sagemaker.CfnDomain.EFSFileSystemConfigProperty(
                            file_system_id=file_system.file_system_id
                        )
                    )
                    for file_system in shared_space_file_systems
                ]
                or None,
            ),
            domain_settings=sagemaker.CfnDomain.DomainSettingsProperty(
                security_group_ids=security_group_ids,
                execution_role_identity_config="USER_PROFILE_NAME",
                docker_settings=sagemaker.CfnDomain.DockerSettingsProperty(
                    enable_docker_access="ENABLED" if docker_access.enabled else "DISABLED",
                    vpc_only_trusted_accounts=sorted(docker_access.trusted_accounts) or None,
                ),
            ),
        )
        # Deleting or replacing the domain deletes its home file system, if it has one, with users' files.
        self.resource.apply_removal_policy(removal_policy)
        self.domain_id: str = self.resource.attr_domain_id
        self.domain_arn: str = self.resource.attr_domain_arn
