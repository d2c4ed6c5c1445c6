"""The platform's own permissions boundary: a cap on every role it creates, not a grant."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge, acknowledge_wildcard_actions

# Every IAM write that changes who may do what: users, groups, roles, policies, their versions and
# boundaries, credentials and tags (principal tags decide ABAC conditions). iam:PassRole is not among them:
# the roles pass their execution roles to SageMaker, Lambda and CodeBuild. Reads (Get*, List*, Simulate*,
# Generate* reports) stay allowed.
IAM_WRITE_ACTIONS: tuple[str, ...] = (
    "iam:Add*",
    "iam:Attach*",
    "iam:ChangePassword",
    "iam:Create*",
    "iam:Deactivate*",
    "iam:Delete*",
    "iam:Detach*",
    "iam:Disable*",
    "iam:Enable*",
    "iam:Put*",
    "iam:Remove*",
    "iam:Reset*",
    "iam:Resync*",
    "iam:Set*",
    "iam:Tag*",
    "iam:Untag*",
    "iam:Update*",
    "iam:Upload*",
)
# What no role of the platform may do, whatever its own policies say, by statement id.
DENIED_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "NoIamWrites": IAM_WRITE_ACTIONS,
    "NoOrganizationOrAccountChanges": ("account:*", "organizations:*"),
    "NoKeyDestructionOrTakeover": ("kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"),
    "NoBucketDestructionOrTakeover": ("s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy"),
    "NoRegistryOrDomainDestruction": ("sagemaker:DeleteDomain", "sagemaker:DeleteModelPackageGroup"),
}


class PermissionsBoundaryPolicy(Construct):
    """A customer-managed policy with a fixed name and path, to be the permissions boundary of every role
    the platform creates.

    A boundary caps what a role's own policies grant; it grants nothing itself. So it allows every action,
    and denies privilege escalation (IAM writes, Organizations, account settings) and the destruction or
    takeover of what the platform keeps (key deletion, disabling and policy changes; bucket deletion and
    policy changes; model package group and Studio domain deletion). CloudFormation's execution role, which
    deploys and deletes those resources, is created by `cdk bootstrap` and has no such boundary.
    Roles name it by its ARN, built from the fixed name and path, never by a reference. Exposes `policy`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, policy_name: str, path: str) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=policy_name,
            path=path,
            description="Permissions boundary of the SageMaker platform's roles: caps, never grants",
            statements=[
                iam.PolicyStatement(sid="CapNotGrant", actions=["*"], resources=["*"]),
                *(
                    iam.PolicyStatement(
                        sid=sid, effect=iam.Effect.DENY, actions=list(actions), resources=["*"]
                    )
                    for sid, actions in DENIED_ACTIONS.items()
                ),
            ],
        )
        reason = (
            "A permissions boundary caps and never grants: allowing every action here leaves each role's "
            "own least-privilege policies in charge, and the Deny statements beside it remove escalation "
            "and destruction."
        )
        acknowledge_wildcard_actions(self.policy, ["*"], reason)
        acknowledge(self.policy, "AwsSolutions-IAM5[Resource::*]", reason)
        for rule in ("IAMPolicyNoStatementsWithAdminAccess", "IAMPolicyNoStatementsWithFullAccess"):
            acknowledge(self.policy, f"NIST.800.53.R5-{rule}", reason)
