"""One SageMaker Studio domain with its persona roles, lifecycle configs, users and spaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import ArnFormat, CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.studio.persona_execution_role import (
    ImageBuildAccess,
    PersonaCapability,
    PersonaExecutionRole,
)
from constructs_lib.studio.studio_domain import (
    AppDefaults,
    DockerAccess,
    IdleShutdown,
    PortalRestrictions,
    SpaceStorage,
    StudioDomain,
)
from constructs_lib.studio.studio_file_system import StudioFileSystem
from constructs_lib.studio.studio_lifecycle_config import StudioLifecycleConfig
from constructs_lib.studio.studio_security_group import StudioSecurityGroup
from constructs_lib.studio.studio_sign_in_policy import StudioSignInPolicy
from constructs_lib.studio.studio_space import StudioSpace
from constructs_lib.studio.studio_teardown import StudioTeardown
from constructs_lib.studio.studio_user_profile import StudioUserProfile
from platform_config import DomainConfig, PersonaConfig, naming


@dataclass(frozen=True)
class ImageBuildNames:
    """The fixed names of the environment's image build path (platform_config.naming)."""

    parameter_path: str
    source_bucket: str
    source_prefix: str
    project: str
    log_group: str
    repositories: Sequence[str]


class StudioStack(Stack):
    """A domain per stack, so a change to one user or space changes one template.

    Stateful (space volumes, team file systems): the domain, profiles, spaces and file systems are retained
    and the stack termination-protected unless the environment is disposable. A disposable environment's
    stack also tears down what users started and what SageMaker leaves in the VPC when it is deleted
    (constructs_lib/studio/studio_teardown.py). Exposes `domain`, `security_group` (the one persona jobs must
    use), `persona_roles`, `file_systems`, `user_profiles`, `spaces` and `teardown` (None when retained);
    outputs the domain id and URL, and for IAM domains the sign-in policy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: DomainConfig,
        personas: dict[str, PersonaConfig],
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        vpc_cidr: str,
        artifact_bucket_name: str,
        data_key: kms.IKey,
        studio_key: kms.IKey,
        logs_key: kms.IKey,
        custom_images: Sequence[tuple[str, str]] = (),
        image_build: ImageBuildNames | None = None,
        mlflow_tracking_server_arn: str | None = None,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # By its deterministic name, so the roles' policies hold a literal ARN, not another stack's output.
        artifact_bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactBucket", bucket_name=artifact_bucket_name, encryption_key=data_key
        )
        security_group = StudioSecurityGroup(
            self, "SecurityGroup", vpc=vpc, vpc_cidr=vpc_cidr, description=f"Studio domain {domain.name}"
        ).security_group
        self.security_group = security_group

        shared_space_persona = domain.shared_space_persona or domain.default_persona
        used_personas = sorted(
            {domain.default_persona, shared_space_persona, *(user.persona for user in domain.users)}
        )
        self.persona_roles = {
            name: PersonaExecutionRole(
                self,
                f"Persona-{name}",
                persona_name=name,
                description=naming.persona_role_description(name, personas[name].description),
                capabilities=[PersonaCapability(capability) for capability in personas[name].capabilities],
                artifact_bucket=artifact_bucket,
                scratch_prefix=naming.persona_scratch_prefix(domain.name, name),
                data_key=data_key,
                studio_key=studio_key,
                subnets=subnets,
                security_group=security_group,
                job_instance_types=personas[name].job_instance_types,
                app_instance_types=personas[name].app_instance_types,
                network_isolation=personas[name].network_isolation,
                image_build_access=self._image_build_access(image_build) if image_build else None,
                mlflow_tracking_server_arn=mlflow_tracking_server_arn,
                mlflow_artifact_prefix=naming.MLFLOW_ARTIFACT_PREFIX if mlflow_tracking_server_arn else None,
            )
            for name in used_personas
        }

        lifecycle_configs = [
            StudioLifecycleConfig(
                self,
                f"LifecycleConfig-{config.name}",
                config_name=config.deployed_name(domain.name),
                app_type=config.app_type,
                script_base64=config.script.content_base64,
            )
            for config in domain.lifecycle_configs
        ]
        run_by_default = {config.name for config in domain.lifecycle_configs if config.run_by_default}

        def app_defaults(
            app_type: str, instance_type: str, images: Sequence[tuple[str, str]] = ()
        ) -> AppDefaults:
            configs = [
                (config, construct)
                for config, construct in zip(domain.lifecycle_configs, lifecycle_configs, strict=True)
                if config.app_type == app_type
            ]
            defaults = [construct.arn for config, construct in configs if config.name in run_by_default]
            return AppDefaults(
                default_instance_type=instance_type,
                lifecycle_config_arns=[construct.arn for _, construct in configs],
                # SageMaker runs one config by default per app type: the first marked run_by_default.
                default_lifecycle_config_arn=defaults[0] if defaults else None,
                custom_images=images,
            )

        self.file_systems = {
            config.name: StudioFileSystem(
                self,
                f"FileSystem-{config.name}",
                vpc=vpc,
                subnets=subnets,
                studio_security_group=security_group,
                encryption_key=studio_key,
                description=f"Studio domain {domain.name} team file system {config.name}",
                automatic_backups=config.automatic_backups,
                removal_policy=removal_policy,
            ).file_system
            for config in domain.file_systems
        }

        self.domain = StudioDomain(
            self,
            "Domain",
            domain_name=domain.name,
            auth_mode=domain.auth_mode,
            vpc=vpc,
            subnets=subnets,
            security_group=security_group,
            encryption_key=studio_key,
            default_execution_role=self.persona_roles[domain.default_persona].role,
            shared_space_execution_role=self.persona_roles[shared_space_persona].role,
            idle_shutdown=IdleShutdown(
                default_minutes=domain.idle_shutdown.default_minutes,
                min_minutes=domain.idle_shutdown.min_minutes,
                max_minutes=domain.idle_shutdown.max_minutes,
            ),
            jupyterlab=app_defaults("JupyterLab", domain.jupyterlab.default_instance_type, custom_images),
            code_editor=app_defaults("CodeEditor", domain.code_editor.default_instance_type),
            portal=PortalRestrictions(
                hidden_app_types=domain.hidden.app_types,
                hidden_ml_tools=domain.hidden.ml_tools,
                hidden_instance_types=domain.hidden.instance_types,
            ),
            space_storage=SpaceStorage(
                default_gb=domain.storage.default_space_gb, max_gb=domain.storage.max_space_gb
            ),
            docker_access=DockerAccess(enabled=domain.docker_access),
            home_efs=domain.home_efs,
            shared_space_file_systems=[
                self.file_systems[name] for name in domain.shared_space_file_systems()
            ],
            removal_policy=removal_policy,
        )
        for role in self.persona_roles.values():
            role.allow_studio_domain(domain_id=self.domain.domain_id, domain_arn=self.domain.domain_arn)

        self.user_profiles = {
            user.name: StudioUserProfile(
                self,
                f"User-{user.name}",
                domain_id=self.domain.domain_id,
                user_profile_name=user.name,
                execution_role=self.persona_roles[user.persona].role,
                security_group_id=security_group.security_group_id,
                sso_user_name=user.sso_user_name,
                file_systems=[self.file_systems[name] for name in domain.user_file_systems(user.name)],
                removal_policy=removal_policy,
            )
            for user in domain.users
        }
        sharing_types: dict[str, Literal["Private", "Shared"]] = {"private": "Private", "shared": "Shared"}
        self.spaces = {
            space.name: StudioSpace(
                self,
                f"Space-{space.name}",
                domain_id=self.domain.domain_id,
                space_name=space.name,
                owner=self.user_profiles[space.owner],
                sharing=sharing_types[space.sharing],
                app_type=space.app_type,
                storage_gb=space.storage_gb or domain.storage.default_space_gb,
                instance_type=space.instance_type,
                display_name=space.display_name,
                file_systems=[self.file_systems[name] for name in domain.space_file_systems(space)],
                removal_policy=removal_policy,
            )
            for space in domain.spaces
        }

        self.teardown: StudioTeardown | None = None
        if removal_policy == RemovalPolicy.DESTROY:
            self.teardown = StudioTeardown(
                self,
                "Teardown",
                domain=self.domain,
                vpc=vpc,
                studio_resources=[*self.user_profiles.values(), *self.spaces.values()],
                logs_key=logs_key,
            )

        CfnOutput(self, "DomainId", value=self.domain.domain_id, description=f"Studio domain {domain.name}")
        CfnOutput(self, "DomainUrl", value=self.domain.resource.attr_url, description="Studio sign-in URL")
        if domain.auth_mode == "IAM":
            # IAM Identity Center domains sign in through the access portal instead.
            sign_in = StudioSignInPolicy(
                self, "SignInPolicy", domain_id=self.domain.domain_id, domain_arn=self.domain.domain_arn
            )
            CfnOutput(
                self,
                "SignInPolicyArn",
                value=sign_in.policy.managed_policy_arn,
                description="Attach to the roles people sign in with; tag each studio-user-profile=<profile>",
            )

    def _image_build_access(self, names: ImageBuildNames) -> ImageBuildAccess:
        return ImageBuildAccess(
            parameter_path_arn=self.format_arn(
                service="ssm", resource="parameter", resource_name=names.parameter_path.lstrip("/")
            ),
            source_objects_arn=f"arn:{self.partition}:s3:::{names.source_bucket}/{names.source_prefix}/*",
            project_arn=self.format_arn(service="codebuild", resource="project", resource_name=names.project),
            log_streams_arn=self.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"{names.log_group}:log-stream:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            repository_arns=[
                self.format_arn(service="ecr", resource="repository", resource_name=name)
                for name in names.repositories
            ],
        )
