"""Forward the registry's model package state changes to the event buses of the served accounts."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge
from constructs_lib.shared.model_package_events import model_package_state_changes


class ModelEventForwarding(Construct):
    """An EventBridge rule on this account's default bus that sends the given groups' package state
    changes to other accounts' default buses (whose policies accept them from this account only).
    Exposes `rule`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_names: Sequence[str],
        target_bus_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Rule",
            description="Model package state changes, forwarded to the served accounts",
            event_pattern=model_package_state_changes(group_names=group_names),
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="Puts model package events on the served accounts' event buses",
        )
        for index, bus_arn in enumerate(sorted(set(target_bus_arns))):
            bus = events.EventBus.from_event_bus_arn(self, f"Bus{index}", bus_arn)
            # The target grants the role events:PutEvents on that bus (and nothing else).
            self.rule.add_target(targets.EventBus(bus, role=role))
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CDK's event-bus targets write their events:PutEvents grants into the forwarding role's default "
            "policy; the role belongs to this rule only.",
        )
