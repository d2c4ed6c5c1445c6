"""The model registry of one environment: model package groups, readable by the served environments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ram as ram
from constructs import Construct

from constructs_lib.registry.model_package_group import ModelPackageGroup
from constructs_lib.shared.disposable_cleanup import DisposableCleanup
from platform_config.models import ModelRegistryConfig


class RegistryStack(Stack):
    """Model package groups from configuration, each with a resource policy that lets the served
    environments' deployment and serving roles describe and use its packages, and an AWS RAM share with
    those accounts where configured. Retained and termination-protected unless the environment is
    disposable; there (`cleanup_logs_key` given) deleting the stack first deletes every group's versions.
    Exposes `groups` by name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registry: ModelRegistryConfig,
        reader_role_arns: Sequence[str],
        served_accounts: Sequence[str],
        removal_policy: RemovalPolicy,
        cleanup_logs_key: kms.IKey | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.groups = {
            group.name: ModelPackageGroup(
                self,
                f"Group-{group.name}",
                group_name=group.name,
                description=group.description,
                reader_role_arns=reader_role_arns,
                removal_policy=removal_policy,
                tags=group.tags,
            )
            for group in registry.groups
        }
        if cleanup_logs_key is not None:
            # A disposable registry: SageMaker deletes a group only once its versions are gone.
            clearing = DisposableCleanup(self, "Cleanup", logs_key=cleanup_logs_key)
            for name, group in self.groups.items():
                clearing.clear_model_package_versions(group.resource, name)
        shared = [self.groups[group.name] for group in registry.groups if group.share_with_ram]
        if shared and served_accounts:
            share = ram.CfnResourceShare(
                self,
                "ModelPackageGroupShare",
                name=f"{self.stack_name}-model-package-groups",
                resource_arns=[group.arn for group in shared],
                principals=sorted(set(served_accounts)),
                allow_external_principals=True,
            )
            # The share names its groups by ARN (from configuration): they must exist first.
            share.node.add_dependency(*shared)
