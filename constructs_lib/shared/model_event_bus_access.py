"""Let another account put model-registry events on this account's default event bus."""

from __future__ import annotations

from aws_cdk import CfnResource, Stack
from constructs import Construct

from constructs_lib.shared.model_package_events import MODEL_PACKAGE_EVENT_SOURCE, MODEL_PACKAGE_STATE_CHANGE


class ModelEventBusAccess(Construct):
    """`AWS::Events::EventBusPolicy` on the default bus: one source account may put SageMaker model
    package state changes on it, and nothing else.

    Written as a plain `CfnResource` of that type, not `events.CfnEventBusPolicy`: the template is the
    same, but cdk-nag 3.0.2's EVB1 rule reads the deprecated `CfnEventBusPolicy#principal` of every such
    resource, so the L1 class alone makes every synth print a deprecation warning. What EVB1 checks (no
    `*` principal without a condition) holds by construction here (one account, always conditioned) and
    is asserted in tests/constructs/shared/test_model_event_bus_access.py and evaluated in tests/iam.
    """

    def __init__(self, scope: Construct, construct_id: str, *, source_account: str, source_name: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        statement = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{stack.partition}:iam::{source_account}:root"},
            "Action": "events:PutEvents",
            "Resource": stack.format_arn(service="events", resource="event-bus", resource_name="default"),
            # Both keys are multivalued (one value per entry of a PutEvents call): every entry must be a
            # model package state change, and the call must have entries.
            "Condition": {
                "ForAllValues:StringEquals": {
                    "events:source": [MODEL_PACKAGE_EVENT_SOURCE],
                    "events:detail-type": [MODEL_PACKAGE_STATE_CHANGE],
                },
                "Null": {"events:source": "false", "events:detail-type": "false"},
            },
        }
        CfnResource(
            self,
            "Resource",
            type="AWS::Events::EventBusPolicy",
            properties={
                "EventBusName": "default",
                "StatementId": f"ModelEventsFrom{source_name.title().replace('-', '')}",
                "Statement": statement,
            },
        )
