"""CloudFormation's per-stack resource quota, predicted from configuration before anything is built.

The prediction's coefficients are measured here on synthesized stacks: a Studio stack gets one resource per
user profile and per space, and at most STUDIO_STACK_OTHER_RESOURCES besides.
"""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from platform_config.spec_checks import (
    MAX_RESOURCES_PER_STACK,
    STUDIO_RESOURCES_PER_MEMBER,
    STUDIO_STACK_OTHER_RESOURCES,
)
from tests.config.conftest import EditConfig, check_problem, only_problem
from tests.conftest import SynthesizedApp, build_platform

Data = dict[str, Any]
EXTRA = 5


def _studio_environment(sample_platform: Any) -> str:
    return str(next(name for name, environment in sample_platform.environments.items() if environment.studio))


def _resource_count(template: Template) -> int:
    return len(template.to_json()["Resources"])


def test_the_rest_of_every_sample_studio_stack_is_within_the_bound(
    synthesized: SynthesizedApp, sample_platform: Any
) -> None:
    name = _studio_environment(sample_platform)
    studio = sample_platform.environments[name].studio
    for domain in studio.domains:
        count = _resource_count(synthesized.template(f"{name}/Studio-{domain.name}"))
        members = len(domain.users) + len(domain.spaces)
        assert 0 < count - STUDIO_RESOURCES_PER_MEMBER * members <= STUDIO_STACK_OTHER_RESOURCES, domain.name


def test_each_user_and_space_adds_the_resources_the_prediction_counts(
    synthesized: SynthesizedApp, sample_platform: Any, config_copy: EditConfig, cdk_context: dict[str, Any]
) -> None:
    name = _studio_environment(sample_platform)
    domain = sample_platform.environments[name].studio.domains[0]
    persona = domain.default_persona

    def more_members(data: Data) -> None:
        target = data["studio"]["domains"][0]
        users = target.setdefault("users", [])
        for index in range(EXTRA):
            users.append({"name": f"extra-user-{index}", "persona": persona})
            target.setdefault("spaces", []).append(
                {"name": f"extra-space-{index}", "sharing": "private", "owner": f"extra-user-{index}"}
            )

    stages = build_platform(config_copy(name, more_members), cdk_context, environments=[name])
    grown = _resource_count(Template.from_stack(stages[name].studio[domain.name]))
    before = _resource_count(synthesized.template(f"{name}/Studio-{domain.name}"))
    assert grown - before == 2 * EXTRA * STUDIO_RESOURCES_PER_MEMBER


def test_too_many_users_for_one_stack_is_refused_with_the_way_out(
    config_copy: EditConfig, sample_platform: Any
) -> None:
    name = _studio_environment(sample_platform)
    room = (MAX_RESOURCES_PER_STACK - STUDIO_STACK_OTHER_RESOURCES) // STUDIO_RESOURCES_PER_MEMBER

    counts: list[int] = []

    def crowd(data: Data) -> None:
        """The domain as it is, plus users until it holds one member more than a stack has room for."""
        target = data["studio"]["domains"][0]
        users = target.setdefault("users", [])
        spaces = len(target.get("spaces", []))
        template = {key: value for key, value in users[0].items() if key != "sso_user_name"}
        while len(users) + spaces <= room:
            users.append({**template, "name": f"crowd-{len(users)}"})
        counts.extend([len(users), spaces])

    config_dir = config_copy(name, crowd)
    check_problem(
        only_problem(config_dir),
        config_dir,
        f"{name}.yaml",
        "studio.domains[0].users",
        f"{counts[0]} users and {counts[1]} spaces",
        f"CloudFormation takes {MAX_RESOURCES_PER_STACK} per stack",
        "split the users across domains",
    )
