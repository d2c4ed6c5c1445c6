"""The `iam` section end to end: every role of every stack of every environment carries the configured path
and boundary (CDK's own roles included), the platform's own boundary exists before any role names it, no
role needs what the boundary denies, and the whole still passes cdk-nag and the template validator."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from constructs_lib.shared.permissions_boundary_policy import DENIED_ACTIONS
from platform_config import PlatformConfig, load_platform, naming
from stacks.platform_stage import PlatformStage, build_app
from tests.conftest import CONFIG_DIR, SynthesizedApp
from tests.iam.accounts import AWS_MANAGED_POLICIES
from tests.iam.action_patterns import denied_overlaps

# Each environment its own shape, whatever the environments are called: the platform's boundary on two
# different paths, then an existing policy of the environment's own account.
CREATED_SHAPES = (
    {"role_path": "/sagemaker-platform/", "permissions_boundary": {"create": True}},
    {"role_path": "/sagemaker-platform/serving/", "permissions_boundary": {"create": True}},
)


def iam_sections(platform: PlatformConfig) -> dict[str, dict[str, Any]]:
    sections: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(sorted(platform.environments)):
        account = platform.environments[name].account_id
        existing = f"arn:aws:iam::{account}:policy/org-guardrails/ml-boundary"
        sections[name] = (
            CREATED_SHAPES[index]
            if index < len(CREATED_SHAPES)
            else {
                "role_path": "/sagemaker-platform/",
                "permissions_boundary": {"managed_policy_arn": existing},
            }
        )
    return sections


# AWS-managed policies the platform's roles carry (CDK's Lambda roles), with what they allow: the
# documents the IAM evaluation models them with.
AWS_MANAGED_POLICY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    name: tuple(action for statement in document["Statement"] for action in statement["Action"])
    for name, document in AWS_MANAGED_POLICIES.items()
}


@dataclass(frozen=True)
class Guarded:
    platform: PlatformConfig
    stages: dict[str, PlatformStage]
    sections: Mapping[str, dict[str, Any]]

    def created(self) -> list[str]:
        """The environments where the platform creates its own boundary."""
        return [
            name for name, section in self.sections.items() if section["permissions_boundary"].get("create")
        ]

    def templates(self) -> Iterator[tuple[str, cdk.Stack, Mapping[str, Any]]]:
        for name, stage in self.stages.items():
            for stack in stage.node.children:
                if isinstance(stack, cdk.Stack):
                    yield name, stack, Template.from_stack(stack).to_json()


def _with_iam_sections(target: Path, sections: Mapping[str, dict[str, Any]]) -> Path:
    shutil.copytree(CONFIG_DIR, target)
    for name, section in sections.items():
        path = target / f"{name}.yaml"
        data = yaml.safe_load(path.read_text())
        data["iam"] = section
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


@pytest.fixture(scope="module")
def guarded(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Guarded:
    """The sample with an `iam` section in every environment, synthesized once with the cdk-nag packs and
    the template validator (which raise on any finding)."""
    sections = iam_sections(load_platform(CONFIG_DIR))
    platform = load_platform(_with_iam_sections(tmp_path_factory.mktemp("guarded") / "config", sections))
    app, stages = build_app(platform, context=cdk_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    app.synth()
    return Guarded(platform, stages, sections)


def _roles(template: Mapping[str, Any]) -> dict[str, Any]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::IAM::Role"
    }


def test_every_role_of_every_stack_carries_the_path_and_the_boundary(guarded: Guarded) -> None:
    checked: dict[str, int] = {}
    for name, stack, template in guarded.templates():
        environment = guarded.platform.environments[name]
        for logical_id, role in _roles(template).items():
            properties = role["Properties"]
            where = f"{stack.stack_name} {logical_id}"
            assert properties.get("Path") == guarded.sections[name]["role_path"], where
            assert properties.get("PermissionsBoundary") == naming.permissions_boundary_arn(environment), (
                where
            )
            checked[name] = checked.get(name, 0) + 1
    # Every environment has roles, CDK's custom resource provider roles among them (Network stacks).
    assert set(checked) == set(guarded.sections)
    assert sum(checked.values()) >= 30


def test_without_the_section_no_role_carries_a_boundary_or_a_path(synthesized: SynthesizedApp) -> None:
    roles = 0
    for stage in synthesized.stages.values():
        assert stage.boundary is None
        for stack in stage.node.children:
            if isinstance(stack, cdk.Stack):
                for role in _roles(Template.from_stack(stack).to_json()).values():
                    assert "PermissionsBoundary" not in role["Properties"]
                    assert role["Properties"].get("Path", "/") == "/"
                    roles += 1
    assert roles >= 30


def test_the_platforms_boundary_exists_before_any_role_names_it(guarded: Guarded) -> None:
    assert guarded.created()
    for name in guarded.created():
        stage = guarded.stages[name]
        boundary = stage.boundary
        assert boundary is not None
        # A role that names a boundary that does not exist yet fails to create.
        assert _roles(Template.from_stack(boundary).to_json()) == {}
        others = [s for s in stage.node.children if isinstance(s, cdk.Stack) and s is not boundary]
        assert len(others) >= 4
        for stack in others:
            assert boundary in stack.dependencies, (
                f"{stack.stack_name} may deploy before {boundary.stack_name}"
            )
        # Roles name it by an ARN derived from configuration: it must be the policy the stack creates.
        (policy,) = Template.from_stack(boundary).find_resources("AWS::IAM::ManagedPolicy").values()
        environment = guarded.platform.environments[name]
        properties = policy["Properties"]
        assert naming.permissions_boundary_arn(environment) == (
            f"arn:aws:iam::{environment.account_id}:policy{properties['Path']}{properties['ManagedPolicyName']}"
        )
    # With an existing policy, the platform creates none.
    for name in set(guarded.sections) - set(guarded.created()):
        assert guarded.stages[name].boundary is None


def _allowed_actions(template: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(logical id, action pattern) of every Allow statement of every identity policy in the template."""
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        documents = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(properties["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents.extend(policy["PolicyDocument"] for policy in properties.get("Policies", []))
        for document in documents:
            for statement in document["Statement"]:
                if statement["Effect"] == "Allow":
                    actions = statement["Action"]
                    for action in actions if isinstance(actions, list) else [actions]:
                        yield logical_id, action


def _aws_managed_policies(template: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for role in _roles(template).values():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            # A string, or CDK's Fn::Join / Fn::Sub around the partition.
            text = json.dumps(arn)
            if ":iam::aws:policy/" in text:
                names.add(text.split(":iam::aws:policy/", 1)[1].split('"')[0])
    return names


def test_no_role_needs_what_the_boundary_denies(guarded: Guarded) -> None:
    denied = [action for actions in DENIED_ACTIONS.values() for action in actions]
    conflicts: list[str] = []
    managed: set[str] = set()
    allowed = 0
    for name, stack, template in guarded.templates():
        if stack is guarded.stages[name].boundary:
            continue
        for logical_id, action in _allowed_actions(template):
            allowed += 1
            conflicts.extend(
                f"{stack.stack_name} {logical_id}: {action} meets the boundary's {deny}"
                for action, deny in denied_overlaps([action], denied)
            )
        managed |= _aws_managed_policies(template)
    assert allowed > 100
    assert conflicts == []
    # AWS-managed policies are not in the templates: their actions are listed here, and checked the same way.
    assert managed <= set(AWS_MANAGED_POLICY_ACTIONS), (
        f"add the actions of {managed - set(AWS_MANAGED_POLICY_ACTIONS)}"
    )
    assert denied_overlaps([a for name in managed for a in AWS_MANAGED_POLICY_ACTIONS[name]], denied) == []
