"""The model registry's events on EventBridge: what SageMaker puts on the default bus when a model package
changes state, and the pattern of the rules that react to them (forwarding, approval guard, promotion)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_events as events

MODEL_PACKAGE_EVENT_SOURCE = "aws.sagemaker"
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"


def model_package_state_changes(
    *, group_names: Iterable[str], approved_only: bool = False, accounts: Iterable[str] | None = None
) -> events.EventPattern:
    """State changes of the packages of these groups (only approvals with `approved_only`), from these
    accounts when given (events forwarded from the registry's account keep its account id)."""
    detail: dict[str, list[str]] = {"ModelPackageGroupName": sorted(group_names)}
    if approved_only:
        detail["ModelApprovalStatus"] = ["Approved"]
    return events.EventPattern(
        source=[MODEL_PACKAGE_EVENT_SOURCE],
        detail_type=[MODEL_PACKAGE_STATE_CHANGE],
        account=sorted(accounts) if accounts is not None else None,
        detail=detail,
    )
