"""What a serving environment lets its trusted environments do: deploy models, and send model events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from constructs_lib.serving.deployment_role import DeploymentRole
from constructs_lib.serving.serving_execution_role import ModelSource, ServingExecutionRole
from constructs_lib.shared.model_event_bus_access import ModelEventBusAccess


class ServingAccessStack(Stack):
    """The serving execution role (reads exactly the sources' model artifacts and images), the deployment
    role the trusted environments' promotion roles assume, and the event-bus policy that accepts their
    model package events. Replaceable; role names are fixed because other accounts name them.
    Exposes `execution_role` and `deployment_role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        execution_role_name: str,
        deployment_role_name: str,
        sources: Sequence[ModelSource],
        source_names: Sequence[str],
        promotion_role_arns: Sequence[str],
        model_package_arns: Sequence[str],
        external_id: str | None,
        organization_id: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.execution_role = ServingExecutionRole(
            self, "ExecutionRole", role_name=execution_role_name, sources=sources
        ).role
        self.deployment_role = DeploymentRole(
            self,
            "DeploymentRole",
            role_name=deployment_role_name,
            trusted_role_arns=promotion_role_arns,
            execution_role_arn=self.execution_role.role_arn,
            model_package_arns=model_package_arns,
            external_id=external_id,
            organization_id=organization_id,
        ).role
        for source, name in zip(sources, source_names, strict=True):
            ModelEventBusAccess(
                self, f"EventsFrom-{name}", source_account=source.account_id, source_name=name
            )
