"""IAM's size quotas, on the policies as AWS would store them (intrinsics resolved, no white space).

A managed policy takes 6,144 characters; a role's inline policies 10,240 together. The sample must fit with
room to grow, and so must an environment with many more pipelines: their code grants go to code policies of
CODE_OBJECTS_PER_POLICY objects each instead of growing one policy past the quota.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.pipeline_role import CODE_OBJECTS_PER_POLICY
from platform_config import load_platform
from platform_config.spec_checks import predicted_pipeline_policy_characters
from stacks.platform_stage import build_app
from tests.conftest import SynthesizedApp
from tests.iam.templates import ResolvedTemplates, StackTemplate, stack_templates

MANAGED_POLICY_LIMIT = 6_144
INLINE_POLICIES_PER_ROLE_LIMIT = 10_240
PIPELINES = 24
# How far above the synthesized policy the prediction may be: its room for more availability zones.
PREDICTION_SLACK = 400


def _size(document: Any, templates: ResolvedTemplates, stack: StackTemplate) -> int:
    return len(json.dumps(templates.resolve(document, stack), separators=(",", ":")))


def managed_policy_sizes(assembly: cdk.cx_api.CloudAssembly) -> dict[str, int]:
    templates = ResolvedTemplates(stack_templates(assembly))
    return {
        f"{stack.stack_name}/{logical_id}": _size(resource["Properties"]["PolicyDocument"], templates, stack)
        for stack in templates.stacks
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
    }


def inline_policy_sizes_per_role(assembly: cdk.cx_api.CloudAssembly) -> dict[str, int]:
    templates = ResolvedTemplates(stack_templates(assembly))
    sizes: dict[str, int] = defaultdict(int)
    for stack in templates.stacks:
        for logical_id, resource in stack.resources.items():
            properties = resource.get("Properties", {})
            if resource["Type"] == "AWS::IAM::Role":
                for policy in properties.get("Policies", []):
                    sizes[f"{stack.stack_name}/{logical_id}"] += _size(
                        policy["PolicyDocument"], templates, stack
                    )
            elif resource["Type"] == "AWS::IAM::Policy":
                for role in properties.get("Roles", []):
                    if isinstance(role, dict) and "Ref" in role:
                        size = _size(properties["PolicyDocument"], templates, stack)
                        sizes[f"{stack.stack_name}/{role['Ref']}"] += size
    return dict(sizes)


def test_every_policy_of_the_sample_fits_iams_quotas(synthesized: SynthesizedApp) -> None:
    managed = managed_policy_sizes(synthesized.assembly)
    assert managed
    largest = max(managed, key=managed.__getitem__)
    print(f"largest managed policy: {largest}, {managed[largest]} of {MANAGED_POLICY_LIMIT} characters")
    assert {name: size for name, size in managed.items() if size > MANAGED_POLICY_LIMIT} == {}
    inline = inline_policy_sizes_per_role(synthesized.assembly)
    assert {name: size for name, size in inline.items() if size > INLINE_POLICIES_PER_ROLE_LIMIT} == {}


@pytest.fixture(scope="module")
def many_pipelines(
    config_copy_module: Any, cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> cdk.cx_api.CloudAssembly:
    folder, environment = config_copy_module
    app, _ = build_app(
        load_platform(folder),
        environments=[environment],
        context=cdk_context,
        outdir=str(tmp_path_factory.mktemp("many-pipelines.out")),
    )
    return app.synth()


@pytest.fixture(scope="module")
def config_copy_module(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """The sample, with its first model-building pipeline copied until the environment has PIPELINES."""
    import shutil  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    from tests.conftest import CONFIG_DIR  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("many-pipelines") / "config"
    shutil.copytree(CONFIG_DIR, folder)
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        builds = [p for p in data.get("pipelines", []) if p.get("definition") == "model_build"]
        if not builds:
            continue
        while len(data["pipelines"]) < PIPELINES:
            data["pipelines"].append(
                {**builds[0], "name": f"{builds[0]['name'][:40]}-{len(data['pipelines'])}"}
            )
        for pipeline in data["pipelines"]:
            pipeline.pop("trigger", None)  # one data prefix per pipeline is not what is measured here
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return folder, path.stem
    raise AssertionError("the sample has no model_build pipeline")


def test_many_pipelines_spread_their_code_grants_and_every_policy_fits(
    many_pipelines: cdk.cx_api.CloudAssembly,
) -> None:
    sizes = managed_policy_sizes(many_pipelines)
    pipeline_stack = [name for name in sizes if "-Pipelines/" in name]
    code_policies = [name for name in pipeline_stack if "CodePolicy" in name]
    scripts = 2 * PIPELINES  # model_build ships two step scripts
    assert len(code_policies) == math.ceil(scripts / CODE_OBJECTS_PER_POLICY)
    assert {name: size for name, size in sizes.items() if size > MANAGED_POLICY_LIMIT} == {}


def _pipeline_role_policy(sizes: dict[str, int], environment: str) -> int:
    (size,) = [
        size for name, size in sizes.items() if name.startswith(f"{environment}-Pipelines/PipelineRolePolicy")
    ]
    return size


def test_the_predicted_pipeline_policy_bounds_the_synthesized_one(
    synthesized: SynthesizedApp, sample_platform: Any
) -> None:
    sizes = managed_policy_sizes(synthesized.assembly)
    for name, environment in sample_platform.environments.items():
        if environment.pipelines:
            actual = _pipeline_role_policy(sizes, name)
            predicted = predicted_pipeline_policy_characters(environment)
            assert actual <= predicted, (name, actual, predicted)
            if any(pipeline.model_package_group for pipeline in environment.pipelines):
                # Tight where it matters: with a registration statement, as the policy nears the quota.
                assert predicted <= actual + PREDICTION_SLACK, (name, actual, predicted)


@pytest.fixture(scope="module")
def long_groups(tmp_path_factory: pytest.TempPathFactory, cdk_context: dict[str, Any]) -> tuple[Any, int]:
    """The sample's model-building environment with three more groups of 63 mixed-case characters (the
    costliest names: registered under the name and its lower-case form), each with a pipeline."""
    import shutil  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    from tests.conftest import CONFIG_DIR  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("long-groups") / "config"
    shutil.copytree(CONFIG_DIR, folder)
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        builds = [p for p in data.get("pipelines", []) if p.get("definition") == "model_build"]
        if not builds:
            continue
        for index in range(3):
            group = f"Group{index}".ljust(63, "x")
            data["model_registry"]["groups"].append({"name": group, "description": "A long name."})
            data["pipelines"].append(
                {**builds[0], "name": f"long-group-{index}", "model_package_group": group}
            )
            data["pipelines"][-1].pop("trigger", None)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        platform = load_platform(folder)
        app, _ = build_app(
            platform,
            environments=[path.stem],
            context=cdk_context,
            outdir=str(tmp_path_factory.mktemp("lg.out")),
        )
        sizes = managed_policy_sizes(app.synth())
        return platform.environments[path.stem], _pipeline_role_policy(sizes, path.stem)
    raise AssertionError("the sample has no model_build pipeline")


def test_each_group_adds_what_the_prediction_counts(long_groups: tuple[Any, int]) -> None:
    environment, actual = long_groups
    predicted = predicted_pipeline_policy_characters(environment)
    assert actual <= predicted <= actual + PREDICTION_SLACK, (actual, predicted)
