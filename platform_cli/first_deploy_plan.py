"""The first deployment from empty accounts, in phases.

Some resources need something CloudFormation does not create and the platform cannot create in the same
deploy: a Studio image version reads its image from ECR, an endpoint's model reads an approved model package
version, an SSO domain needs IAM Identity Center. `PRECONDITIONS` declares them per resource type.
`first_deploy_plan` orders the work for a configuration from empty accounts: prerequisites, bootstrap, a
first phase with every such artifact marked as not there yet (`studio_image.pushed: false`,
`model_package.approved: false`), the steps that make the artifacts, and the phases that add what needed
them. Each phase's configuration is part of the plan, so a test can synthesize and replay it.

`python -m platform_cli.first_deploy_plan [--config-dir config]` (`make first-deploy-plan`) prints it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from platform_config import ConfigError, EnvironmentConfig, PlatformConfig, load_platform, naming
from platform_config.models import CrossAccountConfig, PipelineConfig

ArtifactKind = Literal[
    "bootstrap",
    "network",
    "identity_center",
    "identity_center_user",
    "boundary_policy",
    "eks_cluster",
    "kubectl_role",
    "image",
    "model",
]


@dataclass(frozen=True)
class Precondition:
    """What must exist before CloudFormation can create `resource_types`, which no platform stack creates."""

    kind: ArtifactKind
    resource_types: tuple[str, ...]  # "*": every stack
    needs: str
    made_by: str


# One row per artifact kind; the first-deploy replay test checks each against the synthesized templates.
PRECONDITIONS: tuple[Precondition, ...] = (
    Precondition(
        "bootstrap",
        ("*",),
        "the account and region bootstrapped with the CDK bootstrap version the stack requires",
        "`cdk bootstrap` with the execution policies of `make bootstrap-policy`",
    ),
    Precondition(
        "network",
        ("*",),
        "the existing VPC and subnets that network.existing_vpc names",
        "your network team",
    ),
    Precondition(
        "identity_center",
        ("AWS::SageMaker::Domain",),
        "IAM Identity Center enabled for the account, in the domain's region (AuthMode SSO)",
        "your organization's administrators",
    ),
    Precondition(
        "identity_center_user",
        ("AWS::SageMaker::UserProfile",),
        "the IAM Identity Center user named by SingleSignOnUserValue",
        "your organization's administrators",
    ),
    Precondition(
        "boundary_policy",
        ("AWS::IAM::Role",),
        "the managed policy named as PermissionsBoundary, when the platform does not create it",
        "your account's administrators (iam.permissions_boundary.managed_policy_arn)",
    ),
    Precondition(
        "eks_cluster",
        (
            "AWS::EKS::PodIdentityAssociation",
            "Custom::AWSCDK-EKS-HelmChart",
            "Custom::AWSCDK-EKS-KubernetesResource",
        ),
        "the EKS cluster named by ClusterName, with the eks-pod-identity-agent add-on (Pod Identity) or its "
        "IAM OIDC provider (IRSA)",
        "your cluster's administrators (kubernetes.cluster_name, kubernetes.oidc_provider_arn)",
    ),
    Precondition(
        "kubectl_role",
        ("AWS::Lambda::Function",),
        "the execution role of a function when no platform stack creates it: the kubectl role (trusts "
        "lambda.amazonaws.com, a cluster access entry as administrator, its Lambda logs, "
        "eks:DescribeCluster and a public ECR token)",
        "your cluster's administrators (kubernetes.kubectl_role_arn)",
    ),
    Precondition(
        "image",
        ("AWS::SageMaker::ImageVersion", "AWS::SageMaker::Domain"),
        "the BaseImage's tag or digest pushed to its ECR repository (SageMaker reads it); a domain's custom "
        "images need their version",
        "`mlplatform build-image`, after the Images and ImageBuild stacks exist",
    ),
    Precondition(
        "model",
        ("AWS::SageMaker::Model", "Custom::ModelPackage"),
        "the pinned model package version registered in the source registry and Approved",
        "a pipeline run (or a registration by hand) in the source environment, and an approval",
    ),
)


@dataclass(frozen=True)
class ConfigEdit:
    """A change to one field of one configuration file."""

    file: str
    field: str
    value: str


@dataclass(frozen=True)
class Prerequisite:
    environment: str
    kind: ArtifactKind
    subjects: tuple[str, ...]  # what must exist: an account and region, user names, a policy ARN, ids
    text: str

    heading = "Before you start (not created by the platform)"

    def lines(self, platform: PlatformConfig) -> list[str]:
        return [f"{self.environment}: {self.text}"]


@dataclass(frozen=True)
class Bootstrap:
    environment: str
    account: str
    region: str
    qualifier: str

    heading = 'Bootstrap each account with its own credentials (README, "Bootstrapping accounts")'

    def lines(self, platform: PlatformConfig) -> list[str]:
        qualifier = "" if self.qualifier == DEFAULT_BOOTSTRAP_QUALIFIER else f" --qualifier {self.qualifier}"
        return [
            f"{self.environment}: make bootstrap-policy ENV={self.environment}, create the policies, then",
            f"npx cdk bootstrap aws://{self.account}/{self.region} "
            f"--cloudformation-execution-policies <their ARNs>{qualifier}",
        ]


@dataclass(frozen=True)
class EditConfig:
    """Edits to make before the deploys of `phase`, which adds `adds`."""

    phase: int
    adds: str
    edits: tuple[ConfigEdit, ...]

    @property
    def heading(self) -> str:
        return f"Phase {self.phase}: {self.adds}"

    def lines(self, platform: PlatformConfig) -> list[str]:
        if not self.edits:
            return ["no configuration change: it already says so"]
        return [
            "edit the configuration:",
            *(f"{edit.file}: {edit.field}: {edit.value}" for edit in self.edits),
        ]


@dataclass(frozen=True)
class Deploy:
    phase: int
    environment: str
    adds: str

    @property
    def heading(self) -> str:
        return f"Phase {self.phase}: {self.adds}"

    def lines(self, platform: PlatformConfig) -> list[str]:
        return [f"{self.environment}: make deploy ENV={self.environment}"]


@dataclass(frozen=True)
class BuildImage:
    environment: str
    repository: str
    reference: str  # `:tag` or `@sha256:...`

    heading = "Build and push the Studio images"

    def lines(self, platform: PlatformConfig) -> list[str]:
        tag = f" --tag {self.reference[1:]}" if self.reference.startswith(":") else ""
        return [
            f"{self.environment}: mlplatform build-image <folder with its Dockerfile> "
            f"--env {self.environment} --repository {self.repository}{tag}",
            *([] if tag else ["then pin the digest it prints as image_digest"]),
        ]


@dataclass(frozen=True)
class RegisterModel:
    """The source environment registers the group's first version (version 1 of a new group)."""

    environment: str
    group: str
    version: int
    pipeline: str | None  # the model_build pipeline registering into the group, if one does
    data_prefix: str | None  # where a new object starts that pipeline, if it has a data trigger

    heading = "Register and approve the models the endpoints serve"

    def lines(self, platform: PlatformConfig) -> list[str]:
        source = platform.environments[self.environment]
        if self.pipeline is None:
            how = "register a version by hand (a Studio user with the model_registry capability)"
        elif self.data_prefix is not None:
            how = (
                f"upload training data under s3://{naming.data_bucket_name(source)}/{self.data_prefix}, "
                f"which starts pipeline {self.pipeline}"
            )
        else:
            how = f"start pipeline {self.pipeline}"
        return [f"{self.environment}: {how}; it registers {self.group} version {self.version}"]


