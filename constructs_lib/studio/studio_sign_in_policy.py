"""Who may open Studio as which user profile, for domains with IAM authentication."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge_wildcard_resource

# The principal tag that names a person's user profile (on the IAM role, or as a session tag from SAML/OIDC).
PROFILE_TAG_KEY = "studio-user-profile"


class StudioSignInPolicy(Construct):
    """A managed policy to attach to the roles people sign in with: each may open Studio only as the user
    profile named by its principal tag `studio-user-profile`, in this one domain.

    One policy serves every user, so adding a user needs no IAM change. Exposes `policy`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, domain_id: str, domain_arn: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        def user_profile_arn(name: str) -> str:
            return stack.format_arn(
                service="sagemaker",
                resource="user-profile",
                resource_name=f"{domain_id}/{name}",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )

        own_profile = user_profile_arn(f"${{aws:PrincipalTag/{PROFILE_TAG_KEY}}}")
        profiles_of_domain = user_profile_arn("*")
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"Open SageMaker Studio as the profile named by the principal tag {PROFILE_TAG_KEY}",
            statements=[
                iam.PolicyStatement(
                    sid="OpenStudioAsOwnProfile",
                    actions=["sagemaker:CreatePresignedDomainUrl"],
                    resources=[own_profile],
                ),
                iam.PolicyStatement(
                    sid="SeeTheDomainInTheConsole",
                    actions=["sagemaker:DescribeDomain"],
                    resources=[domain_arn],
                ),
                iam.PolicyStatement(
                    sid="SeeProfilesOfTheDomain",
                    actions=["sagemaker:DescribeUserProfile"],
                    resources=[profiles_of_domain],
                ),
                iam.PolicyStatement(
                    sid="ListInTheConsole",
                    actions=["sagemaker:ListDomains", "sagemaker:ListUserProfiles", "sagemaker:ListSpaces"],
                    resources=["*"],
                ),
            ],
        )
        acknowledge_wildcard_resource(
            self.policy,
            profiles_of_domain,
            "Describing the domain's profiles shows names and settings only; opening one is limited to the "
            "caller's own profile.",
        )
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "SageMaker list calls support no resource-level permissions; they return metadata only.",
        )
