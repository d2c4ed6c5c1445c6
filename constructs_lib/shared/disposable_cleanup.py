"""Clears what keeps CloudFormation from deleting a resource of a disposable environment."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CustomResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from constructs_lib.shared.compliance import acknowledge_wildcard_resource
from constructs_lib.shared.platform_function import PlatformFunction
from constructs_lib.shared.provider_framework import TOTAL_TIMEOUT, polling_provider

OUTSIDE_VPC = (
    "The cleanup calls the SageMaker and CloudFormation APIs and reaches nothing only the VPC reaches; in "
    "the isolated subnets it would need a CloudFormation interface endpoint (paid per AZ, per environment) "
    "for a function that acts once, when the stack is deleted."
)


class DisposableCleanup(Construct):
    """A custom-resource provider (functions/disposable_cleanup, onEvent and isComplete, outside the VPC:
    see `OUTSIDE_VPC`) for a stack of a disposable environment. Each `clear_*` adds a resource
    that depends on what it clears, so CloudFormation deletes it first; its Delete empties that resource and
    polls until nothing is left, or fails after `TOTAL_TIMEOUT` naming what is left (deleting the stack
    again resumes). Create and Update do nothing.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        functions = {
            entry_point: PlatformFunction(
                self,
                name,
                package="disposable_cleanup",
                description=f"Clears versions and pipeline executions before deletion ({entry_point})",
                environment={},
                vpc=None,
                subnets=(),
                outside_vpc_reason=OUTSIDE_VPC,
                logs_key=logs_key,
                timeout_seconds=120,
                entry_point=entry_point,
            )
            for name, entry_point in (("OnEvent", "on_event"), ("IsComplete", "is_complete"))
        }
        self._policies = [function.policy for function in functions.values()]
        self.provider = polling_provider(
            self,
            "Provider",
            on_event=functions["on_event"].function,
            is_complete=functions["is_complete"].function,
            logs_key=logs_key,
        )
        self._grants: set[str] = set()
        stack = Stack.of(self)
        for policy in self._policies:
            # A Delete acts only while this stack is being deleted (functions/disposable_cleanup).
            policy.add_statements(
                iam.PolicyStatement(
                    actions=["cloudformation:DescribeStacks"],
                    resources=[
                        stack.format_arn(
                            service="cloudformation", resource="stack", resource_name=f"{stack.stack_name}/*"
                        )
                    ],
                )
            )
            acknowledge_wildcard_resource(
                policy,
                stack.format_arn(
                    service="cloudformation", resource="stack", resource_name=f"{stack.stack_name}/*"
                ),
                "The stack's id ends in a UUID CloudFormation assigns: this stack's status, nothing else.",
            )

    def clear_model_package_versions(self, group: IConstruct, group_name: str) -> CustomResource:
        """Delete every version of the group before CloudFormation deletes the group."""
        stack = Stack.of(self)
        versions = [
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{name}/*")
            for name in sorted({group_name, group_name.lower()})
        ]
        self._grant(
            f"versions-{group_name}",
            iam.PolicyStatement(actions=["sagemaker:DeleteModelPackage"], resources=versions),
            wildcards=versions,
            reason=f"Every version of {group_name}, and only those, is deleted before the group.",
        )
        self._grant(
            "list-versions",
            iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=["*"]),
            wildcards=["*"],
            reason="sagemaker:ListModelPackages has no resource-level permissions: it lists by group name.",
        )
        return self._resource(
            f"Versions-{group_name}", group, "ModelPackageVersions", "ModelPackageGroupName", group_name
        )

    def stop_pipeline_executions(self, pipeline: IConstruct, pipeline_name: str) -> CustomResource:
        """Stop every running execution of the pipeline before CloudFormation deletes it."""
        stack = Stack.of(self)
        pipeline_arn = stack.format_arn(
            service="sagemaker", resource="pipeline", resource_name=pipeline_name.lower()
        )
        self._grant(
            f"executions-{pipeline_name}",
            iam.PolicyStatement(
                actions=["sagemaker:ListPipelineExecutions", "sagemaker:StopPipelineExecution"],
                resources=[pipeline_arn, f"{pipeline_arn}/execution/*"],
            ),
            wildcards=[f"{pipeline_arn}/execution/*"],
            reason=f"The executions of pipeline {pipeline_name}, and only those, are stopped before it.",
        )
        return self._resource(
            f"Executions-{pipeline_name}", pipeline, "PipelineExecutions", "PipelineName", pipeline_name
        )

    def _grant(
        self, key: str, statement: iam.PolicyStatement, *, wildcards: Sequence[str], reason: str
    ) -> None:
        if key in self._grants:
            return
        self._grants.add(key)
        for policy in self._policies:
            policy.add_statements(statement)
            for resource in wildcards:
                acknowledge_wildcard_resource(policy, resource, reason)

    def _resource(
        self, construct_id: str, cleared: IConstruct, kind: str, name_property: str, name: str
    ) -> CustomResource:
        resource = CustomResource(
            self,
            construct_id,
            service_token=self.provider.service_token,
            resource_type="Custom::DisposableCleanup",
            # CloudFormation waits as long as the waiter polls (its default is an hour too; said explicitly).
            service_timeout=TOTAL_TIMEOUT,
            properties={"Kind": kind, name_property: name},
        )
        # Deleted before what it clears, and after the functions can act on it.
        resource.node.add_dependency(cleared, *self._policies)
        return resource
