"""The role an environment's automation uses to deploy into the environments it serves."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from constructs import Construct


class PromotionRole(Construct):
    """IAM role (fixed name: the serving accounts' trust policies name it) that principals of this
    account with permission to assume it use to assume the serving accounts' deployment roles, and
    nothing else. Exposes `role`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, role_name: str, deployment_role_arns: Sequence[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            # Who may assume it is decided in this account by identity policies (CI, release engineers).
            assumed_by=iam.AccountRootPrincipal(),
            description="Promotes approved models: assumes the deployment roles of the served environments",
        )
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        policy.add_statements(
            iam.PolicyStatement(
                sid="AssumeServedDeploymentRoles",
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=sorted(set(deployment_role_arns)),
            )
        )
