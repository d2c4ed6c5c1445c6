"""RoleGuardrails: one path and one permissions boundary on every AWS::IAM::Role under a scope, the raw
`CfnResource` roles of CDK's custom resource providers included."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3_notifications
from aws_cdk import custom_resources as cr
from aws_cdk.assertions import Template

from constructs_lib.shared.role_guardrails import RoleGuardrails
from tests.constructs.support import ACCOUNT, bare_stack

PATH = "/sagemaker-platform/ml/"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/sagemaker-platform/ml/test-boundary"
# The roles CDK writes for itself besides iam.Role, by the path of the construct that creates them.
CDK_OWN_ROLES = (
    "Custom::S3AutoDeleteObjectsCustomResourceProvider",
    "Custom::VpcRestrictDefaultSGCustomResourceProvider",
    "BucketNotificationsHandler",
    "LogRetention",
    "framework-onEvent",
)


def _roles_of_every_kind(stack: cdk.Stack) -> None:
    """A plain role, and every kind of role CDK creates on its own (custom resource providers as raw
    CfnResources, the bucket-notifications handler, log retention, the provider framework)."""
    iam.Role(stack, "Plain", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"), role_name="fixed")
    bucket = s3.Bucket(stack, "Bucket", auto_delete_objects=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    handler = lambda_.Function(
        stack,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3_notifications.LambdaDestination(handler))
    provider = cr.Provider(stack, "Provider", on_event_handler=handler)
    cdk.CustomResource(stack, "Custom", service_token=provider.service_token)
    ec2.Vpc(
        stack, "Vpc", max_azs=1, nat_gateways=0, restrict_default_security_group=True, subnet_configuration=[]
    )


def _roles(template: Template) -> dict[str, Any]:
    return dict(template.find_resources("AWS::IAM::Role"))


def _with_guardrails(cdk_context: dict[str, Any], **guardrails: Any) -> Template:
    return _guarded_stack(cdk_context, **guardrails)[1]


def _guarded_stack(cdk_context: dict[str, Any], **guardrails: Any) -> tuple[cdk.Stack, Template]:
    stack = bare_stack(cdk_context)
    _roles_of_every_kind(stack)
    # Applied to the App (a Stage), as the platform applies it to each environment's Stage.
    RoleGuardrails.apply(stack.node.root, **guardrails)
    return stack, Template.from_stack(stack)


def test_every_role_gets_the_path_and_the_boundary(cdk_context: dict[str, Any]) -> None:
    stack, template = _guarded_stack(cdk_context, path=PATH, permissions_boundary_arn=BOUNDARY)
    roles = _roles(template)
    role_resources = [
        node
        for node in stack.node.find_all()
        if isinstance(node, cdk.CfnResource) and node.cfn_resource_type == "AWS::IAM::Role"
    ]
    created_by = {node.node.path for node in role_resources}
    for kind in CDK_OWN_ROLES:
        assert any(kind in path for path in created_by), f"no {kind} role in {sorted(created_by)}"
    # Some are not iam.Role at all: custom resource providers write raw CfnResources.
    assert any(type(node) is cdk.CfnResource for node in role_resources)
    assert len(roles) == len(role_resources) >= 6
    for logical_id, role in roles.items():
        assert role["Properties"]["Path"] == PATH, logical_id
        assert role["Properties"]["PermissionsBoundary"] == BOUNDARY, logical_id


def test_the_root_path_is_left_to_its_default(cdk_context: dict[str, Any]) -> None:
    roles = _roles(_with_guardrails(cdk_context, permissions_boundary_arn=BOUNDARY))
    assert all("Path" not in role["Properties"] for role in roles.values())
    assert all(role["Properties"]["PermissionsBoundary"] == BOUNDARY for role in roles.values())


def test_a_path_alone_sets_no_boundary(cdk_context: dict[str, Any]) -> None:
    roles = _roles(_with_guardrails(cdk_context, path=PATH))
    assert all(role["Properties"]["Path"] == PATH for role in roles.values())
    assert all("PermissionsBoundary" not in role["Properties"] for role in roles.values())


def test_only_roles_are_touched(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    iam.ManagedPolicy(
        stack, "Policy", statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])]
    )
    iam.User(stack, "User")
    RoleGuardrails.apply(stack, path=PATH, permissions_boundary_arn=BOUNDARY)
    template = Template.from_stack(stack)
    for resource_type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::User"):
        for written in template.find_resources(resource_type).values():
            properties = written.get("Properties", {})
            assert properties.get("Path", "/") == "/"
            assert "PermissionsBoundary" not in properties


@pytest.mark.parametrize(
    ("guardrails", "message"),
    [
        ({"path": "ml/"}, "is not an IAM path"),
        ({"path": "/ml"}, "is not an IAM path"),
        ({"path": "/ml platform/"}, "is not an IAM path"),
        ({"path": "/" + "a" * 511 + "/"}, "is not an IAM path"),
        ({"permissions_boundary_arn": "my-boundary"}, "is not a managed policy ARN"),
        (
            {"permissions_boundary_arn": f"arn:aws:iam::{ACCOUNT}:role/my-boundary"},
            "is not a managed policy ARN",
        ),
    ],
    ids=["no-leading-slash", "no-trailing-slash", "space", "too-long", "a-name", "a-role"],
)
def test_rejects_what_iam_would(guardrails: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RoleGuardrails(**guardrails)
