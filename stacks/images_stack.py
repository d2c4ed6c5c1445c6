"""Stateful images of one environment: ECR repositories, their key, and the Studio images built from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib.images.image_repository import ImageRepository
from constructs_lib.images.studio_image import StudioImage
from constructs_lib.shared.platform_key import PlatformKey
from platform_config import naming
from platform_config.models import ImagesConfig


class ImagesStack(Stack):
    """ECR repositories from configuration (KMS, immutable tags, scanned, shared with the serving
    accounts), an SSM parameter with each repository's URI for the build command, and a Studio image for
    each repository marked as one whose pinned image is pushed. Retained and termination-protected unless
    the environment is disposable.
    Only `build_role_arn` (the image build role, named from configuration) may push.

    Exposes `repositories` and `studio_images` by repository name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        images: ImagesConfig,
        serving_role_arns: Sequence[str],
        build_role_arn: str,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = PlatformKey(
            self,
            "ImagesKey",
            alias=naming.key_alias(environment_name, "images"),
            description=f"{environment_name}: container images in ECR",
            removal_policy=removal_policy,
        )
        # Pulling an image from another account decrypts its layers with this key.
        key.allow_decrypt_through(service="ecr", role_arns=serving_role_arns)
        self.repositories: dict[str, ecr.IRepository] = {}
        for config in images.repositories:
            self.repositories[config.name] = ImageRepository(
                self,
                f"Repository-{config.name}",
                repository_name=config.name,
                encryption_key=key.key,
                keep_tagged_images=config.keep_tagged_images,
                expire_untagged_after_days=config.expire_untagged_after_days,
                pull_role_arns=serving_role_arns,
                push_role_arn=build_role_arn,
                removal_policy=removal_policy,
            ).repository
            ssm.StringParameter(
                self,
                f"RepositoryUri-{config.name}",
                parameter_name=naming.repository_parameter(environment_name, config.name),
                string_value=self.repositories[config.name].repository_uri,
                description=f"URI of the {config.name} image repository (read by mlplatform build-image)",
            )

        self.studio_images: dict[str, StudioImage] = {}
        # SageMaker reads the pinned image when it creates the version: only pushed ones are created.
        for name, config in images.pushed_studio_images.items():
            assert config.studio_image is not None  # studio_images holds only those that have one
            self.studio_images[name] = StudioImage(
                self,
                f"StudioImage-{name}",
                image_name=name,
                app_image_config_name=naming.app_image_config_name(name),
                repository=self.repositories[name],
                image_reference=config.studio_image.reference,
                repository_key=key.key,
                display_name=config.studio_image.display_name,
            )
