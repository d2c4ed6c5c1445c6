"""IAM's size quotas, on the policies as AWS would store them (intrinsics resolved, no white space).

A managed policy takes 6,144 characters; a role's inline policies 10,240 together. The sample must fit with
room to grow, and so must an environment with many more pipelines: their code grants go to code policies of
CODE_OBJECTS_PER_POLICY objects each instead of growing one policy past the quota.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from constructs_lib.pipelines.pipeline_role import CODE_OBJECTS_PER_POLICY
from platform_config import load_platform
from platform_config.aws_constraints import instance_types
from platform_config.spec_checks import (
    predicted_persona_policy_characters,
    predicted_pipeline_policy_characters,
)
from tests.conftest import CONFIG_DIR, SynthesizedApp, synthesize_cached
from tests.iam.templates import ResolvedTemplates, StackTemplate, stack_templates

MANAGED_POLICY_LIMIT = 6_144
INLINE_POLICIES_PER_ROLE_LIMIT = 10_240
PIPELINES = 24
# Job instance types added to a persona: as many as fit under the quota by the prediction.
MORE_INSTANCE_TYPES = 50
# The persona policies that name its job instance types.
PERSONA_JOB_POLICIES = ("Jobs", "NotebookJobs", "Endpoints")
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


def _synthesized_variant(
    tmp_path_factory: pytest.TempPathFactory,
    cdk_context: dict[str, Any],
    change: Callable[[dict[str, Any], dict[str, Any]], None],
) -> tuple[Any, cdk.cx_api.CloudAssembly]:
    """The sample's first environment with a model-building pipeline, changed by `change(data, build)`
    (`build` a copy of that pipeline, without its trigger), synthesized alone; and its configuration."""
    folder = tmp_path_factory.mktemp("variant") / "config"
    shutil.copytree(CONFIG_DIR, folder)
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        builds = [p for p in data.get("pipelines", []) if p.get("definition") == "model_build"]
        if builds:
            change(data, {key: value for key, value in builds[0].items() if key != "trigger"})
            path.write_text(yaml.safe_dump(data, sort_keys=False))
            platform = load_platform(folder)
            outdir = tmp_path_factory.mktemp("variant.out")
            assembly = synthesize_cached(
                platform, environments=[path.stem], context=cdk_context, outdir=outdir
            )
            return platform.environments[path.stem], assembly
    raise AssertionError("the sample has no model_build pipeline")


@pytest.fixture(scope="module")
def many_pipelines(
    tmp_path_factory: pytest.TempPathFactory, cdk_context: dict[str, Any]
) -> cdk.cx_api.CloudAssembly:
    """PIPELINES model-building pipelines in one environment."""

    def more(data: dict[str, Any], build: dict[str, Any]) -> None:
        for pipeline in data["pipelines"]:
            pipeline.pop("trigger", None)  # one data prefix per pipeline is not what is measured here
        while len(data["pipelines"]) < PIPELINES:
            data["pipelines"].append({**build, "name": f"{build['name'][:40]}-{len(data['pipelines'])}"})

    return _synthesized_variant(tmp_path_factory, cdk_context, more)[1]


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
    """Three more groups of 63 mixed-case characters (the costliest names: registered under the name and
    its lower-case form), each with a pipeline."""

    def longer(data: dict[str, Any], build: dict[str, Any]) -> None:
        for index in range(3):
            group = f"Group{index}".ljust(63, "x")
            data["model_registry"]["groups"].append({"name": group, "description": "A long name."})
            data["pipelines"].append({**build, "name": f"long-group-{index}", "model_package_group": group})

    environment, assembly = _synthesized_variant(tmp_path_factory, cdk_context, longer)
    return environment, _pipeline_role_policy(managed_policy_sizes(assembly), environment.name)


def test_each_group_adds_what_the_prediction_counts(long_groups: tuple[Any, int]) -> None:
    environment, actual = long_groups
    predicted = predicted_pipeline_policy_characters(environment)
    assert actual <= predicted <= actual + PREDICTION_SLACK, (actual, predicted)


def _persona_job_policy(sizes: dict[str, int], stack: str, persona: str) -> int:
    """The largest of the persona's job policies in a domain's stack; 0 where it has none there."""
    prefix = f"{stack}/Persona{persona.replace('-', '')}"
    return max(
        (
            size
            for name, size in sizes.items()
            if any(name.startswith(f"{prefix}{policy}Policy") for policy in PERSONA_JOB_POLICIES)
        ),
        default=0,
    )


def _check_persona_predictions(environment: Any, sizes: dict[str, int], personas: list[str]) -> int:
    """Predicted against synthesized for the named personas in every domain; how many were compared."""
    assert environment.studio is not None
    zones = len(environment.network.availability_zones)
    compared = 0
    for domain in environment.studio.domains:
        for name in personas:
            actual = _persona_job_policy(sizes, f"{environment.name}-Studio-{domain.name}", name)
            if actual == 0:
                continue  # no role in this domain, or no job capability
            predicted = predicted_persona_policy_characters(environment.studio.personas[name], zones)
            assert actual <= predicted <= actual + PREDICTION_SLACK, (domain.name, name, actual, predicted)
            compared += 1
    return compared


def test_the_predicted_persona_policies_bound_the_synthesized_ones(
    synthesized: SynthesizedApp, sample_platform: Any
) -> None:
    sizes = managed_policy_sizes(synthesized.assembly)
    compared = sum(
        _check_persona_predictions(environment, sizes, list(environment.studio.personas))
        for environment in sample_platform.environments.values()
        if environment.studio is not None
    )
    assert compared


@pytest.fixture(scope="module")
def many_instance_types(
    tmp_path_factory: pytest.TempPathFactory, cdk_context: dict[str, Any]
) -> tuple[Any, str, dict[str, int]]:
    """The persona with the most job policies given MORE_INSTANCE_TYPES more job instance types."""
    chosen: list[str] = []

    def more(data: dict[str, Any], build: dict[str, Any]) -> None:
        personas = data["studio"]["personas"]
        name = max(
            personas, key=lambda n: len({"jobs", "notebook_jobs"} & set(personas[n].get("capabilities", [])))
        )
        offered = sorted(instance_types("TrainingInstanceType") & instance_types("ProcessingInstanceType"))
        types = personas[name]["job_instance_types"]
        types.extend([t for t in offered if t not in types][:MORE_INSTANCE_TYPES])
        chosen.append(name)

    environment, assembly = _synthesized_variant(tmp_path_factory, cdk_context, more)
    return environment, chosen[0], managed_policy_sizes(assembly)


def test_each_instance_type_adds_what_the_persona_prediction_counts(
    many_instance_types: tuple[Any, str, dict[str, int]],
) -> None:
    environment, persona, sizes = many_instance_types
    assert len(environment.studio.personas[persona].job_instance_types) > MORE_INSTANCE_TYPES
    assert _check_persona_predictions(environment, sizes, [persona])
    assert {name: size for name, size in sizes.items() if size > MANAGED_POLICY_LIMIT} == {}
