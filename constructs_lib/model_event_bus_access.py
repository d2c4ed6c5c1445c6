"""Let another account put model-registry events on this account's default event bus."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from constructs import Construct

MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"


class ModelEventBusAccess(Construct):
    """`AWS::Events::EventBusPolicy` on the default bus: one source account may put SageMaker model
    package state changes on it, and nothing else."""

    def __init__(self, scope: Construct, construct_id: str, *, source_account: str, source_name: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        events.CfnEventBusPolicy(
            self,
            "Resource",
            event_bus_name="default",
            statement_id=f"ModelEventsFrom{source_name.title().replace('-', '')}",
            statement={
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{stack.partition}:iam::{source_account}:root"},
                "Action": "events:PutEvents",
                "Resource": stack.format_arn(service="events", resource="event-bus", resource_name="default"),
                # Both keys are multivalued (one value per entry of a PutEvents call): every entry must be
                # a model package state change, and the call must have entries.
                "Condition": {
                    "ForAllValues:StringEquals": {
                        "events:source": ["aws.sagemaker"],
                        "events:detail-type": [MODEL_PACKAGE_STATE_CHANGE],
                    },
                    "Null": {"events:source": "false", "events:detail-type": "false"},
                },
            },
        )