@dataclass(frozen=True)
class Approve:
    environment: str
    group: str
    version: int

    heading = RegisterModel.heading

    def lines(self, platform: PlatformConfig) -> list[str]:
        arn = naming.model_package_arn(platform.environments[self.environment], self.group, self.version)
        return [
            f"{self.environment}: approve {self.group} version {self.version} (Studio's model registry, or",
            f"aws sagemaker update-model-package --model-package-arn {arn} --model-approval-status Approved)",
        ]


Step = Prerequisite | Bootstrap | Deploy | BuildImage | RegisterModel | Approve | EditConfig

DEFAULT_BOOTSTRAP_QUALIFIER = CrossAccountConfig().bootstrap_qualifier

# What each phase adds.
FOUNDATION = "everything that needs no image or model yet"
STUDIO_IMAGES = "the Studio images"
ENDPOINTS = "the endpoints"

# Versions of a model package group count from 1: the first registration into a new group is version 1.
FIRST_MODEL_VERSION = 1


@dataclass(frozen=True)
class FirstDeployPlan:
    """The ordered steps, and the configuration each phase deploys (`phases[n]`)."""

    steps: tuple[Step, ...]
    phases: Mapping[int, PlatformConfig]


def first_deploy_plan(platform: PlatformConfig, config_dir: str = "config") -> FirstDeployPlan:
    """The steps from empty accounts to `platform` as configured (endpoints pinned to the first version)."""
    environments = _deploy_order(platform)
    steps: list[Step] = [*_prerequisites(platform), *(_bootstrap(env) for env in environments)]

    first = _with_artifacts(platform, pushed=False, approved=False)
    phases = {1: first}
    steps.append(
        EditConfig(
            1,
            FOUNDATION,
            tuple(_phase_one_edits(environments, config_dir)),
        )
    )
    steps.extend(Deploy(1, env.name, FOUNDATION) for env in environments)

    image_builders = [env for env in environments if env.images is not None and env.images.studio_images]
    if image_builders:
        for env in image_builders:
            assert env.images is not None
            for name, repository in env.images.studio_images.items():
                assert repository.studio_image is not None
                steps.append(BuildImage(env.name, name, repository.studio_image.reference))
        phase = len(phases) + 1
        phases[phase] = _with_artifacts(platform, pushed=True, approved=False)
        steps.append(EditConfig(phase, STUDIO_IMAGES, tuple(_image_edits(image_builders, config_dir))))
        steps.extend(Deploy(phase, env.name, STUDIO_IMAGES) for env in image_builders)

    servers = [env for env in environments if env.serving is not None]
    if servers:
        for source, group in _pinned_groups(servers):
            pipeline = _pipeline_for(platform.environments[source], group)
            steps.append(
                RegisterModel(
                    source,
                    group,
                    FIRST_MODEL_VERSION,
                    pipeline.name if pipeline else None,
                    pipeline.trigger.data_prefix if pipeline else None,
                )
            )
            steps.append(Approve(source, group, FIRST_MODEL_VERSION))
        phase = len(phases) + 1
        phases[phase] = _with_artifacts(platform, pushed=True, approved=True, version=FIRST_MODEL_VERSION)
        steps.append(EditConfig(phase, ENDPOINTS, tuple(_endpoint_edits(servers, config_dir))))
        steps.extend(Deploy(phase, env.name, ENDPOINTS) for env in servers)
    return FirstDeployPlan(steps=tuple(steps), phases=phases)


