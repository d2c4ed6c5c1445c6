"""The model registry's events: SageMaker's source and detail type, and the pattern rules match them by."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_events as events
from aws_cdk.assertions import Template

from constructs_lib.shared.model_package_events import (
    MODEL_PACKAGE_STATE_CHANGE,
    model_package_state_changes,
)
from tests.constructs.support import bare_stack


def _rendered(cdk_context: dict[str, Any], pattern: events.EventPattern) -> Any:
    """The EventPattern of a rule built with the pattern, as the template has it."""
    stack = bare_stack(cdk_context)
    events.Rule(stack, "Rule", event_pattern=pattern)
    (rule,) = Template.from_stack(stack).find_resources("AWS::Events::Rule").values()
    return rule["Properties"]["EventPattern"]


def test_the_detail_type_is_sagemakers() -> None:
    assert MODEL_PACKAGE_STATE_CHANGE == "SageMaker Model Package State Change"


def test_every_state_change_of_the_groups(cdk_context: dict[str, Any]) -> None:
    assert _rendered(cdk_context, model_package_state_changes(group_names=["b", "a"])) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["a", "b"]},
    }


def test_approvals_only_from_the_given_accounts(cdk_context: dict[str, Any]) -> None:
    pattern = model_package_state_changes(
        group_names={"churn"}, approved_only=True, accounts={"220000000002", "110000000001"}
    )
    assert _rendered(cdk_context, pattern) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "account": ["110000000001", "220000000002"],
        "detail": {"ModelPackageGroupName": ["churn"], "ModelApprovalStatus": ["Approved"]},
    }
