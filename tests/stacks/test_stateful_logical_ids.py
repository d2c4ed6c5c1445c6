"""Logical ids of stateful resources are pinned: a renamed construct must not delete a bucket or a domain.

A pinned id that disappears fails the test; new resources may appear. After a deliberate change (a user
removed from the sample), refresh the pin with `UPDATE_PINNED_IDS=1 .venv/bin/pytest tests/stacks`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aws_cdk import Stack
from aws_cdk.assertions import Template

from tests.conftest import SynthesizedApp

PINNED = Path(__file__).with_name("stateful_logical_ids.json")
STATEFUL_TYPES = (
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::SageMaker::Domain",
    "AWS::SageMaker::UserProfile",
    "AWS::SageMaker::Space",
    "AWS::ECR::Repository",
    "AWS::SageMaker::ModelPackageGroup",
    "AWS::EFS::FileSystem",
)


def _stateful_ids(synthesized: SynthesizedApp) -> dict[str, dict[str, list[str]]]:
    found: dict[str, dict[str, list[str]]] = {}
    for environment, stage in sorted(synthesized.stages.items()):
        for stack in stage.node.children:
            if not isinstance(stack, Stack):
                continue
            template = Template.from_stack(stack)
            by_type = {
                resource_type: sorted(template.find_resources(resource_type))
                for resource_type in STATEFUL_TYPES
                if template.find_resources(resource_type)
            }
            if by_type:
                found[f"{environment}/{stack.node.id}"] = by_type
    return found


def test_pinned_stateful_logical_ids_still_exist(synthesized: SynthesizedApp) -> None:
    current = _stateful_ids(synthesized)
    if os.environ.get("UPDATE_PINNED_IDS") == "1":
        PINNED.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    pinned: dict[str, dict[str, list[str]]] = json.loads(PINNED.read_text())
    lost = [
        f"{stack} {resource_type} {logical_id}"
        for stack, by_type in pinned.items()
        for resource_type, logical_ids in by_type.items()
        for logical_id in logical_ids
        if logical_id not in current.get(stack, {}).get(resource_type, [])
    ]
    assert not lost, (
        "these stateful resources would be deleted (and recreated empty) by a deploy; keep their construct "
        "ids, or refresh the pin only if losing them is intended:\n  " + "\n  ".join(lost)
    )
    assert sum(len(ids) for by_type in pinned.values() for ids in by_type.values()) >= 20
