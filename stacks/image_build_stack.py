"""The image build path of one environment: build-source bucket, CodeBuild project, published names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib.images.image_build_project import BuildContract, BuildNetwork, ImageBuildProject
from constructs_lib.shared.encrypted_bucket import EncryptedBucket
from platform_config import naming
from platform_config.models import ImageBuildConfig


class ImageBuildStack(Stack):
    """Builds images outside Studio (which cannot run a privileged Docker daemon): `mlplatform build-image`
    uploads a folder to the build-source bucket and starts the project, which pushes to the repositories.

    Publishes the project and bucket names as SSM parameters for the command. Replaceable; the bucket
    (build sources expire) follows the environment's retention.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        source_bucket_name: str,
        build: ImageBuildConfig,
        repositories: Mapping[str, ecr.IRepository],
        data_key: kms.IKey,
        logs_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source_bucket = EncryptedBucket(
            self,
            "BuildSourceBucket",
            bucket_name=source_bucket_name,
            encryption_key=data_key,
            access_logs_bucket=access_logs_bucket,
            access_logs_prefix="build-source-bucket/",
            removal_policy=removal_policy,
            noncurrent_version_retention_days=1,
            expire_objects_after_days=build.source_retention_days,
            auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        ).bucket
        self.build_project = ImageBuildProject(
            self,
            "ImageBuild",
            project_name=naming.image_build_project_name(environment_name),
            role_name=naming.image_build_role_name(environment_name),
            log_group_name=naming.image_build_log_group_name(environment_name),
            source_bucket=source_bucket,
            repositories=list(repositories.values()),
            contract=BuildContract(
                repository_uri_variable=naming.BUILD_VARIABLE_REPOSITORY_URI,
                image_tag_variable=naming.BUILD_VARIABLE_IMAGE_TAG,
                dockerfile_variable=naming.BUILD_VARIABLE_DOCKERFILE,
                build_args_variable=naming.BUILD_VARIABLE_BUILD_ARGS,
                platform_variable=naming.BUILD_VARIABLE_PLATFORM,
                exported_image_uri=naming.BUILD_EXPORTED_IMAGE_URI,
                exported_image_digest=naming.BUILD_EXPORTED_IMAGE_DIGEST,
                source_prefix=naming.BUILD_SOURCE_PREFIX,
            ),
            compute_type=build.compute_type,
            timeout_minutes=build.timeout_minutes,
            artifacts_key=data_key,
            logs_key=logs_key,
            log_retention_days=build.log_retention_days,
            log_removal_policy=removal_policy,
            base_image_accounts=build.base_image_accounts,
            network=BuildNetwork(vpc=vpc, subnets=subnets) if build.in_vpc else None,
        )
        for key, value, description in (
            ("project-name", self.build_project.project.project_name, "CodeBuild project that builds images"),
            ("source-bucket", source_bucket.bucket_name, "Bucket mlplatform build-image uploads sources to"),
        ):
            ssm.StringParameter(
                self,
                f"Parameter-{key}",
                parameter_name=naming.image_build_parameter(environment_name, key),
                string_value=value,
                description=description,
            )
