"""A Studio lifecycle configuration from a script file in the repository."""

from __future__ import annotations

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


class StudioLifecycleConfig(Construct):
    """`AWS::SageMaker::StudioLifecycleConfig`; exposes `arn`.

    Every property of the resource is create-only, so the caller derives `config_name` from the script's
    content: a changed script becomes a new config (no name collision on replacement), and apps that are
    running keep the config they started with.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config_name: str,
        app_type: str,
        script_base64: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.resource = sagemaker.CfnStudioLifecycleConfig(
            self,
            "Resource",
            studio_lifecycle_config_name=config_name,
            studio_lifecycle_config_app_type=app_type,
            studio_lifecycle_config_content=script_base64,
        )
        self.app_type = app_type
        self.arn: str = self.resource.attr_studio_lifecycle_config_arn