def _deploy_order(platform: PlatformConfig) -> list[EnvironmentConfig]:
    """Sources before the environments that trust them; otherwise in the order sources serve them."""
    served_order = {
        name: index
        for index, name in enumerate(
            dict.fromkeys(name for env in platform.environments.values() for name in env.serves_environments)
        )
    }
    remaining = dict(platform.environments)
    ordered: list[EnvironmentConfig] = []
    while remaining:
        ready = [
            env
            for env in remaining.values()
            if not any(source in remaining for source in env.trusted_environments)
        ]
        if not ready:  # a cycle of trust: no order helps, keep the configuration's
            ready = list(remaining.values())
        ready.sort(key=lambda env: (served_order.get(env.name, -1), env.name))
        ordered.append(ready[0])
        del remaining[ready[0].name]
    return ordered


def _prerequisites(platform: PlatformConfig) -> Iterable[Prerequisite]:
    for env in platform.environments.values():
        where = f"account {env.account_id}, {env.region}"
        boundary = env.iam.permissions_boundary
        if boundary is not None and boundary.managed_policy_arn is not None:
            yield Prerequisite(
                env.name,
                "boundary_policy",
                (boundary.managed_policy_arn,),
                f"the permissions boundary {boundary.managed_policy_arn} exists ({where})",
            )
        if env.network.existing_vpc is not None:
            yield Prerequisite(
                env.name,
                "network",
                (
                    env.network.existing_vpc.vpc_id,
                    *(subnet.subnet_id for subnet in env.network.existing_vpc.subnets),
                    *(subnet.route_table_id for subnet in env.network.existing_vpc.subnets),
                ),
                f"the VPC {env.network.existing_vpc.vpc_id} and its configured subnets exist ({where})",
            )
        kubernetes = env.kubernetes
        if kubernetes is not None:
            access = (
                "the eks-pod-identity-agent add-on"
                if kubernetes.pod_credentials == "pod_identity"
                else f"the IAM OIDC provider {kubernetes.oidc_provider_arn}"
            )
            yield Prerequisite(
                env.name,
                "eks_cluster",
                (kubernetes.cluster_name,),
                f"the EKS cluster {kubernetes.cluster_name} exists ({where}), with {access}",
            )
            yield Prerequisite(
                env.name,
                "kubectl_role",
                (kubernetes.kubectl_role_arn,),
                f"the kubectl role {kubernetes.kubectl_role_arn} exists: it trusts lambda.amazonaws.com, "
                f"administers {kubernetes.cluster_name} (an access entry), may write its logs, describe the "
                'cluster and get a public ECR token (README, "SageMaker from a Kubernetes cluster")',
            )
        for domain in env.studio.domains if env.studio else ():
            if domain.auth_mode != "SSO":
                continue
            yield Prerequisite(
                env.name,
                "identity_center",
                (f"{env.account_id}/{env.region}",),
                f"IAM Identity Center is enabled for {where} (domain {domain.name} signs in with SSO)",
            )
            for user in domain.users:
                assert user.sso_user_name is not None  # required by SSO domains
                yield Prerequisite(
                    env.name,
                    "identity_center_user",
                    (user.sso_user_name,),
                    f"the IAM Identity Center user {user.sso_user_name} exists (profile {user.name} of "
                    f"{domain.name})",
                )


