"""A first-deploy plan replayed against empty accounts, resource by resource, in CloudFormation's order.

The world starts empty: no bootstrap, no Identity Center, no images, no model packages. Each step of the plan
changes it as AWS would: a prerequisite adds what the organization provides, a bootstrap adds the version of
the pinned CLI's bootstrap template, a deploy synthesizes the phase's configuration and creates its stacks in
dependency order, a build pushes an image into a repository the world must have, a registration adds the next
version of a group (it must be the one the plan says), an approval approves it. Before each resource is
created, the precondition of its type (`PRECONDITIONS`) is checked against what exists: the world before
the deploy, the stacks this stack depends on, and the resources of its own stack it is ordered after.
Anything unmet is reported with the step and the construct path; nothing stops the replay early.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_cli.first_deploy_plan import (
    DEFAULT_BOOTSTRAP_QUALIFIER,
    PRECONDITIONS,
    Approve,
    ArtifactKind,
    Bootstrap,
    BuildImage,
    Deploy,
    EditConfig,
    FirstDeployPlan,
    Prerequisite,
    RegisterModel,
    Step,
)
from platform_config import PlatformConfig, naming
from synth_checks.creation_order import closure, references_of
from tests.iam.templates import ResolvedTemplates, StackTemplate

ROOT = Path(__file__).resolve().parents[2]
_BOOTSTRAP_TEMPLATE = ROOT / "node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml"
_NETWORK_ID = re.compile(r"(vpc|subnet|rtb)-[0-9a-f]{8,17}")


def cli_bootstrap() -> tuple[int, str]:
    """(version, default qualifier) of the bootstrap stack the pinned CDK CLI creates."""
    text = _BOOTSTRAP_TEMPLATE.read_text()
    version = re.search(r"CdkBootstrapVersion:.*?Value: '(\d+)'", text, re.DOTALL)
    qualifier = re.search(r"Qualifier:.*?Default: (\w+)", text, re.DOTALL)
    assert version is not None and qualifier is not None, f"{_BOOTSTRAP_TEMPLATE} changed shape"
    return int(version.group(1)), qualifier.group(1)


@dataclass(frozen=True)
class DeployedStack:
    """A stack as the replay deploys it: its resolved template and the stacks it depends on."""

    template: StackTemplate
    path: str  # `dev/Images`
    dependencies: frozenset[str]  # paths
    requires_bootstrap_version: int
    deploy_role_arn: str
    construct_paths: Mapping[str, str]


@dataclass(frozen=True)
class Synthesized:
    """One phase's app: the stacks of every environment it deploys, with intrinsics resolved."""

    stacks: Sequence[DeployedStack]
    resolved: ResolvedTemplates


@dataclass(frozen=True)
class Created:
    account: str
    region: str
    resource_type: str
    name: str
    ref: Any
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Unmet:
    step: int
    where: str  # a construct path, or the step
    need: str

    def __str__(self) -> str:
        return f"step {self.step}: {self.where}: {self.need}"


@dataclass
class World:
    bootstraps: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    identity_center: set[tuple[str, str]] = field(default_factory=set)
    identity_center_users: set[tuple[str, str, str]] = field(default_factory=set)
    policies: set[str] = field(default_factory=set)
    eks_clusters: set[tuple[str, str, str]] = field(default_factory=set)  # account, region, name
    roles: set[str] = field(default_factory=set)  # ARNs of roles the organization made
    network_ids: set[str] = field(default_factory=set)
    images: set[str] = field(default_factory=set)
    packages: dict[str, str] = field(default_factory=dict)  # lower-cased ARN -> approval status
    stacks: dict[str, list[Created]] = field(default_factory=dict)  # stack path -> its resources

    def created(self) -> list[Created]:
        return [resource for resources in self.stacks.values() for resource in resources]


@dataclass(frozen=True)
class Check:
    """What one resource's precondition is checked with: its resolved properties and what exists."""

    stack: DeployedStack
    logical_id: str
    raw: Mapping[str, Any]
    properties: Mapping[str, Any]
    world: World
    visible: Sequence[Created]

    def exists(self, resource_type: str, predicate: Callable[[Created], bool]) -> bool:
        return any(c.resource_type == resource_type and predicate(c) for c in self.visible)


