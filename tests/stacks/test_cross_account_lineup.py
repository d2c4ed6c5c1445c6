"""Across all environments at once: every cross-account grant has its other side, and nothing more."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import Stack
from aws_cdk.assertions import Template

from platform_config import PlatformConfig, load_platform, naming
from stacks.platform_stage import PlatformStage, build_app
from tests.conftest import SynthesizedApp
from tests.stacks.lineup import lineup_problems, statements


def _templates(stages: Mapping[str, PlatformStage]) -> dict[str, list[Mapping[str, Any]]]:
    return {
        name: [
            Template.from_stack(stack).to_json() for stack in stage.node.children if isinstance(stack, Stack)
        ]
        for name, stage in stages.items()
    }


@pytest.fixture(scope="module")
def sample_templates(synthesized: SynthesizedApp) -> dict[str, list[Mapping[str, Any]]]:
    return _templates(synthesized.stages)


def test_the_sample_lines_up(
    sample_platform: PlatformConfig, sample_templates: dict[str, list[Mapping[str, Any]]]
) -> None:
    assert lineup_problems(sample_platform, sample_templates) == []


def test_every_served_environment_is_named_by_the_source_and_creates_what_it_names(
    sample_platform: PlatformConfig, sample_templates: dict[str, list[Mapping[str, Any]]]
) -> None:
    # The check above is only meaningful if the grants are really there: count them.
    dev_conditions = {
        arn
        for statement in statements({"dev": sample_templates["dev"]})
        for arn in statement.principal_arn_conditions
    }
    for served in ("staging", "prod"):
        environment = sample_platform.environments[served]
        serving_role = naming.role_arn(environment, naming.serving_execution_role_name(served))
        deployment_role = naming.role_arn(environment, naming.deployment_role_name(served))
        assert {serving_role, deployment_role} <= dev_conditions
    trust_of_prod = [
        statement
        for statement in statements({"prod": sample_templates["prod"]})
        if naming.role_arn(sample_platform.environments["dev"], naming.promotion_role_name("dev"))
        in statement.principal_arn_conditions
        and "sts:AssumeRole" in statement.body["Action"]
    ]
    assert len(trust_of_prod) == 1
    assert trust_of_prod[0].body["Condition"]["StringEquals"] == {
        "sts:ExternalId": sample_platform.environments["prod"].cross_account.external_id
    }


def _write(config_dir: Path, name: str, data: dict[str, Any]) -> None:
    (config_dir / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_fourth_environment_gets_its_grants_without_code_changes(
    config_copy: Callable[..., Path], cdk_context: dict[str, Any]
) -> None:
    config_dir = config_copy()
    qa = yaml.safe_load((config_dir / "staging.yaml").read_text())
    qa["account_id"] = "444444444444"
    qa["network"]["new_vpc"]["cidr"] = "10.40.0.0/16"
    _write(config_dir, "qa", qa)
    dev = yaml.safe_load((config_dir / "dev.yaml").read_text())
    dev["serves_environments"] = [*dev["serves_environments"], "qa"]
    _write(config_dir, "dev", dev)
    platform = load_platform(config_dir)
    _, stages = build_app(platform, context=cdk_context)
    templates = _templates(stages)
    assert lineup_problems(platform, templates) == []
    qa_serving_role = naming.role_arn(platform.environments["qa"], naming.serving_execution_role_name("qa"))
    dev_conditions = {a for s in statements({"dev": templates["dev"]}) for a in s.principal_arn_conditions}
    assert qa_serving_role in dev_conditions
    assert stages["qa"].serving_access is not None


def test_a_grant_whose_other_side_changed_is_reported(
    config_copy: Callable[..., Path], cdk_context: dict[str, Any]
) -> None:
    # dev still serves "staging", but staging's account was renamed "stage" and deployed from another commit:
    # dev's grants name roles that the serving side no longer creates.
    original = load_platform(config_copy())
    renamed_dir = config_copy()
    (renamed_dir / "staging.yaml").rename(renamed_dir / "stage.yaml")
    for name in ("dev",):
        data = yaml.safe_load((renamed_dir / f"{name}.yaml").read_text())
        data["serves_environments"] = ["stage" if e == "staging" else e for e in data["serves_environments"]]
        _write(renamed_dir, name, data)
    renamed = load_platform(renamed_dir)
    _, dev_side = build_app(original, environments=["dev", "prod"], context=cdk_context)
    _, serving_side = build_app(renamed, environments=["stage"], context=cdk_context)
    templates = {**_templates(dev_side), "staging": _templates(serving_side)["stage"]}
    problems = lineup_problems(original, templates)
    assert problems
    assert any(
        "staging-sagemaker-platform-serving" in problem and "staging's templates" in problem
        for problem in problems
    )
    assert all("prod" not in problem.split(":")[0] for problem in problems)


def test_a_grant_to_an_unconfigured_account_is_reported(sample_platform: PlatformConfig) -> None:
    rogue = {
        "Resources": {
            "Rogue": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                                "Action": "s3:GetObject",
                                "Resource": "*",
                            },
                            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
                        ]
                    }
                },
            },
            "Broad": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]
                    }
                },
            },
        }
    }
    problems = lineup_problems(sample_platform, {"dev": [rogue]})
    assert any("999999999999" in p and "no configured account" in p for p in problems)
    assert any("allows any principal" in p for p in problems)
    assert any("grants ['sagemaker:*'] on *" in p for p in problems)


ROLE_PATHS = {"dev": "/sagemaker-platform/", "staging": "/serving/staging/", "prod": "/serving/"}


def _with_role_paths(config_copy: Callable[..., Path], paths: Mapping[str, str]) -> Path:
    config_dir = config_copy()
    for name, path in paths.items():
        data = yaml.safe_load((config_dir / f"{name}.yaml").read_text())
        data["iam"] = {"role_path": path}
        _write(config_dir, name, data)
    return config_dir


def test_roles_on_a_path_line_up(config_copy: Callable[..., Path], cdk_context: dict[str, Any]) -> None:
    platform = load_platform(_with_role_paths(config_copy, ROLE_PATHS))
    _, stages = build_app(platform, context=cdk_context)
    templates = _templates(stages)
    assert lineup_problems(platform, templates) == []
    dev_conditions = {a for s in statements({"dev": templates["dev"]}) for a in s.principal_arn_conditions}
    staging = platform.environments["staging"]
    # The served roles are named on their path; CloudFormation's role, which `cdk bootstrap` created, is not.
    assert (
        "arn:aws:iam::220000000002:role/serving/staging/staging-sagemaker-platform-serving" in dev_conditions
    )
    assert naming.cloudformation_execution_role_arn(staging) in dev_conditions
    assert "arn:aws:iam::220000000002:role/cdk-" in naming.cloudformation_execution_role_arn(staging)
    prod_trust = {a for s in statements({"prod": templates["prod"]}) for a in s.principal_arn_conditions}
    assert "arn:aws:iam::110000000001:role/sagemaker-platform/dev-sagemaker-platform-promotion" in prod_trust


def test_a_path_only_one_side_knows_is_reported(
    config_copy: Callable[..., Path], cdk_context: dict[str, Any]
) -> None:
    # staging moved its roles to a path and was deployed; dev was synthesized from a config without it.
    original = load_platform(config_copy())
    moved = load_platform(_with_role_paths(config_copy, {"staging": "/serving/"}))
    _, dev_side = build_app(original, environments=["dev"], context=cdk_context)
    _, serving_side = build_app(moved, environments=["staging"], context=cdk_context)
    problems = lineup_problems(original, {**_templates(dev_side), **_templates(serving_side)})
    assert any(
        "role/staging-sagemaker-platform-serving" in problem and "staging's templates" in problem
        for problem in problems
    )