def _bootstrap(env: EnvironmentConfig) -> Bootstrap:
    return Bootstrap(env.name, env.account_id, env.region, env.cross_account.bootstrap_qualifier)


def _with_artifacts(
    platform: PlatformConfig, *, pushed: bool, approved: bool, version: int | None = None
) -> PlatformConfig:
    """`platform` with every Studio image's `pushed` and every endpoint's `approved` (and `version`) set."""
    environments: dict[str, EnvironmentConfig] = {}
    for name, env in platform.environments.items():
        images = env.images
        if images is not None:
            images = images.model_copy(
                update={
                    "repositories": tuple(
                        repository.model_copy(
                            update={
                                "studio_image": repository.studio_image.model_copy(update={"pushed": pushed})
                            }
                        )
                        if repository.studio_image is not None
                        else repository
                        for repository in images.repositories
                    )
                }
            )
        serving = env.serving
        if serving is not None:
            package_update: dict[str, object] = {"approved": approved}
            if version is not None:
                package_update["version"] = version
            serving = serving.model_copy(
                update={
                    "endpoints": tuple(
                        endpoint.model_copy(
                            update={"model_package": endpoint.model_package.model_copy(update=package_update)}
                        )
                        for endpoint in serving.endpoints
                    )
                }
            )
        environments[name] = env.model_copy(update={"images": images, "serving": serving})
    return PlatformConfig(environments=environments)