def _bootstrap(check: Check) -> list[str]:
    stack = check.stack
    found = check.world.bootstraps.get((stack.template.account, stack.template.region))
    if found is None:
        return [f"aws://{stack.template.account}/{stack.template.region} is not bootstrapped"]
    version, qualifier = found
    problems = []
    if version < stack.requires_bootstrap_version:
        problems.append(
            f"needs bootstrap version {stack.requires_bootstrap_version}, the account has {version}"
        )
    if f":role/cdk-{qualifier}-deploy-role-" not in stack.deploy_role_arn:
        problems.append(
            f"deploys with {stack.deploy_role_arn}, but the account was bootstrapped as {qualifier}"
        )
    return problems


def _network(check: Check) -> list[str]:
    missing = sorted(
        {value for value in _strings(check.raw) if _NETWORK_ID.fullmatch(value)} - check.world.network_ids
    )
    return [f"names {value}, which does not exist" for value in missing]


def _identity_center(check: Check) -> list[str]:
    if check.properties.get("AuthMode") != "SSO":
        return []
    template = check.stack.template
    if (template.account, template.region) in check.world.identity_center:
        return []
    return ["AuthMode SSO, but IAM Identity Center is not enabled there"]


def _custom_images(check: Check) -> list[str]:
    """A domain's custom images must have a version (made from a pushed image) and an app image config."""
    settings = check.properties.get("DefaultUserSettings", {}).get("JupyterLabAppSettings", {})
    problems = []
    versions = {
        c.properties.get("ImageName")
        for c in check.visible
        if c.resource_type == "AWS::SageMaker::ImageVersion"
    }
    configs = {c.name for c in check.visible if c.resource_type == "AWS::SageMaker::AppImageConfig"}
    for image in settings.get("CustomImages", []):
        if image["ImageName"] not in versions:
            problems.append(f"custom image {image['ImageName']} has no version yet")
        if image["AppImageConfigName"] not in configs:
            problems.append(f"app image config {image['AppImageConfigName']} does not exist yet")
    return problems


def _identity_center_user(check: Check) -> list[str]:
    user = check.properties.get("SingleSignOnUserValue")
    template = check.stack.template
    if user is None or (template.account, template.region, user) in check.world.identity_center_users:
        return []
    return [f"the IAM Identity Center user {user} does not exist"]


def _boundary_policy(check: Check) -> list[str]:
    arn = check.properties.get("PermissionsBoundary")
    if arn is None or arn in check.world.policies:
        return []
    if check.exists("AWS::IAM::ManagedPolicy", lambda c: c.ref == arn):
        return []
    return [f"its permissions boundary {arn} does not exist"]


def _eks_cluster(check: Check) -> list[str]:
    name = check.properties.get("ClusterName")
    template = check.stack.template
    if name is None or (template.account, template.region, name) in check.world.eks_clusters:
        return []
    return [f"the EKS cluster {name} does not exist"]


def _kubectl_role(check: Check) -> list[str]:
    """A function's role is created by a stack before it, or is one the organization made."""
    role = check.properties.get("Role")
    if role is None or role in check.world.roles:
        return []
    if check.exists("AWS::IAM::Role", lambda c: str(role).endswith(f"/{c.name}")):
        return []
    return [f"its execution role {role} does not exist"]


def _image(check: Check) -> list[str]:
    if "BaseImage" not in check.properties:
        return _custom_images(check)
    image = check.properties["BaseImage"]
    return [] if image in check.world.images else [f"its base image {image} is not in ECR"]


def _model(check: Check) -> list[str]:
    properties = check.properties
    arns = [properties["ModelPackageArn"]] if "ModelPackageArn" in properties else []
    containers = [*properties.get("Containers", []), properties.get("PrimaryContainer", {})]
    arns += [container["ModelPackageName"] for container in containers if "ModelPackageName" in container]
    problems = []
    for arn in arns:
        status = check.world.packages.get(arn.lower())
        if status != "Approved":
            problems.append(f"model package {arn} is {status or 'not registered'}, not Approved")
    return problems


