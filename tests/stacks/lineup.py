"""Check, across every environment's templates, that each cross-account grant has its other side."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from platform_config import PlatformConfig, naming

ARN_ACCOUNT = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/([\w+=,.@/-]+)")
BROAD_ACTIONS = {"*", "sagemaker:*", "kms:*", "iam:*", "s3:*"}

# Where each resource type keeps its policy documents.
POLICY_PATHS: Mapping[str, tuple[str, ...]] = {
    "AWS::IAM::Role": ("AssumeRolePolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::ECR::Repository": ("RepositoryPolicyText",),
    "AWS::SageMaker::ModelPackageGroup": ("ModelPackageGroupPolicy",),
}


@dataclass(frozen=True)
class Statement:
    environment: str
    location: str
    body: Mapping[str, Any]

    def values(self, key: str) -> list[Any]:
        value = self.body.get(key, [])
        return value if isinstance(value, list) else [value]

    @property
    def principals(self) -> list[str]:
        principal = self.body.get("Principal")
        if principal is None:
            return []
        if principal == "*":
            return ["*"]
        found: list[str] = []
        for kind in ("AWS", "Service", "Federated"):
            value = principal.get(kind, [])
            found.extend(value if isinstance(value, list) else [value])
        return [json.dumps(p) if not isinstance(p, str) else p for p in found]

    @property
    def principal_arn_conditions(self) -> list[str]:
        arns: list[str] = []
        for operator, keys in self.body.get("Condition", {}).items():
            if operator.startswith(("ArnEquals", "ArnLike", "StringEquals", "StringLike")):
                value = keys.get("aws:PrincipalArn", [])
                arns.extend(value if isinstance(value, list) else [value])
        return arns


def statements(templates: Mapping[str, Iterable[Mapping[str, Any]]]) -> Iterator[Statement]:
    """Every policy statement of every template, by environment."""
    for environment, environment_templates in templates.items():
        for template in environment_templates:
            for logical_id, resource in template.get("Resources", {}).items():
                properties = resource.get("Properties", {})
                if resource["Type"] == "AWS::Events::EventBusPolicy":
                    yield Statement(environment, logical_id, properties["Statement"])
                for path in POLICY_PATHS.get(resource["Type"], ()):
                    document = properties.get(path)
                    for body in (document or {}).get("Statement", []):
                        yield Statement(environment, logical_id, body)


def created_roles(templates: Mapping[str, Iterable[Mapping[str, Any]]]) -> dict[str, set[str]]:
    """The fixed-name roles each environment creates, as their ARNs end: path (without its leading slash)
    and name, e.g. `sagemaker-platform/dev-sagemaker-platform-promotion`."""
    return {
        environment: {
            resource["Properties"].get("Path", "/")[1:] + resource["Properties"]["RoleName"]
            for template in environment_templates
            for resource in template.get("Resources", {}).values()
            if resource["Type"] == "AWS::IAM::Role"
            and isinstance(resource["Properties"].get("RoleName"), str)
        }
        for environment, environment_templates in templates.items()
    }


def boundary_policies(templates: Mapping[str, Iterable[Mapping[str, Any]]]) -> set[tuple[str, str]]:
    """(environment, logical id) of the permissions boundary policies the platform creates: they cap, never
    grant, so their `Allow * on *` is no grant."""
    return {
        (environment, logical_id)
        for environment, environment_templates in templates.items()
        for template in environment_templates
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        and resource["Properties"].get("ManagedPolicyName")
        == naming.permissions_boundary_policy_name(environment)
    }


def lineup_problems(
    platform: PlatformConfig, templates: Mapping[str, Iterable[Mapping[str, Any]]]
) -> list[str]:
    """What does not line up: unknown accounts, roles the other side does not create, grants to anyone."""
    templates = {name: list(values) for name, values in templates.items()}
    by_account = {environment.account_id: name for name, environment in platform.environments.items()}
    roles = created_roles(templates)
    boundaries = boundary_policies(templates)
    # `cdk bootstrap` creates CloudFormation's execution role in every account the platform deploys to.
    for name, environment in platform.environments.items():
        roles.setdefault(name, set()).add(naming.cloudformation_execution_role_name(environment))
    problems: list[str] = []

    def check_arn(statement: Statement, arn: str, what: str) -> None:
        account = ARN_ACCOUNT.match(arn)
        if account is None:
            return
        if account.group(1) not in by_account:
            problems.append(
                f"{statement.environment} {statement.location}: {what} {arn} is in no configured account"
            )
            return
        role = ROLE_ARN.fullmatch(arn)
        owner = by_account[account.group(1)]
        if (
            role is not None
            and owner != statement.environment
            and role.group(2) not in roles.get(owner, set())
        ):
            problems.append(
                f"{statement.environment} {statement.location}: {what} {arn} is not a role that "
                f"{owner}'s templates create"
            )

    for statement in statements(templates):
        allow = statement.body.get("Effect") == "Allow"
        for principal in statement.principals:
            if principal == "*" and allow and not statement.principal_arn_conditions:
                problems.append(f"{statement.environment} {statement.location}: allows any principal")
            check_arn(statement, principal, "principal")
        for arn in statement.principal_arn_conditions:
            check_arn(statement, arn, "principal condition")
        if not allow:
            continue
        # Identity policies may name AWS-owned resources (base-image registries); the roles they assume or
        # pass must exist on the other side.
        for resource in statement.values("Resource"):
            if isinstance(resource, str) and ROLE_ARN.fullmatch(resource):
                check_arn(statement, resource, "role")
        actions = set(statement.values("Action"))
        if (statement.environment, statement.location) in boundaries:
            continue
        if actions & BROAD_ACTIONS and "*" in statement.values("Resource") and not statement.principals:
            problems.append(
                f"{statement.environment} {statement.location}: grants {sorted(actions & BROAD_ACTIONS)} on *"
            )
    return problems