def _phase_one_edits(environments: Sequence[EnvironmentConfig], config_dir: str) -> Iterable[ConfigEdit]:
    for env in environments:
        for index, repository in enumerate(env.images.repositories if env.images else ()):
            if repository.studio_image is not None and repository.studio_image.pushed:
                yield ConfigEdit(
                    f"{config_dir}/{env.name}.yaml",
                    f"images.repositories[{index}].studio_image.pushed",
                    "false",
                )
        for index, endpoint in enumerate(env.serving.endpoints if env.serving else ()):
            if endpoint.model_package.approved:
                yield ConfigEdit(
                    f"{config_dir}/{env.name}.yaml",
                    f"serving.endpoints[{index}].model_package.approved",
                    "false",
                )


def _image_edits(environments: Sequence[EnvironmentConfig], config_dir: str) -> Iterable[ConfigEdit]:
    for env in environments:
        for index, repository in enumerate(env.images.repositories if env.images else ()):
            if repository.studio_image is None:
                continue
            field = f"images.repositories[{index}].studio_image"
            if repository.studio_image.image_digest is not None:
                yield ConfigEdit(
                    f"{config_dir}/{env.name}.yaml", f"{field}.image_digest", "the digest the build printed"
                )
            yield ConfigEdit(f"{config_dir}/{env.name}.yaml", f"{field}.pushed", "true")


def _endpoint_edits(environments: Sequence[EnvironmentConfig], config_dir: str) -> Iterable[ConfigEdit]:
    for env in environments:
        assert env.serving is not None
        for index, endpoint in enumerate(env.serving.endpoints):
            field = f"serving.endpoints[{index}].model_package"
            if endpoint.model_package.version != FIRST_MODEL_VERSION:
                yield ConfigEdit(
                    f"{config_dir}/{env.name}.yaml", f"{field}.version", str(FIRST_MODEL_VERSION)
                )
            yield ConfigEdit(f"{config_dir}/{env.name}.yaml", f"{field}.approved", "true")


def _pinned_groups(environments: Sequence[EnvironmentConfig]) -> list[tuple[str, str]]:
    """(source environment, group) of every endpoint, once each, in configuration order."""
    pinned = (
        (endpoint.model_package.source, endpoint.model_package.group)
        for env in environments
        for endpoint in (env.serving.endpoints if env.serving else ())
    )
    return list(dict.fromkeys(pinned))


def _pipeline_for(source: EnvironmentConfig, group: str) -> PipelineConfig | None:
    return next(
        (p for p in source.pipelines if p.definition == "model_build" and p.model_package_group == group),
        None,
    )


# --- text ----------------------------------------------------------------------------------------


def render(plan: FirstDeployPlan, platform: PlatformConfig, config_dir: str = "config") -> str:
    """The plan as numbered steps under headings, then the preconditions it follows."""
    lines = [
        f"First deployment of {config_dir}/ from empty accounts: {len(platform.environments)} environments, "
        f"{len(plan.phases)} phases, {len(plan.steps)} steps.",
    ]
    heading = ""
    for number, step in enumerate(plan.steps, start=1):
        if step.heading != heading:
            heading = step.heading
            lines += ["", f"{heading}:"]
        first, *rest = step.lines(platform)
        lines.append(f"{number:3}. {first}")
        lines.extend(f"     {line}" for line in rest)
    lines += ["", "What each resource type needs that no platform stack creates:"]
    for precondition in PRECONDITIONS:
        types = (
            "every stack" if precondition.resource_types == ("*",) else ", ".join(precondition.resource_types)
        )
        lines.append(f"  - {types}: {precondition.needs}; made by {precondition.made_by}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="first-deploy-plan",
        description="Print the order of a first deployment of the configuration from empty accounts.",
    )
    parser.add_argument("--config-dir", default="config", help="the configuration folder (default: config)")
    arguments = parser.parse_args(argv)
    try:
        platform = load_platform(Path(arguments.config_dir))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    config_dir = str(arguments.config_dir).rstrip("/")
    sys.stdout.write(render(first_deploy_plan(platform, config_dir), platform, config_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
