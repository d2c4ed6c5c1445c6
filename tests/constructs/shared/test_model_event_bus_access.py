"""ModelEventBusAccess: one source account may put SageMaker model package state changes on the default bus,
and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.shared.model_event_bus_access import ModelEventBusAccess
from tests.constructs.support import bare_stack, logical_id, resource, synth


@dataclass(frozen=True)
class Access:
    template: Template
    staging: str  # from "staging", account 220000000002
    dev: str  # from "ml-dev", account 110000000001

    def properties(self, name: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, getattr(self, name))["Properties"]
        return written


@pytest.fixture(scope="module")
def access(cdk_context: dict[str, Any]) -> Access:
    stack = bare_stack(cdk_context)
    staging = ModelEventBusAccess(stack, "FromStaging", source_account="220000000002", source_name="staging")
    dev = ModelEventBusAccess(stack, "FromDev", source_account="110000000001", source_name="ml-dev")
    return Access(Template.from_stack(stack), staging=logical_id(staging), dev=logical_id(dev))


@pytest.mark.parametrize(("name", "account"), [("staging", "220000000002"), ("dev", "110000000001")])
def test_the_source_account_may_only_put_model_package_state_changes_on_the_default_bus(
    access: Access, name: str, account: str
) -> None:
    written = access.properties(name)
    assert written["EventBusName"] == "default"
    assert written["Statement"] == {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "events:PutEvents",
        "Resource": "arn:aws:events:eu-west-1:123456789012:event-bus/default",
        # Multivalued keys (one value per PutEvents entry): every entry, and at least one.
        "Condition": {
            "ForAllValues:StringEquals": {
                "events:source": ["aws.sagemaker"],
                "events:detail-type": ["SageMaker Model Package State Change"],
            },
            "Null": {"events:source": "false", "events:detail-type": "false"},
        },
    }


@pytest.mark.parametrize(
    ("name", "statement_id"), [("staging", "ModelEventsFromStaging"), ("dev", "ModelEventsFromMlDev")]
)
def test_the_statement_id_comes_from_the_source_name(access: Access, name: str, statement_id: str) -> None:
    assert access.properties(name)["StatementId"] == statement_id


def test_one_policy_per_source_and_nothing_else(access: Access) -> None:
    resources = access.template.to_json()["Resources"]
    assert sorted(resources) == sorted([access.staging, access.dev])
    assert {written["Type"] for written in resources.values()} == {"AWS::Events::EventBusPolicy"}


def test_passes_the_compliance_packs(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    ModelEventBusAccess(stack, "FromStaging", source_account="220000000002", source_name="staging")
    synth(stack)  # raises on any unacknowledged cdk-nag finding
