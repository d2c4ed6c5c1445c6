"""tools/bootstrap_policy.py: the CloudFormation execution policy covers what the templates deploy."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SynthesizedApp
from tools.bootstrap_policy import (
    CDK_DEPLOYMENT_ACTIONS,
    DEPLOYED_RESOURCE_TYPES,
    MANAGED_POLICY_MAX_CHARS,
    execution_policies,
    main,
    policy_size,
    required_actions,
    resource_type_actions,
    template_resource_types,
    uncovered_types,
)

IAM_ACTIONS = ROOT / "node_modules" / "@cloud-copilot" / "iam-data" / "data" / "actions"


@cache
def _service_actions(service: str) -> dict[str, Any]:
    path = IAM_ACTIONS / f"{service}.json"
    if not path.is_file():
        return {}
    actions: dict[str, Any] = json.loads(path.read_text())
    return actions


def _allowed(documents: list[dict[str, Any]]) -> set[str]:
    return {
        action.lower()
        for doc in documents
        for statement in doc["Statement"]
        for action in statement["Action"]
    }


def _assemblies(synthesized: SynthesizedApp) -> list[Path]:
    assemblies = sorted(synthesized.outdir.glob("assembly-*"))
    assert assemblies, "the synthesized app has no stage assemblies"
    return assemblies


def test_every_synthesized_resource_type_has_actions(synthesized: SynthesizedApp) -> None:
    templates = sorted(synthesized.outdir.glob("assembly-*/*.template.json"))
    types = template_resource_types(templates)
    missing = {t: sorted(p.name for p in types[t]) for t in uncovered_types(types)}
    assert not missing, (
        f"resource types without execution-policy actions (add them to tools/bootstrap_policy.py): {missing}"
    )


@pytest.mark.parametrize("missing_type", ["AWS::Foo::Bar", "Custom::Unknown"])
def test_a_type_without_actions_is_named(
    tmp_path: Path, missing_type: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = tmp_path / "cdk.out" / "assembly-test"
    assembly.mkdir(parents=True)
    template = {"Resources": {"Known": {"Type": "AWS::S3::Bucket"}, "New": {"Type": missing_type}}}
    (assembly / "Stack.template.json").write_text(json.dumps(template))
    stack = {"type": "aws:cloudformation:stack", "environment": "aws://123456789012/eu-central-1"}
    (assembly / "manifest.json").write_text(json.dumps({"artifacts": {"Stack": stack}}))

    assert uncovered_types(template_resource_types([assembly / "Stack.template.json"])) == [missing_type]
    with pytest.raises(ValueError, match=missing_type):
        required_actions(["AWS::S3::Bucket", missing_type])
    assert main(["--env", "test", "--cdk-out", str(tmp_path / "cdk.out")]) == 1
    assert f"no actions for {missing_type} (in Stack.template.json)" in capsys.readouterr().err


def test_every_declared_type_has_actions() -> None:
    table = resource_type_actions()
    assert set(DEPLOYED_RESOURCE_TYPES) <= set(table)
    assert not [t for t, actions in table.items() if not actions]


def test_table_actions_are_valid_iam_actions() -> None:
    assert IAM_ACTIONS.is_dir(), "run `make bootstrap`: the IAM action data comes from node_modules"
    actions = {action for table_actions in resource_type_actions().values() for action in table_actions}
    invalid = sorted(
        action
        for action in actions | set(CDK_DEPLOYMENT_ACTIONS)
        if action.split(":", 1)[1].lower() not in _service_actions(action.split(":", 1)[0])
    )
    assert not invalid, f"not IAM actions (fix them in tools/bootstrap_policy.py): {invalid}"


def test_iam_actions_take_an_account_scoped_resource() -> None:
    """The IAM statement is scoped to the account's ARNs: an action that needs `*` would be denied."""
    iam_actions = {
        action.split(":", 1)[1].lower()
        for table_actions in resource_type_actions().values()
        for action in table_actions
        if action.lower().startswith("iam:")
    }
    needs_star = sorted(a for a in iam_actions if not _service_actions("iam")[a]["resourceTypes"])
    assert not needs_star


def test_each_environment_policy_covers_its_templates_within_the_size_limit(
    synthesized: SynthesizedApp,
) -> None:
    for assembly in _assemblies(synthesized):
        manifest = json.loads((assembly / "manifest.json").read_text())
        account, region = next(
            a["environment"].removeprefix("aws://").split("/")
            for a in manifest["artifacts"].values()
            if a.get("type") == "aws:cloudformation:stack"
        )
        types = template_resource_types(assembly.glob("*.template.json"))
        documents = execution_policies(types, partition="aws", account=account, region=region)
        assert all(policy_size(doc) <= MANAGED_POLICY_MAX_CHARS for doc in documents), assembly.name
        needed = {a.lower() for t in types for a in resource_type_actions()[t]} | {
            a.lower() for a in CDK_DEPLOYMENT_ACTIONS
        }
        assert _allowed(documents) == needed, assembly.name
        for doc in documents:
            for statement in doc["Statement"]:
                if statement["Resource"] == "*" and "Condition" in statement:
                    assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": region}}
                elif statement["Resource"] != "*":
                    assert statement["Resource"] == f"arn:aws:iam::{account}:*"


def test_every_declared_type_together_splits_below_the_limit() -> None:
    documents = execution_policies(
        resource_type_actions(), partition="aws", account="123456789012", region="us-east-1"
    )
    assert len(documents) > 1
    assert all(policy_size(doc) <= MANAGED_POLICY_MAX_CHARS for doc in documents)
    assert _allowed(documents) == {a.lower() for a in required_actions(list(resource_type_actions()))}
    sids = [statement["Sid"] for doc in documents for statement in doc["Statement"]]
    assert len(sids) == len(set(sids))


def test_cli_writes_one_file_per_policy(tmp_path: Path, synthesized: SynthesizedApp) -> None:
    environment = _assemblies(synthesized)[0].name.removeprefix("assembly-")
    out = tmp_path / "policies"
    assert main(["--env", environment, "--cdk-out", str(synthesized.outdir), "--out", str(out)]) == 0
    written = sorted(out.glob(f"{environment}-cfn-exec-*.json"))
    assert written
    assert all(policy_size(json.loads(path.read_text())) <= MANAGED_POLICY_MAX_CHARS for path in written)
