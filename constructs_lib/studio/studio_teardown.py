"""Tears a Studio domain down when its (disposable) stack is deleted, so `cdk destroy` gets to the VPC."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from constructs_lib.shared.compliance import acknowledge_wildcard_resource
from constructs_lib.shared.platform_function import PlatformFunction
from constructs_lib.shared.provider_framework import TOTAL_TIMEOUT, polling_provider
from constructs_lib.studio.studio_domain import StudioDomain

# SageMaker tags the domain's home EFS and its NFS security groups with the domain's ARN under this key.
SAGEMAKER_TAG = "ManagedByAmazonSageMakerResource"
# The handler stops with an error naming what is left before the framework's silent "Operation timed out":
# two polls plus the start-up of the Delete before the hour.
GIVE_UP_AFTER = Duration.minutes(55)
RESOURCE_TYPE = "Custom::StudioTeardown"

OUTSIDE_VPC = (
    "The teardown calls the SageMaker, EC2, EFS and CloudFormation APIs and reaches nothing only the VPC "
    "reaches; in the isolated subnets it would need EC2, EFS and CloudFormation interface endpoints (paid "
    "per AZ, per environment) for a function that runs once, when the stack is deleted."
)


class StudioTeardown(Construct):
    """Two `Custom::StudioTeardown` resources that take `domain` down with its stack, in disposable
    environments only; one provider (functions/studio_teardown, outside the VPC) serves both.

    - Contents depends on the domain and on every user profile and space given (`studio_resources`), so
      CloudFormation deletes it first. Create and Update record the domain id. Its Delete deletes every app
      of the domain's user profiles and spaces and waits until none is left, then every space, then every
      user profile (those users made in Studio too).
    - CloudFormation then deletes the domain: the platform's permissions boundary denies every role
      `sagemaker:DeleteDomain`, and CloudFormation's execution role has no boundary. The template's
      profiles and spaces are already gone; their registry handlers report NotFound, which CloudFormation
      takes as deleted. Its delete keeps the domain's home EFS.
    - Leftovers, which the domain depends on (created before it, deleted after it), deletes what SageMaker
      left in `vpc` for domains that no longer exist, found by the domain ARN SageMaker tags them with:
      the home EFS (mount targets, then the file system) and the two NFS security groups, once no network
      interface uses them. Another domain's in the same VPC stay while that domain exists.

    Both tear down only while their stack is being deleted: removing them from a live stack's template (the
    environment switched to retained) leaves everything alone.

    Timing: polls every 30 s for at most an hour (CloudFormation waits no longer for a custom resource). An
    app, space or profile that takes longer makes the Delete fail after 55 minutes with a message naming
    what is still there; SageMaker goes on deleting, and running the destroy again resumes where it stopped.

    Exposes `contents` and `leftovers` (the resources) and `teardown_function`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: StudioDomain,
        vpc: ec2.IVpc,
        studio_resources: Sequence[IConstruct],
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        recorder = PlatformFunction(
            self,
            "Recorder",
            package="studio_teardown",
            entry_point="on_event",
            description="Studio teardown: records what a resource is for; Deletes are left to the poll",
            environment={},
            vpc=None,
            subnets=(),
            outside_vpc_reason=OUTSIDE_VPC,
            logs_key=logs_key,
            timeout_seconds=30,
        )
        teardown = PlatformFunction(
            self,
            "Teardown",
            package="studio_teardown",
            entry_point="is_complete",
            description="Studio teardown: deletes apps, spaces, profiles, then SageMaker's EFS, NFS groups",
            environment={},
            vpc=None,
            subnets=(),
            outside_vpc_reason=OUTSIDE_VPC,
            logs_key=logs_key,
            timeout_seconds=120,
        )
        self.teardown_function = teardown.function
        # The function's own policy names no domain: the Leftovers resource, which the domain depends on,
        # must not depend on the domain through it.
        self._grant_leftovers(teardown.policy, stack, vpc=vpc)
        contents_policy = self._contents_policy(teardown.role, stack, domain_id=domain.domain_id)
        provider = polling_provider(
            self, "Provider", on_event=recorder.function, is_complete=teardown.function, logs_key=logs_key
        )
        give_up = str(int(GIVE_UP_AFTER.to_seconds()))
        self.contents = CustomResource(
            self,
            "Contents",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            service_timeout=TOTAL_TIMEOUT,
            properties={
                "Phase": "Contents",
                "DomainId": domain.domain_id,
                "DomainArn": domain.domain_arn,
                "GiveUpAfterSeconds": give_up,
            },
        )
        # Deleted first, while its domain-scoped grants still exist.
        for studio_resource in (domain, *studio_resources, contents_policy):
            self.contents.node.add_dependency(studio_resource)
        # The domain's GetAtt already orders it; the DependsOn says so where a reader looks: not an error.
        self.contents.node.default_child.add_metadata(  # type: ignore[union-attr]
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        self.leftovers = CustomResource(
            self,
            "Leftovers",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            service_timeout=TOTAL_TIMEOUT,
            properties={"Phase": "Leftovers", "VpcId": vpc.vpc_id, "GiveUpAfterSeconds": give_up},
        )
        # Deleted after the domain, when SageMaker has left its home EFS and security groups.
        domain.node.add_dependency(self.leftovers)

    def _contents_policy(self, role: iam.IRole, stack: Stack, *, domain_id: str) -> iam.ManagedPolicy:
        def arn(resource: str) -> str:
            return stack.format_arn(service="sagemaker", resource=resource, resource_name=f"{domain_id}/*")

        # A policy of its own, which the function does not depend on (see `_grant_leftovers`).
        policy = iam.ManagedPolicy(
            self,
            "DomainContentsPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="DeleteDomainApps",
                    actions=["sagemaker:DeleteApp", "sagemaker:DescribeApp"],
                    resources=[arn("app")],
                ),
                iam.PolicyStatement(
                    sid="DeleteDomainSpacesAndProfiles",
                    actions=["sagemaker:DeleteSpace", "sagemaker:DeleteUserProfile"],
                    resources=[arn("space"), arn("user-profile")],
                ),
            ],
        )
        for resource, reason in (
            ("app", "The apps users start in this domain have names nobody knows at deploy time."),
            ("space", "Every space of this domain, including those users created outside CloudFormation."),
            (
                "user-profile",
                "Every user profile of this domain, including those made outside CloudFormation.",
            ),
        ):
            acknowledge_wildcard_resource(policy, arn(resource), reason)
        return policy

    @staticmethod
    def _grant_leftovers(policy: iam.ManagedPolicy, stack: Stack, *, vpc: ec2.IVpc) -> None:
        def arn(service: str, resource: str, name: str) -> str:
            return stack.format_arn(service=service, resource=resource, resource_name=name)

        # SageMaker's tag on what it creates for a domain: any domain of this account and region (the handler
        # picks those of domains that no longer exist).
        tagged = {"StringLike": {f"aws:ResourceTag/{SAGEMAKER_TAG}": arn("sagemaker", "domain", "*")}}
        in_vpc = {"ec2:Vpc": arn("ec2", "vpc", vpc.vpc_id)}
        policy.add_statements(
            iam.PolicyStatement(
                sid="ReadOwnStackStatus",
                actions=["cloudformation:DescribeStacks"],
                resources=[arn("cloudformation", "stack", f"{stack.stack_name}/*")],
            ),
            iam.PolicyStatement(
                sid="ListAndDescribe",
                actions=[
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "elasticfilesystem:DescribeFileSystems",
                    "sagemaker:ListApps",
                    "sagemaker:ListSpaces",
                    "sagemaker:ListUserProfiles",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="DescribeDomains",
                actions=["sagemaker:DescribeDomain"],
                resources=[arn("sagemaker", "domain", "*")],
            ),
            iam.PolicyStatement(
                sid="DeleteSageMakerNfsSecurityGroups",
                actions=[
                    "ec2:DeleteSecurityGroup",
                    "ec2:RevokeSecurityGroupEgress",
                    "ec2:RevokeSecurityGroupIngress",
                ],
                resources=[arn("ec2", "security-group", "*")],
                conditions={**tagged, "ArnEquals": in_vpc},
            ),
            iam.PolicyStatement(
                sid="DeleteSageMakerHomeFileSystems",
                actions=[
                    "elasticfilesystem:DeleteFileSystem",
                    "elasticfilesystem:DeleteMountTarget",
                    "elasticfilesystem:DescribeMountTargets",
                ],
                resources=[arn("elasticfilesystem", "file-system", "*")],
                conditions=tagged,
            ),
            # EFS deletes a mount target's network interface with the caller's permission.
            iam.PolicyStatement(
                sid="DeleteMountTargetInterfaces",
                actions=["ec2:DeleteNetworkInterface"],
                resources=[arn("ec2", "network-interface", "*")],
                conditions={"ArnEquals": in_vpc},
            ),
        )
        for wildcard, reason in (
            (
                arn("cloudformation", "stack", f"{stack.stack_name}/*"),
                "The stack's own id ends in a generated suffix; the handler reads this stack's status only.",
            ),
            (
                "*",
                "ListApps/ListSpaces/ListUserProfiles and the EC2 and EFS Describe calls support no "
                "resource-level permissions; they only read.",
            ),
            (
                arn("sagemaker", "domain", "*"),
                "Reads whether the domains SageMaker's leftovers name still exist; read only.",
            ),
            (
                arn("ec2", "security-group", "*"),
                "SageMaker creates the NFS security groups; only those in this VPC that it tagged with a "
                "domain's ARN (conditions).",
            ),
            (
                arn("elasticfilesystem", "file-system", "*"),
                "SageMaker creates the home EFS; only those it tagged with a domain's ARN (condition).",
            ),
            (
                arn("ec2", "network-interface", "*"),
                "EFS removes its mount targets' interfaces with the caller's permission; this VPC only.",
            ),
        ):
            acknowledge_wildcard_resource(policy, wildcard, reason)
