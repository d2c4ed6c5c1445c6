"""A custom SageMaker Studio image for JupyterLab, pinned to one image in ECR."""

from __future__ import annotations

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.images.image_repository import PULL_ACTIONS
from constructs_lib.shared.compliance import acknowledge_wildcard_resource


class StudioImage(Construct):
    """`AWS::SageMaker::Image` with the role SageMaker pulls it with, an `ImageVersion` of one pinned image
    (`:tag` or `@sha256:digest`) and a JupyterLab `AppImageConfig`.

    The version's base image is create-only: pinning another tag or digest makes a new version. Exposes
    `image_name`, `app_image_config_name` (for a domain's CustomImages) and `pull_role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image_name: str,
        app_image_config_name: str,
        repository: ecr.IRepository,
        image_reference: str,
        repository_key: kms.IKey,
        display_name: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not image_reference.startswith((":", "@sha256:")):
            raise ValueError(
                f"image_reference must be ':<tag>' or '@sha256:<digest>', got '{image_reference}'"
            )
        self.pull_role = iam.Role(
            self,
            "PullRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"SageMaker pulls the Studio image {image_name} with this role",
        )
        pull_policy = iam.ManagedPolicy(self, "PullPolicy", roles=[self.pull_role])
        repository.grant(pull_policy, *PULL_ACTIONS)
        repository_key.grant_decrypt(pull_policy)
        ecr.AuthorizationToken.grant_read(pull_policy)
        acknowledge_wildcard_resource(
            pull_policy,
            "*",
            "ecr:GetAuthorizationToken has no resource-level permissions; pulls are limited to this image's "
            "repository.",
        )
        base_image = f"{repository.repository_uri}{image_reference}"
        image = sagemaker.CfnImage(
            self,
            "Image",
            image_name=image_name,
            image_role_arn=self.pull_role.role_arn,
            image_display_name=display_name,
            image_description=f"Studio image {image_name}{image_reference}"[:512],
        )
        version = sagemaker.CfnImageVersion(
            self, "Version", image_name=image_name, base_image=base_image, job_type="NOTEBOOK_KERNEL"
        )
        version.add_resource_dependency(image)
        # SageMaker pulls the image when the version is created: the grants must be in place.
        version.node.add_dependency(pull_policy)
        app_image_config = sagemaker.CfnAppImageConfig(
            self,
            "AppImageConfig",
            app_image_config_name=app_image_config_name,
            jupyter_lab_app_image_config=sagemaker.CfnAppImageConfig.JupyterLabAppImageConfigProperty(),
        )
        self.image_name = image_name
        self.app_image_config_name: str = app_image_config.app_image_config_name
        self.version = version
