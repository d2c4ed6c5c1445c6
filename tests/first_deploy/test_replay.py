"""The first-deploy plan replayed against empty accounts: it passes for the sample and a generated
configuration, and every step it has is one the replay misses when it is taken away."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from platform_cli.first_deploy_plan import (
    PRECONDITIONS,
    Approve,
    Bootstrap,
    BuildImage,
    Deploy,
    FirstDeployPlan,
    Prerequisite,
    Step,
    first_deploy_plan,
)
from platform_config import PlatformConfig, load_platform
from tests.conftest import ROOT, SynthesizedApp
from tests.first_deploy.conftest import Synthesize, synthesized_stacks
from tests.first_deploy.replay import CHECKS, Replay, Unmet
from tests.iam import generated_config

README = ROOT / "README.md"


@pytest.fixture(scope="session")
def generated_platform(tmp_path_factory: pytest.TempPathFactory) -> PlatformConfig:
    return load_platform(generated_config.write(tmp_path_factory.mktemp("generated") / "config"))


@pytest.fixture(scope="session")
def sample_plan(sample_platform: PlatformConfig) -> FirstDeployPlan:
    return first_deploy_plan(sample_platform)


@pytest.fixture(scope="session")
def generated_plan(generated_platform: PlatformConfig) -> FirstDeployPlan:
    return first_deploy_plan(generated_platform)


def replay(
    plan: FirstDeployPlan, synthesize: Synthesize, keep: Callable[[Step], bool] = lambda _: True
) -> Replay:
    replayed = Replay(plan, synthesize, steps=[step for step in plan.steps if keep(step)])
    replayed.run()
    return replayed


def paths(unmet: list[Unmet]) -> set[str]:
    return {problem.where for problem in unmet}


def test_every_declared_precondition_has_a_check() -> None:
    assert set(CHECKS) == {precondition.kind for precondition in PRECONDITIONS}


@pytest.mark.parametrize("name", ["sample", "generated"])
def test_the_plan_deploys_every_resource_from_empty_accounts(
    name: str, request: pytest.FixtureRequest, synthesize: Synthesize
) -> None:
    plan: FirstDeployPlan = request.getfixturevalue(f"{name}_plan")

    replayed = replay(plan, synthesize)

    assert replayed.unmet == []
    # The final phase holds every resource of the configuration: each precondition's types were checked.
    checked_types = {created.resource_type for created in replayed.world.created()}
    declared = {kind for p in PRECONDITIONS for kind in p.resource_types if kind != "*"}
    unused = {"AWS::SageMaker::UserProfile", "AWS::SageMaker::Domain"}
    final = plan.phases[max(plan.phases)].environments.values()
    if not any(env.kubernetes and env.kubernetes.pod_credentials == "pod_identity" for env in final):
        unused.add("AWS::EKS::PodIdentityAssociation")  # IRSA needs no association
    assert declared - unused <= checked_types
    # The README states these figures.
    deploys = sum(isinstance(step, Deploy) for step in plan.steps)
    figures = f"{len(plan.steps)} steps, {deploys} deploys and {replayed.resources_checked}"
    assert figures in " ".join(README.read_text().split()), (
        f"README.md: update the {name} figures to {figures}"
    )


def test_the_sample_deployed_as_it_is_fails_on_the_image_and_the_models(
    sample_plan: FirstDeployPlan, sample_platform: PlatformConfig, synthesized: SynthesizedApp
) -> None:
    """The failure this plan exists for: the shipped configuration in one deploy, into empty accounts."""
    as_is = FirstDeployPlan(
        steps=tuple(
            step
            for step in sample_plan.steps
            if isinstance(step, Prerequisite | Bootstrap) or (isinstance(step, Deploy) and step.phase == 1)
        ),
        phases={1: sample_platform},
    )

    unmet = Replay(as_is, lambda _platform, _environments: synthesized_stacks(synthesized.assembly)).run()

    image = next(
        f"dev/Images/StudioImage-{name}/Version"
        for name in sample_platform.environments["dev"].images.studio_images  # type: ignore[union-attr]
    )
    serving = [
        f"{env}/Serving/{part}"
        for env in ("staging", "prod")
        for part in ("PackageReader/Package-churn-model/Default", "Endpoint-churn-model/Model")
    ]
    assert paths(unmet) == {image, *serving}
    assert all(str(problem).startswith("step ") for problem in unmet)


def test_without_the_prerequisites_the_sso_domain_its_users_and_the_cluster_s_resources_fail(
    sample_plan: FirstDeployPlan, synthesize: Synthesize
) -> None:
    unmet = replay(sample_plan, synthesize, lambda step: not isinstance(step, Prerequisite)).unmet

    cluster: set[str] = set()
    for name, env in sample_plan.phases[max(sample_plan.phases)].environments.items():
        if env.kubernetes is None:
            continue
        # What names the cluster, and the kubectl handler that runs as the kubectl role.
        cluster |= {
            f"{name}/Kubernetes/Controller/Chart/Resource/Default",
            f"{name}/Kubernetes/ExistingCluster/KubectlProvider/Handler/Resource",
        }
        if env.kubernetes.pod_credentials == "pod_identity":
            cluster.add(f"{name}/Kubernetes/Controller/PodIdentity")
        for namespace in env.kubernetes.namespaces:
            cluster.add(f"{name}/Kubernetes/Namespace-{namespace.name}/Resource/Default")
            cluster |= {
                f"{name}/Kubernetes/Pipeline-{namespace.name}-{p}/Resource/Default"
                for p in namespace.pipelines
            }
    assert paths(unmet) == {
        "dev/Studio-platform-ops/Domain/Resource",
        "dev/Studio-platform-ops/User-platform-admin/Resource",
        *cluster,
    }
    assert any("IAM Identity Center is not enabled" in problem.need for problem in unmet)
    assert any("the EKS cluster" in problem.need for problem in unmet) == bool(cluster)


def test_without_the_image_build_the_studio_image_fails(
    sample_plan: FirstDeployPlan, synthesize: Synthesize
) -> None:
    unmet = replay(sample_plan, synthesize, lambda step: not isinstance(step, BuildImage)).unmet

    assert paths(unmet) == {"dev/Images/StudioImage-jupyterlab-data-science/Version"}
    assert "is not in ECR" in unmet[0].need


def test_without_the_approval_the_endpoints_fail(
    generated_plan: FirstDeployPlan, synthesize: Synthesize
) -> None:
    unmet = replay(generated_plan, synthesize, lambda step: not isinstance(step, Approve)).unmet

    environments = {problem.where.split("/", 1)[0] for problem in unmet}
    assert environments == {generated_config.QA, generated_config.PREPROD, generated_config.LIVE}
    assert {problem.need.rsplit(" is ", 1)[1] for problem in unmet} == {"PendingManualApproval, not Approved"}


def test_without_the_existing_boundary_the_roles_of_live_fail(
    generated_plan: FirstDeployPlan, synthesize: Synthesize
) -> None:
    def keep(step: Step) -> bool:
        return not (isinstance(step, Prerequisite) and step.kind == "boundary_policy")

    unmet = replay(generated_plan, synthesize, keep).unmet

    assert unmet
    assert {problem.where.split("/", 1)[0] for problem in unmet} == {generated_config.LIVE}
    assert {problem.need for problem in unmet} == {
        f"its permissions boundary {generated_config.EXISTING_BOUNDARY_ARN} does not exist"
    }


def test_deploying_before_bootstrapping_fails_every_stack(
    generated_plan: FirstDeployPlan, synthesize: Synthesize
) -> None:
    replayed = replay(generated_plan, synthesize, lambda step: not isinstance(step, Bootstrap))

    deployed = set(replayed.world.stacks)
    assert {problem.where for problem in replayed.unmet if "is not bootstrapped" in problem.need} == deployed


def test_a_qualifier_the_account_was_not_bootstrapped_with_fails(
    generated_plan: FirstDeployPlan, synthesize: Synthesize
) -> None:
    """preprod deploys through `cdk-mlpf2026-*` roles; an account bootstrapped with the default lacks them."""
    steps = [
        Bootstrap(step.environment, step.account, step.region, "hnb659fds")
        if isinstance(step, Bootstrap)
        else step
        for step in generated_plan.steps
    ]
    replayed = Replay(generated_plan, synthesize, steps=steps)

    unmet = replayed.run()

    assert {problem.where.split("/", 1)[0] for problem in unmet} == {generated_config.PREPROD}
    assert all("bootstrapped as hnb659fds" in problem.need for problem in unmet)


def test_endpoints_deployed_before_the_model_is_registered_fail(
    sample_plan: FirstDeployPlan, synthesize: Synthesize
) -> None:
    """The order matters: the last phase's deploys moved before the registration and approval."""
    steps = list(sample_plan.steps)
    last_phase = max(sample_plan.phases)
    deploys = [step for step in steps if isinstance(step, Deploy) and step.phase == last_phase]
    first_model_step = next(i for i, step in enumerate(steps) if type(step).__name__ == "RegisterModel")
    reordered = [step for step in steps if step not in deploys]
    reordered[first_model_step:first_model_step] = deploys

    unmet = Replay(sample_plan, synthesize, steps=reordered).run()

    assert {problem.where.split("/", 2)[1] for problem in unmet} == {"Serving"}
    assert all("is not registered, not Approved" in problem.need for problem in unmet)


def test_the_plan_and_the_replay_name_no_sample_value(generated_plan: FirstDeployPlan) -> None:
    """The generated configuration shares no name with the sample; its plan is built from its own."""
    text = repr(generated_plan.steps)
    for sample_value in ("110000000001", "churn", "jupyterlab-data-science", "dev", "staging"):
        assert sample_value not in text, sample_value
