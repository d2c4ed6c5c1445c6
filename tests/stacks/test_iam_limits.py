"""IAM limits a deploy would hit but no synth checks: policy size and policies per role."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

from tests.conftest import SynthesizedApp

# IAM counts a managed policy's characters without whitespace; 6,144 is the hard limit.
MAX_MANAGED_POLICY_CHARACTERS = 6144
# The default quota of managed policies attached to one role (it can be raised to 20).
MAX_POLICIES_PER_ROLE = 10
# Tokens resolve at deploy time to ARNs and ids; assume long ones.
TOKEN_LENGTH = {"Ref": 64, "Fn::GetAtt": 128, "Fn::GetStackOutput": 128, "Fn::ImportValue": 128}


def _deployed(node: Any) -> Any:
    """The policy document roughly as IAM will store it, each token replaced by a long value."""
    if isinstance(node, list):
        return [_deployed(item) for item in node]
    if isinstance(node, dict):
        if len(node) == 1:
            ((function, argument),) = node.items()
            if function == "Fn::Join":
                return str(argument[0]).join(str(_deployed(item)) for item in argument[1])
            if function in TOKEN_LENGTH:
                return "x" * TOKEN_LENGTH[function]
        return {key: _deployed(value) for key, value in node.items()}
    return node


def _templates(synthesized: SynthesizedApp) -> dict[str, Template]:
    return {path: synthesized.template(path) for path in synthesized.stack_paths()}


def test_every_managed_policy_fits_iams_size_limit(synthesized: SynthesizedApp) -> None:
    sizes = {
        f"{stack_path} {logical_id}": len(
            json.dumps(_deployed(policy["Properties"]["PolicyDocument"]), separators=(",", ":"))
        )
        for stack_path, template in _templates(synthesized).items()
        for logical_id, policy in template.find_resources("AWS::IAM::ManagedPolicy").items()
    }
    assert len(sizes) >= 10
    too_large = {name: size for name, size in sizes.items() if size > MAX_MANAGED_POLICY_CHARACTERS}
    assert not too_large, f"managed policies over {MAX_MANAGED_POLICY_CHARACTERS} characters: {too_large}"


def test_no_role_has_more_managed_policies_than_the_default_quota(synthesized: SynthesizedApp) -> None:
    for stack_path, template in _templates(synthesized).items():
        attached: dict[str, int] = {}
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values():
            for role in policy["Properties"].get("Roles", []):
                attached[json.dumps(role)] = attached.get(json.dumps(role), 0) + 1
        assert all(count <= MAX_POLICIES_PER_ROLE for count in attached.values()), (stack_path, attached)
