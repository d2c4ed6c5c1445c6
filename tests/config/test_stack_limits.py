"""CloudFormation's per-stack resource quota, predicted from configuration before anything is built.

The prediction's coefficients are measured here on synthesized stacks: a Studio stack gets one resource per
user profile and per space, and at most STUDIO_STACK_OTHER_RESOURCES besides; the Serving stack at most
SERVING_RESOURCES_PER_ENDPOINT per deployed endpoint and SERVING_STACK_OTHER_RESOURCES besides.
"""

from __future__ import annotations

import copy
from typing import Any

from aws_cdk.assertions import Template

from platform_config.spec_checks import (
    MAX_OUTPUTS_PER_STACK,
    MAX_RESOURCES_PER_STACK,
    PLATFORM_OUTPUTS_PER_STACK,
    SERVING_RESOURCES_PER_ENDPOINT,
    SERVING_STACK_OTHER_RESOURCES,
    STUDIO_RESOURCES_PER_MEMBER,
    STUDIO_STACK_OTHER_RESOURCES,
)
from tests.config.conftest import EditConfig, check_problem, only_problem
from tests.conftest import SynthesizedApp, build_platform

Data = dict[str, Any]
EXTRA = 5
EXTRA_ENDPOINTS = 2


def _studio_environment(sample_platform: Any) -> str:
    return str(next(name for name, environment in sample_platform.environments.items() if environment.studio))


def _resource_count(template: Template) -> int:
    return len(template.to_json()["Resources"])


def _output_count(template: Template) -> int:
    return len(template.to_json().get("Outputs", {}))


def test_no_sample_stack_has_more_outputs_than_the_bound(synthesized: SynthesizedApp) -> None:
    counts = {
        stack.stack_name: len(stack.template.get("Outputs", {}))
        for stack in synthesized.assembly.stacks_recursively
    }
    assert counts
    assert PLATFORM_OUTPUTS_PER_STACK < MAX_OUTPUTS_PER_STACK
    assert {name: count for name, count in counts.items() if count > PLATFORM_OUTPUTS_PER_STACK} == {}


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
    # Outputs do not grow with members.
    grown_outputs = _output_count(Template.from_stack(stages[name].studio[domain.name]))
    assert grown_outputs == _output_count(synthesized.template(f"{name}/Studio-{domain.name}"))


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


def _serving_environments(sample_platform: Any) -> list[str]:
    return [name for name, environment in sample_platform.environments.items() if environment.serving]


def test_the_rest_of_every_sample_serving_stack_is_within_the_bound(
    synthesized: SynthesizedApp, sample_platform: Any
) -> None:
    names = _serving_environments(sample_platform)
    assert names
    for name in names:
        deployed = len(sample_platform.environments[name].serving.deployed_endpoints)
        count = _resource_count(synthesized.template(f"{name}/Serving"))
        assert 0 < count - SERVING_RESOURCES_PER_ENDPOINT * deployed <= SERVING_STACK_OTHER_RESOURCES, name


def test_an_endpoint_with_every_option_adds_the_resources_the_prediction_counts(
    synthesized: SynthesizedApp, sample_platform: Any, config_copy: EditConfig, cdk_context: dict[str, Any]
) -> None:
    name = _serving_environments(sample_platform)[0]

    def more_endpoints(data: Data) -> None:
        first = data["serving"]["endpoints"][0]
        for index in range(EXTRA_ENDPOINTS):
            endpoint = copy.deepcopy(first)
            endpoint["name"] = f"extra-endpoint-{index}"
            endpoint.setdefault("alarms", {})["no_invocations_minutes"] = 60  # every alarm on
            data["serving"]["endpoints"].append(endpoint)

    first = sample_platform.environments[name].serving.endpoints[0]
    assert first.instances and first.autoscaling and first.monitoring, "the copy must have every option"
    sources = sorted({first.model_package.source, name})
    stages = build_platform(config_copy(name, more_endpoints), cdk_context, environments=sources)
    serving = stages[name].serving
    assert serving is not None
    grown = _resource_count(Template.from_stack(serving))
    before = _resource_count(synthesized.template(f"{name}/Serving"))
    assert grown - before == EXTRA_ENDPOINTS * SERVING_RESOURCES_PER_ENDPOINT
    # Outputs do not grow with endpoints.
    assert _output_count(Template.from_stack(serving)) == _output_count(
        synthesized.template(f"{name}/Serving")
    )


def test_too_many_endpoints_for_one_stack_is_refused(config_copy: EditConfig, sample_platform: Any) -> None:
    name = _serving_environments(sample_platform)[0]
    room = (MAX_RESOURCES_PER_STACK - SERVING_STACK_OTHER_RESOURCES) // SERVING_RESOURCES_PER_ENDPOINT

    def crowd(data: Data) -> None:
        endpoints = data["serving"]["endpoints"]
        first = endpoints[0]
        while len(endpoints) <= room:
            endpoints.append({**copy.deepcopy(first), "name": f"crowd-{len(endpoints)}"})

    config_dir = config_copy(name, crowd)
    check_problem(
        only_problem(config_dir),
        config_dir,
        f"{name}.yaml",
        "serving.endpoints",
        f"{room + 1} deployed endpoints",
        f"serve at most {room} from one environment",
    )
