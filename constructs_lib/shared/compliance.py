"""One way to acknowledge a compliance finding: next to the resource it concerns, with its reason."""

from __future__ import annotations

import json
from collections.abc import Callable
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


# The wildcard action groups CDK's grants write (aws-cdk-lib keeps its lists private, in aws-s3's and
# aws-kms's perms modules): a bucket's grant_read, what grant_put and grant_delete add to it, and what a key's
# grant_encrypt adds to grant_decrypt.
BUCKET_READ_GRANT_ACTIONS = ["s3:GetBucket*", "s3:GetObject*", "s3:List*"]
BUCKET_PUT_GRANT_ACTIONS = ["s3:Abort*"]
BUCKET_DELETE_GRANT_ACTIONS = ["s3:DeleteObject*"]
KEY_ENCRYPT_GRANT_ACTIONS = ["kms:GenerateDataKey*", "kms:ReEncrypt*"]
# grant_read_write on a bucket with its key, and grant_encrypt_decrypt.
READ_WRITE_GRANT_ACTIONS = [
    *BUCKET_PUT_GRANT_ACTIONS,
    *BUCKET_DELETE_GRANT_ACTIONS,
    *BUCKET_READ_GRANT_ACTIONS,
    *KEY_ENCRYPT_GRANT_ACTIONS,
]


def acknowledge_wildcard_actions(construct: IConstruct, actions: list[str], reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for wildcard actions (e.g. the action groups of CDK's grant_*)."""
    for action in actions:
        acknowledge(construct, f"AwsSolutions-IAM5[Action::{action}]", reason)


def nag_rendering(stack: Stack, value: str) -> str:
    """A resource ARN as cdk-nag 3 writes it in a finding id (its flattening of CloudFormation references):
    `${X}` becomes `<X>`, Ref becomes `<Id>`, GetAtt `<Id.Attr>`, joins are joined, Sub and ImportValue
    are unwrapped, anything else is compact JSON."""
    return _render(stack.resolve(value))


def _render(node: Any) -> str:
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function in _INTRINSICS and argument:
            return _INTRINSICS[function](argument)
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


_INTRINSICS: dict[str, Callable[[Any], str]] = {
    "Fn::Join": lambda argument: str(argument[0]).join(_render(item) for item in argument[1]),
    "Fn::Sub": _render,
    "Fn::GetAtt": lambda argument: f"<{_render(argument[0])}.{_render(argument[1])}>",
    "Fn::ImportValue": _render,
    "Ref": lambda argument: f"<{_render(argument)}>",
}
