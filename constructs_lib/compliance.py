"""One way to acknowledge a compliance finding: next to the resource it concerns, with its reason."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (exact id, e.g. `AwsSolutions-IAM5[Resource::*]`) on a construct."""
    if len(reason) < 20:
        raise ValueError(f"acknowledging {rule_id} needs a real reason, not '{reason}'")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_wildcard_resource(construct: IConstruct, resource_arn: str, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for one wildcard resource ARN that this construct writes on purpose."""
    acknowledge(
        construct, f"AwsSolutions-IAM5[Resource::{nag_rendering(Stack.of(construct), resource_arn)}]", reason
    )


def acknowledge_wildcard_actions(construct: IConstruct, actions: list[str], reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for wildcard actions (e.g. the action groups of CDK's grant_*)."""
    for action in actions:
        acknowledge(construct, f"AwsSolutions-IAM5[Action::{action}]", reason)


def nag_rendering(stack: Stack, value: str) -> str:
    """A resource ARN as cdk-nag names it in a finding id: tokens become <LogicalId.Attr>, <LogicalId>
    or <AWS::Pseudo>; other intrinsics stay as compact JSON."""
    return _render(stack.resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join" and argument[0] == "":
            return "".join(_render(part) for part in argument[1])
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
    return json.dumps(value, separators=(",", ":"))
