"""The first-deploy plan as configuration decides it: phases, order, edits and commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_cli.first_deploy_plan import (
    Approve,
    Bootstrap,
    BuildImage,
    Deploy,
    EditConfig,
    Prerequisite,
    RegisterModel,
    first_deploy_plan,
    main,
)
from platform_config import PlatformConfig, load_platform
from tests.first_deploy.replay import CHECKS, Check, Created, DeployedStack, World
from tests.iam import generated_config
from tests.iam.templates import StackTemplate


def test_steps_run_prerequisites_bootstrap_then_phases_with_what_makes_their_artifacts(
    sample_platform: PlatformConfig,
) -> None:
    plan = first_deploy_plan(sample_platform)

    kinds = [type(step).__name__ for step in plan.steps]
    collapsed = [kind for index, kind in enumerate(kinds) if index == 0 or kinds[index - 1] != kind]
    assert collapsed == [
        "Prerequisite",
        "Bootstrap",
        "EditConfig",
        "Deploy",
        "BuildImage",
        "EditConfig",
        "Deploy",
        "RegisterModel",
        "Approve",
        "EditConfig",
        "Deploy",
    ]
    assert sorted(plan.phases) == [1, 2, 3]
    assert {step.environment for step in plan.steps if isinstance(step, Bootstrap)} == set(
        sample_platform.environments
    )


def test_an_environment_deploys_after_those_it_trusts(sample_platform: PlatformConfig) -> None:
    plan = first_deploy_plan(sample_platform)

    for phase in plan.phases:
        order = [step.environment for step in plan.steps if isinstance(step, Deploy) and step.phase == phase]
        for position, name in enumerate(order):
            for source in sample_platform.environments[name].trusted_environments:
                assert source not in order[position:], (phase, order)


def test_phase_one_has_no_artifact_and_the_last_phase_is_the_configuration_at_the_first_version(
    sample_platform: PlatformConfig,
) -> None:
    plan = first_deploy_plan(sample_platform)
    first, last = plan.phases[1], plan.phases[max(plan.phases)]

    for env in first.environments.values():
        assert not (env.images and env.images.pushed_studio_images)
        assert not (env.serving and env.serving.deployed_endpoints)
    for name, env in last.environments.items():
        configured = sample_platform.environments[name]
        if env.serving is None:
            assert env == configured
            continue
        assert configured.serving is not None
        assert [e.model_package.version for e in env.serving.endpoints] == [1] * len(env.serving.endpoints)
        assert env.serving.deployed_endpoints == env.serving.endpoints
        unpinned = [e.model_copy(update={"model_package": None}) for e in env.serving.endpoints]
        assert unpinned == [
            e.model_copy(update={"model_package": None}) for e in configured.serving.endpoints
        ]


def test_phase_one_edits_name_the_file_and_field_of_every_artifact(sample_platform: PlatformConfig) -> None:
    plan = first_deploy_plan(sample_platform, config_dir="conf")
    edits = next(step for step in plan.steps if isinstance(step, EditConfig) and step.phase == 1).edits

    expected = {
        (f"conf/{name}.yaml", f"images.repositories[{index}].studio_image.pushed", "false")
        for name, env in sample_platform.environments.items()
        for index, repository in enumerate(env.images.repositories if env.images else ())
        if repository.studio_image is not None
    } | {
        (f"conf/{name}.yaml", f"serving.endpoints[{index}].model_package.approved", "false")
        for name, env in sample_platform.environments.items()
        for index, _ in enumerate(env.serving.endpoints if env.serving else ())
    }
    assert {(edit.file, edit.field, edit.value) for edit in edits} == expected
    assert len(expected) >= 3


@pytest.fixture
def generated(tmp_path: Path) -> Callable[..., PlatformConfig]:
    """The generated configuration, with `change(environments)` applied to its parsed files first."""

    def load(change: Callable[[dict[str, dict[str, Any]]], None] = lambda _: None) -> PlatformConfig:
        environments = generated_config.environments()
        change(environments)
        folder = tmp_path / "config"
        folder.mkdir(exist_ok=True)
        for name, data in environments.items():
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        return load_platform(folder)

    return load


def test_a_digest_pinned_image_is_built_without_a_tag_and_its_digest_pinned_after(
    generated: Callable[..., PlatformConfig],
) -> None:
    digest = "sha256:" + "ab" * 32

    def by_digest(environments: dict[str, dict[str, Any]]) -> None:
        repository = environments[generated_config.BUILD]["images"]["repositories"][1]
        repository["studio_image"] = {"image_digest": digest}

    platform = generated(by_digest)
    plan = first_deploy_plan(platform)

    build = next(step for step in plan.steps if isinstance(step, BuildImage))
    assert build.reference == f"@{digest}"
    assert "--tag" not in " ".join(build.lines(platform))
    assert "pin the digest it prints as image_digest" in build.lines(platform)[-1]
    phase_two = next(step for step in plan.steps if isinstance(step, EditConfig) and step.phase == 2)
    assert [edit.field.rsplit(".", 1)[1] for edit in phase_two.edits] == ["image_digest", "pushed"]


def test_without_studio_images_or_endpoints_one_phase_deploys_everything(
    generated: Callable[..., PlatformConfig],
) -> None:
    def build_only(environments: dict[str, dict[str, Any]]) -> None:
        for name in (generated_config.QA, generated_config.PREPROD, generated_config.LIVE):
            del environments[name]
        build = environments[generated_config.BUILD]
        build["serves_environments"] = []
        build["images"]["repositories"] = [{"name": "fraud-trainer"}]
        for domain in build["studio"]["domains"]:
            domain.pop("custom_images", None)

    platform = generated(build_only)
    plan = first_deploy_plan(platform)

    assert list(plan.phases) == [1]
    assert not [step for step in plan.steps if isinstance(step, BuildImage | RegisterModel | Approve)]
    assert [step.environment for step in plan.steps if isinstance(step, Deploy)] == [generated_config.BUILD]


def test_the_bootstrap_command_carries_a_configured_qualifier(
    generated: Callable[..., PlatformConfig],
) -> None:
    platform = generated()
    plan = first_deploy_plan(platform)

    commands = {
        step.environment: " ".join(step.lines(platform)) for step in plan.steps if isinstance(step, Bootstrap)
    }
    assert commands[generated_config.PREPROD].endswith("--qualifier mlpf2026")
    assert "--qualifier" not in commands[generated_config.QA]


def test_a_group_no_pipeline_builds_is_registered_by_hand(generated: Callable[..., PlatformConfig]) -> None:
    platform = generated()
    plan = first_deploy_plan(platform)

    registrations = {step.group: step for step in plan.steps if isinstance(step, RegisterModel)}
    assert registrations["Image-Tagger"].pipeline is None
    assert "register a version by hand" in registrations["Image-Tagger"].lines(platform)[0]
    fraud = registrations["fraud-scorer"]
    assert fraud.pipeline == "fraud-training"
    assert "landing/fraud/" in fraud.lines(platform)[0]


def test_sso_domains_and_existing_boundaries_are_prerequisites(
    sample_platform: PlatformConfig, generated: Callable[..., PlatformConfig]
) -> None:
    sample = [step for step in first_deploy_plan(sample_platform).steps if isinstance(step, Prerequisite)]
    sso_users = {
        user.sso_user_name
        for env in sample_platform.environments.values()
        for domain in (env.studio.domains if env.studio else ())
        for user in domain.users
        if domain.auth_mode == "SSO"
    }
    assert {
        subject for step in sample if step.kind == "identity_center_user" for subject in step.subjects
    } == sso_users
    generated_steps = [
        step for step in first_deploy_plan(generated()).steps if isinstance(step, Prerequisite)
    ]
    clusters = {
        name: environment["kubernetes"]
        for name, environment in generated_config.environments().items()
        if "kubernetes" in environment
    }
    assert len(clusters) >= 2
    assert [(step.environment, step.subjects) for step in generated_steps] == [
        (generated_config.LIVE, (generated_config.EXISTING_BOUNDARY_ARN,)),
        # Each cluster and its kubectl role exist before that environment's Kubernetes stack (ADR 0017).
        *(
            step
            for name, kubernetes in clusters.items()
            for step in ((name, (kubernetes["cluster_name"],)), (name, (kubernetes["kubectl_role_arn"],)))
        ),
    ]


def test_the_command_prints_the_plan_or_the_configuration_error(
    capsys: pytest.CaptureFixture[str], config_copy: Callable[..., Path]
) -> None:
    assert main(["--config-dir", str(config_copy())]) == 0
    out = capsys.readouterr().out
    assert "from empty accounts: 3 environments, 3 phases" in out

    broken = config_copy(
        "staging", lambda data: data["serving"]["endpoints"][0]["model_package"].update(approved="no")
    )
    assert main(["--config-dir", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "staging.yaml" in err
    assert "serving.endpoints[0].model_package.approved" in err


# --- the replay's checks, one resource at a time ---------------------------------------------------


def _check(resource_type: str, properties: dict[str, Any], world: World, visible: list[Created]) -> Check:
    template = StackTemplate("qa", "Studio", "qa-Studio", "505050505050", "us-east-2", {"Resources": {}})
    stack = DeployedStack(template, "qa/Studio", frozenset(), 6, "arn:aws:iam::505050505050:role/x", {})
    return Check(stack, "Resource", properties, properties, world, visible)


def test_a_domain_needs_a_version_and_an_app_image_config_of_each_custom_image() -> None:
    settings = {
        "JupyterLabAppSettings": {"CustomImages": [{"ImageName": "nb", "AppImageConfigName": "nb-jl"}]}
    }
    properties = {"AuthMode": "IAM", "DefaultUserSettings": settings}
    version = Created(
        "505050505050", "us-east-2", "AWS::SageMaker::ImageVersion", "v", "v", {"ImageName": "nb"}
    )
    config = Created("505050505050", "us-east-2", "AWS::SageMaker::AppImageConfig", "nb-jl", "nb-jl", {})

    assert CHECKS["image"](_check("AWS::SageMaker::Domain", properties, World(), [version, config])) == []
    assert CHECKS["image"](_check("AWS::SageMaker::Domain", properties, World(), [config])) == [
        "custom image nb has no version yet"
    ]


def test_existing_network_ids_must_exist_and_created_ones_are_not_literals() -> None:
    properties = {
        "VpcId": "vpc-0123456789abcdef0",
        "SubnetIds": ["subnet-0123456789abcdef0"],
        "Name": "vpc-x",
    }

    assert CHECKS["network"](_check("AWS::EC2::SecurityGroup", properties, World(), [])) == [
        "names subnet-0123456789abcdef0, which does not exist",
        "names vpc-0123456789abcdef0, which does not exist",
    ]
    world = World(network_ids={"vpc-0123456789abcdef0", "subnet-0123456789abcdef0"})
    assert CHECKS["network"](_check("AWS::EC2::SecurityGroup", properties, world, [])) == []


def test_a_model_package_is_found_whatever_the_case_of_its_group() -> None:
    arn = "arn:aws:sagemaker:us-east-2:404040404040:model-package/Image-Tagger/1"
    world = World(packages={arn.lower(): "Approved"})

    assert (
        CHECKS["model"](
            _check("AWS::SageMaker::Model", {"Containers": [{"ModelPackageName": arn}]}, world, [])
        )
        == []
    )
    world.packages[arn.lower()] = "Rejected"
    assert CHECKS["model"](_check("Custom::ModelPackage", {"ModelPackageArn": arn}, world, [])) == [
        f"model package {arn} is Rejected, not Approved"
    ]