CHECKS: Mapping[ArtifactKind, Callable[[Check], list[str]]] = {
    "bootstrap": _bootstrap,
    "network": _network,
    "identity_center": _identity_center,
    "identity_center_user": _identity_center_user,
    "boundary_policy": _boundary_policy,
    "eks_cluster": _eks_cluster,
    "kubectl_role": _kubectl_role,
    "image": _image,
    "model": _model,
}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class Replay:
    """Runs `plan` step by step; `synthesize(phase config, environment names)` builds a phase's app."""

    def __init__(
        self,
        plan: FirstDeployPlan,
        synthesize: Callable[[PlatformConfig, Sequence[str]], Synthesized],
        *,
        steps: Sequence[Step] | None = None,
    ) -> None:
        self.plan = plan
        self.steps = tuple(plan.steps if steps is None else steps)
        self.synthesize = synthesize
        self.world = World()
        self.unmet: list[Unmet] = []
        self.resources_checked = 0
        self._phases: dict[int, Synthesized] = {}

    def run(self) -> list[Unmet]:
        for number, step in enumerate(self.steps, start=1):
            self._apply(number, step)
        return self.unmet

    def _fail(self, number: int, where: str, need: str) -> None:
        self.unmet.append(Unmet(number, where, need))

    def _apply(self, number: int, step: Step) -> None:  # noqa: PLR0912 - one branch per kind of step
        world = self.world
        if isinstance(step, Prerequisite):
            account, region = self._where(step.environment)
            if step.kind == "boundary_policy":
                world.policies.update(step.subjects)
            elif step.kind == "network":
                world.network_ids.update(step.subjects)
            elif step.kind == "eks_cluster":
                world.eks_clusters.update((account, region, name) for name in step.subjects)
            elif step.kind == "kubectl_role":
                world.roles.update(step.subjects)
            elif step.kind == "identity_center":
                world.identity_center.add((account, region))
            elif step.kind == "identity_center_user":
                world.identity_center_users.update((account, region, user) for user in step.subjects)
            else:
                raise AssertionError(f"no prerequisite of kind {step.kind}")
        elif isinstance(step, Bootstrap):
            version, default_qualifier = cli_bootstrap()
            assert step.qualifier == default_qualifier or step.qualifier != DEFAULT_BOOTSTRAP_QUALIFIER, (
                "the plan's default qualifier is not the CLI's"
            )
            world.bootstraps[(step.account, step.region)] = (version, step.qualifier)
        elif isinstance(step, Deploy):
            self._deploy(number, step)
        elif isinstance(step, BuildImage):
            self._build_image(number, step)
        elif isinstance(step, RegisterModel):
            self._register(number, step)
        elif isinstance(step, Approve):
            arn = self._package_arn(step.environment, step.group, step.version)
            if arn not in world.packages:
                self._fail(
                    number, f"approve {step.group} version {step.version}", "the version is not registered"
                )
            else:
                world.packages[arn] = "Approved"
        else:
            assert isinstance(step, EditConfig)  # the phase's configuration is plan.phases[step.phase]

    def _where(self, environment: str) -> tuple[str, str]:
        config = self.plan.phases[1].environments[environment]
        return config.account_id, config.region

    def _has(self, environment: str, resource_type: str, name: str) -> bool:
        account, region = self._where(environment)
        return any(
            (c.account, c.region, c.resource_type, c.name) == (account, region, resource_type, name)
            for c in self.world.created()
        )

    def _build_image(self, number: int, step: BuildImage) -> None:
        where = f"build-image {step.repository} in {step.environment}"
        project = naming.image_build_project_name(step.environment)
        for resource_type, name in (
            ("AWS::ECR::Repository", step.repository),
            ("AWS::CodeBuild::Project", project),
        ):
            if not self._has(step.environment, resource_type, name):
                self._fail(number, where, f"{resource_type} {name} does not exist yet")
                return
        account, region = self._where(step.environment)
        self.world.images.add(f"{account}.dkr.ecr.{region}.amazonaws.com/{step.repository}{step.reference}")

    def _register(self, number: int, step: RegisterModel) -> None:
        where = f"register {step.group} in {step.environment}"
        source = self.plan.phases[1].environments[step.environment]
        needed = [("AWS::SageMaker::ModelPackageGroup", step.group)]
        if step.pipeline is not None:
            needed.append(("AWS::SageMaker::Pipeline", step.pipeline))
        if step.data_prefix is not None:
            needed.append(("AWS::S3::Bucket", naming.data_bucket_name(source)))
        missing = [f"{kind} {name}" for kind, name in needed if not self._has(step.environment, kind, name)]
        if missing:
            self._fail(number, where, f"{', '.join(missing)} does not exist yet")
            return
        prefix = self._package_arn(step.environment, step.group, 0).rsplit("/", 1)[0] + "/"
        registered = sum(1 for arn in self.world.packages if arn.startswith(prefix))
        if registered + 1 != step.version:
            self._fail(number, where, f"registers version {registered + 1}, the plan says {step.version}")
        self.world.packages[f"{prefix}{registered + 1}"] = "PendingManualApproval"

    def _package_arn(self, environment: str, group: str, version: int) -> str:
        return naming.model_package_arn(self.plan.phases[1].environments[environment], group, version).lower()

    def _synthesized(self, phase: int) -> Synthesized:
        if phase not in self._phases:
            environments = [
                step.environment
                for step in self.plan.steps
                if isinstance(step, Deploy) and step.phase == phase
            ]
            self._phases[phase] = self.synthesize(self.plan.phases[phase], environments)
        return self._phases[phase]

    def _deploy(self, number: int, step: Deploy) -> None:
        synthesized = self._synthesized(step.phase)
        stacks = [stack for stack in synthesized.stacks if stack.path.split("/", 1)[0] == step.environment]
        before = {path: list(resources) for path, resources in self.world.stacks.items()}
        for stack in _dependency_order(stacks):
            earlier = closure(stack.path, {s.path: s.dependencies for s in stacks})
            outside = [c for path, resources in before.items() if path not in earlier for c in resources]
            new = {path: self.world.stacks[path] for path in earlier if path in self.world.stacks}
            visible_stacks = [c for resources in new.values() for c in resources]
            created = self._create(number, stack, synthesized.resolved, [*outside, *visible_stacks])
            self.world.stacks[stack.path] = created

    def _create(
        self, number: int, stack: DeployedStack, resolved: ResolvedTemplates, visible: list[Created]
    ) -> list[Created]:
        template = stack.template
        resources = template.resources
        order = {logical_id: references_of(resource) for logical_id, resource in resources.items()}
        created = {
            logical_id: Created(
                template.account,
                template.region,
                str(resource["Type"]),
                resolved.name_of(logical_id, template),
                resolved.ref(logical_id, template),
                resolved.resolve(resource.get("Properties", {}), template),
            )
            for logical_id, resource in resources.items()
        }
        for problem in CHECKS["bootstrap"](Check(stack, "", {}, {}, self.world, visible)):
            self._fail(number, stack.path, problem)
        for logical_id, resource in resources.items():
            self.resources_checked += 1
            own = [created[other] for other in closure(logical_id, order) if other in created]
            check = Check(
                stack,
                logical_id,
                resource.get("Properties", {}),
                created[logical_id].properties,
                self.world,
                [*visible, *own],
            )
            for precondition in PRECONDITIONS:
                if precondition.kind == "bootstrap":
                    continue
                if (
                    precondition.resource_types != ("*",)
                    and resource["Type"] not in precondition.resource_types
                ):
                    continue
                for problem in CHECKS[precondition.kind](check):
                    self._fail(
                        number, stack.construct_paths.get(logical_id, f"{stack.path}/{logical_id}"), problem
                    )
        return list(created.values())


def _dependency_order(stacks: Sequence[DeployedStack]) -> list[DeployedStack]:
    by_path = {stack.path: stack for stack in stacks}
    ordered: list[DeployedStack] = []
    done: set[str] = set()

    def visit(stack: DeployedStack) -> None:
        if stack.path in done:
            return
        done.add(stack.path)
        for dependency in sorted(stack.dependencies):
            if dependency in by_path:
                visit(by_path[dependency])
        ordered.append(stack)

    for stack in stacks:
        visit(stack)
    return ordered
