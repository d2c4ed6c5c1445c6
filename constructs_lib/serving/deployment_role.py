"""The role another environment's automation assumes to deploy models into this account."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge_wildcard_resource
from constructs_lib.shared.cross_account import role_principals
from constructs_lib.shared.job_guardrails import pass_role_to_sagemaker


class DeploymentRole(Construct):
    """IAM role (fixed name: other accounts name it) trusted by exactly the given promotion roles, with an
    external id and an organization when configured. It may create and update SageMaker models, endpoint
    configs and endpoints here, read the source registries' model packages, and pass only the serving
    execution role. Exposes `role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        trusted_role_arns: Sequence[str],
        execution_role_arn: str,
        model_package_arns: Sequence[str],
        external_id: str | None = None,
        organization_id: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not trusted_role_arns:
            raise ValueError("a deployment role needs at least one trusted role")
        stack = Stack.of(self)
        principals, only_those_roles = role_principals(trusted_role_arns)
        # Who may tag their sessions: the same roles, from the same organization...
        tag_conditions: dict[str, dict[str, object]] = {**only_those_roles}
        if organization_id is not None:
            tag_conditions["StringEquals"] = {"aws:PrincipalOrgID": organization_id}
        # ... and who may assume the role: with the external id too. sts:TagSession has no sts:ExternalId
        # key, so a TagSession statement conditioned on it would never match; it is authorized together
        # with the AssumeRole call that carries the id, so it loses nothing without it.
        conditions: dict[str, dict[str, object]] = {key: dict(value) for key, value in tag_conditions.items()}
        if external_id is not None:
            conditions.setdefault("StringEquals", {})["sts:ExternalId"] = external_id
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.CompositePrincipal(
                *(iam.PrincipalWithConditions(principal, conditions) for principal in principals)
            ),
            description="Deploys approved models into this account, assumed by the trusted promotion roles",
        )
        # Session tags let the automation's sessions carry who promoted what (CloudTrail, ABAC).
        self.role.assume_role_policy.add_statements(  # type: ignore[union-attr]
            iam.PolicyStatement(actions=["sts:TagSession"], principals=principals, conditions=tag_conditions)
        )
        resources = [
            stack.format_arn(service="sagemaker", resource=kind, resource_name="*")
            for kind in ("model", "endpoint-config", "endpoint")
        ]
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        policy.add_statements(
            iam.PolicyStatement(
                sid="DeployModels",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreateEndpoint",
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:CreateModel",
                    "sagemaker:DeleteEndpointConfig",
                    "sagemaker:DeleteModel",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DescribeModel",
                    "sagemaker:UpdateEndpoint",
                ],
                resources=resources,
            ),
            pass_role_to_sagemaker("PassOnlyTheServingRole", execution_role_arn),
        )
        if model_package_arns:
            policy.add_statements(
                iam.PolicyStatement(
                    sid="ReadSourceModelPackages",
                    actions=["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
                    resources=list(model_package_arns),
                )
            )
        for resource in [*resources, *model_package_arns]:
            if "*" in resource:
                acknowledge_wildcard_resource(
                    policy,
                    resource,
                    "Models, endpoint configs, endpoints and package versions get their names per "
                    "deployment; the grant is limited to that resource type (and group).",
                )
