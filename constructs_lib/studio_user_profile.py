"""A Studio user profile bound to its persona's execution role."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


class StudioUserProfile(Construct):
    """`AWS::SageMaker::UserProfile` in a domain; exposes `resource`, `name` and `arn`."""

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
            ),
        )
        self.resource.apply_removal_policy(removal_policy)
        self.arn: str = self.resource.attr_user_profile_arn
