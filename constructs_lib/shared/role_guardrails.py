"""One path and one permissions boundary for every IAM role under a scope, CDK's own roles included."""

from __future__ import annotations

import re

import jsii
from aws_cdk import AspectPriority, Aspects, CfnResource, IAspect, Token
from aws_cdk import aws_iam as iam
from constructs import IConstruct

ROLE_TYPE = iam.CfnRole.CFN_RESOURCE_TYPE_NAME
# IAM's own rule (a slash, or slashes around printable ASCII), at most 512 characters.
PATH_PATTERN = re.compile(r"/|/[\x21-\x7e]+/")
POLICY_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/\S+")


@jsii.implements(IAspect)
class RoleGuardrails:
    """An Aspect that sets `Path` (unless it is `/`) and `PermissionsBoundary` (when given) on every
    `AWS::IAM::Role` under the scope it is applied to.

    It matches the CloudFormation resource type, not the `iam.Role` class, like CDK's own
    `iam.PermissionsBoundary.of(scope).apply(...)`: CDK's custom resource providers (S3 auto-delete,
    restrict-default-security-group, ...) write their roles as raw `CfnResource`s, and those must carry
    the boundary too. CDK's version needs the boundary as an `IManagedPolicy` construct inside a stack; this
    one takes the ARN, so it can be applied to a whole Stage with an ARN derived from configuration.
    """

    def __init__(self, *, path: str = "/", permissions_boundary_arn: str | None = None) -> None:
        if len(path) > 512 or not PATH_PATTERN.fullmatch(path):
            raise ValueError(f"'{path}' is not an IAM path: '/' or '/segments/', at most 512 characters")
        if (
            permissions_boundary_arn is not None
            and not Token.is_unresolved(permissions_boundary_arn)
            and not POLICY_ARN_PATTERN.fullmatch(permissions_boundary_arn)
        ):
            raise ValueError(f"'{permissions_boundary_arn}' is not a managed policy ARN")
        self.path = path
        self.permissions_boundary_arn = permissions_boundary_arn

    @classmethod
    def apply(
        cls, scope: IConstruct, *, path: str = "/", permissions_boundary_arn: str | None = None
    ) -> RoleGuardrails:
        """Add the aspect to `scope` (a Stage, a Stack) as a mutating aspect, like CDK's boundary."""
        aspect = cls(path=path, permissions_boundary_arn=permissions_boundary_arn)
        Aspects.of(scope).add(aspect, priority=AspectPriority.MUTATING)
        return aspect

    def visit(self, node: IConstruct) -> None:
        if not (CfnResource.is_cfn_resource(node) and isinstance(node, CfnResource)):
            return
        if node.cfn_resource_type != ROLE_TYPE:
            return
        if self.path != "/":
            node.add_property_override("Path", self.path)
        if self.permissions_boundary_arn is not None:
            node.add_property_override("PermissionsBoundary", self.permissions_boundary_arn)
