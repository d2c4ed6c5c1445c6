"""Configuration values checked against the constraints AWS publishes, in the form they reach AWS.

A value is checked where it ends up: a domain name against CreateDomain's `DomainName`, a persona's
description inside the IAM role description the platform writes, a bucket name as the platform derives it
from the environment name, account and region. The constraints come from the specifications
(`platform_config.aws_constraints`); this module says which value goes where.

`spec_problems(environment)` lists every violation as `<field path>: <problem>; <fix>`; the loader
prefixes the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from platform_config import naming
from platform_config.aws_constraints import availability_zones, constraint, instance_types, value_problem
from platform_config.models import EnvironmentConfig, InstancesConfig, PersonaConfig

# Tags the platform adds to every resource besides the environment's `tags` (project, environment), and
# the most a construct adds of its own (a subnet's Name, aws-cdk:subnet-name and aws-cdk:subnet-type); a
# test measures the latter on the synthesized templates.
CONSTRUCT_TAGS_PER_RESOURCE: Final = 3
# CloudFormation's quota of resources per stack.
MAX_RESOURCES_PER_STACK: Final = 500
# Outputs do not grow with configuration: no stack has more than PLATFORM_OUTPUTS_PER_STACK, on the sample
# and with more users, spaces and endpoints (tests/config/test_stack_limits.py), far below CloudFormation's
# 200, so no configuration is refused for them.
MAX_OUTPUTS_PER_STACK: Final = 200
PLATFORM_OUTPUTS_PER_STACK: Final = 10
# A Studio stack holds one domain: a resource per user profile and per space, and at most
# STUDIO_STACK_OTHER_RESOURCES besides (its personas' roles and policies, lifecycle configs, file systems,
# the teardown). tests/config/test_stack_limits.py measures both on synthesized stacks.
STUDIO_RESOURCES_PER_MEMBER: Final = 1
STUDIO_STACK_OTHER_RESOURCES: Final = 100
# The Serving stack: at most SERVING_RESOURCES_PER_ENDPOINT per deployed endpoint (an instance endpoint with
# autoscaling, monitoring and every alarm) and SERVING_STACK_OTHER_RESOURCES besides; measured likewise.
SERVING_RESOURCES_PER_ENDPOINT: Final = 17
SERVING_STACK_OTHER_RESOURCES: Final = 40
# IAM takes 6,144 characters per managed policy (white space not counted). The pipeline role's main policy
# grows with the model package groups its pipelines register into (their ARNs; the code it reads goes to
# policies of their own): at most PIPELINE_POLICY_OTHER characters besides them, measured on the sample
# with room for three more availability zones; tests/iam/test_policy_sizes.py keeps the prediction an
# upper bound of the synthesized policy.
MANAGED_POLICY_CHARACTERS: Final = 6_144
PIPELINE_POLICY_OTHER: Final = 4_600
# A persona's job policies name its job instance types and the environment's subnets (one per availability
# zone). Per capability whose policy does: the characters besides them, how often each type is named, and
# how often each subnet is, measured on the sample with about 300 characters of headroom for longer names;
# tests/iam/test_policy_sizes.py keeps the prediction an upper bound of the synthesized policies, and close.
PERSONA_JOB_POLICIES: Final = {
    "notebook_jobs": (4_000, 2, 2),
    "jobs": (2_200, 2, 1),
    "endpoints": (1_550, 1, 1),
}
SUBNET_ID_CHARACTERS: Final = len('"subnet-0123456789abcdef0",')
# EventBridge cron: six fields, and one of day-of-month and day-of-week is `?` (EventBridge's rule; the
# schema checks only the `cron(...)` shape).
CRON_FIELDS: Final = 6


@dataclass(frozen=True)
class Checked:
    """One value as it reaches AWS: the field it comes from, the target, and how it was derived."""

    field: str
    value: str
    target: str
    derived: str = ""  # e.g. "the artifact bucket name": the value is not the field's own text

    def problem(self) -> str | None:
        found = value_problem(self.value, self.target)
        if found is None:
            return None
        source = constraint(self.target).source.split(":", 1)[-1]
        if self.derived:
            return (
                f"{self.field}: {self.derived} {self.value!r} {found} ({source}); "
                f"change {self.field} so that what the platform derives from it fits"
            )
        return f"{self.field}: {self.value!r} {found} ({source}); use a value AWS accepts"


def spec_problems(environment: EnvironmentConfig) -> list[str]:
    """Every configured (or derived) value AWS would refuse, and every count over AWS's limit."""
    problems = [problem for checked in _checked_values(environment) if (problem := checked.problem())]
    problems.extend(_instance_type_problems(environment))
    problems.extend(_zone_problems(environment))
    problems.extend(_tag_count_problems(environment))
    problems.extend(_schedule_problems(environment))
    problems.extend(_stack_limit_problems(environment))
    problems.extend(_policy_size_problems(environment))
    return problems


def group_arn_characters(environment: EnvironmentConfig, group: str) -> int:
    """What one model package group adds to the pipeline role's policy: the group's ARN and its versions'
    (under the name as written and, when it differs, lower-cased), each a quoted JSON string."""
    prefix = f"arn:{naming.partition(environment)}:sagemaker:{environment.region}:{environment.account_id}:"
    arns = [f"{prefix}model-package-group/{group}"]
    arns.extend(f"{prefix}model-package/{name}/*" for name in sorted({group, group.lower()}))
    return sum(len(arn) + len('"",') for arn in arns)


def predicted_pipeline_policy_characters(environment: EnvironmentConfig) -> int:
    groups = sorted({p.model_package_group for p in environment.pipelines if p.model_package_group})
    return PIPELINE_POLICY_OTHER + sum(group_arn_characters(environment, group) for group in groups)


def predicted_persona_policy_characters(persona: PersonaConfig, zones: int) -> int:
    """The persona's largest job policy (notebook jobs, jobs or endpoints), or 0 without one."""
    types = sum(len(instance_type) + len('"",') for instance_type in persona.job_instance_types)
    return max(
        (
            other + per_type * types + per_subnet * zones * SUBNET_ID_CHARACTERS
            for capability, (other, per_type, per_subnet) in PERSONA_JOB_POLICIES.items()
            if capability in persona.capabilities
        ),
        default=0,
    )


def _persona_policy_problems(environment: EnvironmentConfig) -> Iterator[str]:
    if environment.studio is None:
        return
    zones = len(environment.network.availability_zones)
    for name, persona in environment.studio.personas.items():
        predicted = predicted_persona_policy_characters(persona, zones)
        if predicted > MANAGED_POLICY_CHARACTERS:
            yield (
                f"studio.personas.{name}.job_instance_types: {len(persona.job_instance_types)} instance "
                f"types would make the persona's job policy up to {predicted:,} characters, and IAM takes "
                f"{MANAGED_POLICY_CHARACTERS:,} per managed policy; list fewer (each is named up to "
                "twice), or give a second persona the rest"
            )


def _policy_size_problems(environment: EnvironmentConfig) -> Iterator[str]:
    yield from _persona_policy_problems(environment)
    if not environment.pipelines:
        return
    predicted = predicted_pipeline_policy_characters(environment)
    if predicted > MANAGED_POLICY_CHARACTERS:
        groups = sorted({p.model_package_group for p in environment.pipelines if p.model_package_group})
        yield (
            f"pipelines: the pipelines register into {len(groups)} model package groups "
            f"({', '.join(groups)}), which would make the pipeline role's policy up to {predicted:,} "
            f"characters, and IAM takes {MANAGED_POLICY_CHARACTERS:,} per managed policy; register into "
            "fewer groups from one environment, or use shorter (lower-case) group names"
        )


def _checked_values(environment: EnvironmentConfig) -> Iterator[Checked]:  # noqa: PLR0912
    yield from _bucket_names(environment)
    yield Checked("iam.role_path", environment.iam.role_path, "role path")
    # The environment's name is a tag value too (its own tags are checked as they are read).
    yield Checked("name", environment.name, "tag value", "the environment tag")
    if environment.experiments is not None:
        yield Checked(
            "name",
            naming.mlflow_tracking_server_name(environment.name),
            "tracking server name",
            "the MLflow tracking server name",
        )
    if environment.studio is not None:
        for name, persona in environment.studio.personas.items():
            yield Checked(
                f"studio.personas.{name}.description",
                naming.persona_role_description(name, persona.description),
                "role description",
                "the persona role's description",
            )
        for d, domain in enumerate(environment.studio.domains):
            where = f"studio.domains[{d}]"
            yield Checked(f"{where}.name", domain.name, "domain name")
            for u, user in enumerate(domain.users):
                yield Checked(f"{where}.users[{u}].name", user.name, "user profile name")
            for s, space in enumerate(domain.spaces):
                yield Checked(f"{where}.spaces[{s}].name", space.name, "space name")
                if space.display_name is not None:
                    yield Checked(
                        f"{where}.spaces[{s}].display_name", space.display_name, "space display name"
                    )
            for c, config in enumerate(domain.lifecycle_configs):
                yield Checked(
                    f"{where}.lifecycle_configs[{c}].name",
                    config.deployed_name(domain.name),
                    "lifecycle config name",
                    "the deployed name (with the script's hash)",
                )
    if environment.images is not None:
        for r, repository in enumerate(environment.images.repositories):
            where = f"images.repositories[{r}]"
            yield Checked(f"{where}.name", repository.name, "repository name")
            image = repository.studio_image
            if image is not None:
                yield Checked(f"{where}.name", repository.name, "image name", "the SageMaker image name")
                yield Checked(
                    f"{where}.name",
                    naming.app_image_config_name(repository.name),
                    "app image config name",
                    "the app image config name",
                )
                if image.display_name is not None:
                    yield Checked(
                        f"{where}.studio_image.display_name", image.display_name, "image display name"
                    )
    if environment.model_registry is not None:
        for g, group in enumerate(environment.model_registry.groups):
            where = f"model_registry.groups[{g}]"
            yield Checked(f"{where}.name", group.name, "model package group name")
            yield Checked(f"{where}.description", group.description, "model package group description")
    for p, pipeline in enumerate(environment.pipelines):
        yield Checked(f"pipelines[{p}].name", pipeline.name, "pipeline name")
        yield Checked(f"pipelines[{p}].description", pipeline.description, "pipeline description")
        if pipeline.trigger.schedule is not None:
            yield Checked(
                f"pipelines[{p}].trigger.schedule", pipeline.trigger.schedule, "schedule expression"
            )
    for n, job in enumerate(environment.notebook_jobs):
        yield Checked(f"notebook_jobs[{n}].name", job.name, "pipeline name")
        yield Checked(f"notebook_jobs[{n}].description", job.description, "pipeline description")
        if job.schedule is not None:
            yield Checked(f"notebook_jobs[{n}].schedule", job.schedule, "schedule expression")
    if environment.kubernetes is not None:
        yield from _kubernetes_names(environment)
    yield from _serving_values(environment)


def _serving_values(environment: EnvironmentConfig) -> Iterator[Checked]:
    if environment.serving is None:
        return
    for e, endpoint in enumerate(environment.serving.endpoints):
        where = f"serving.endpoints[{e}]"
        yield Checked(f"{where}.name", endpoint.name, "endpoint name")
        if endpoint.monitoring is not None:
            yield Checked(
                f"{where}.name",
                naming.monitoring_schedule_name(endpoint.name),
                "monitoring schedule name",
                "the monitoring schedule name",
            )
            baseline = endpoint.monitoring.baseline
            if baseline is not None:
                yield Checked(
                    f"{where}.monitoring.baseline.constraints_uri",
                    baseline.constraints_uri,
                    "baseline constraints uri",
                )
                yield Checked(
                    f"{where}.monitoring.baseline.statistics_uri",
                    baseline.statistics_uri,
                    "baseline statistics uri",
                )
        for t, smoke in enumerate(endpoint.smoke_tests):
            yield Checked(
                f"{where}.smoke_tests[{t}].content_type", smoke.content_type, "request content type"
            )
            yield Checked(f"{where}.smoke_tests[{t}].accept", smoke.accept, "request accept")


def _kubernetes_names(environment: EnvironmentConfig) -> Iterator[Checked]:
    """The roles and SageMaker names derived from the cluster's namespaces."""
    assert environment.kubernetes is not None
    yield Checked(
        "name", naming.ack_controller_role_name(environment.name), "role name", "the controller role name"
    )
    if environment.kubernetes_endpoints:
        yield Checked(
            "name",
            naming.k8s_package_reader_role_name(environment.name),
            "role name",
            "the Kubernetes package reader role name",
        )
    for n, namespace in enumerate(environment.kubernetes.namespaces):
        where = f"kubernetes.namespaces[{n}]"
        yield Checked(
            f"{where}.name",
            naming.ack_namespace_role_name(environment.name, namespace.name),
            "role name",
            "the namespace role name",
        )
        for p, pipeline in enumerate(namespace.pipelines):
            yield Checked(
                f"{where}.pipelines[{p}]",
                naming.k8s_sagemaker_name(namespace.name, pipeline),
                "pipeline name",
                "the namespace's pipeline name",
            )
        endpoints = {e.name: e for e in environment.serving.endpoints} if environment.serving else {}
        for e, name in enumerate(namespace.endpoints):
            if name not in endpoints:
                continue  # reported by the configuration's own check
            at = f"{where}.endpoints[{e}]"
            endpoint = endpoints[name]
            yield Checked(at, naming.k8s_model_name(namespace.name, endpoint), "model name", "the model name")
            yield Checked(
                at,
                naming.k8s_endpoint_config_name(namespace.name, endpoint),
                "endpoint config name",
                "the endpoint config name",
            )


def _bucket_names(environment: EnvironmentConfig) -> Iterator[Checked]:
    derived = {"the artifact bucket name": naming.artifact_bucket_name(environment)}
    if environment.pipelines:
        derived["the data bucket name"] = naming.data_bucket_name(environment)
    if environment.images is not None:
        derived["the image build source bucket name"] = naming.build_source_bucket_name(environment)
    if environment.serving is not None:
        derived["the capture bucket name"] = naming.capture_bucket_name(environment)
    for what, value in derived.items():
        yield Checked("name", value, "bucket name", what)


def _instance_type_problems(environment: EnvironmentConfig) -> Iterator[str]:
    jobs = instance_types("TrainingInstanceType") | instance_types("ProcessingInstanceType")
    offered: list[tuple[str, str, frozenset[str], str]] = []
    if environment.studio is not None:
        for name, persona in environment.studio.personas.items():
            offered.extend(
                (
                    f"studio.personas.{name}.job_instance_types[{i}]",
                    value,
                    jobs,
                    "training or processing jobs",
                )
                for i, value in enumerate(persona.job_instance_types)
            )
    offered.extend(
        (
            f"notebook_jobs[{n}].instance_type",
            job.instance_type,
            instance_types("TrainingInstanceType"),
            "notebook jobs (training jobs)",
        )
        for n, job in enumerate(environment.notebook_jobs)
    )
    if environment.serving is not None:
        for e, endpoint in enumerate(environment.serving.endpoints):
            where = f"serving.endpoints[{e}]"
            if isinstance(capacity := endpoint.capacity, InstancesConfig):
                offered.append(
                    (
                        f"{where}.instances.instance_type",
                        capacity.instance_type,
                        instance_types("ProductionVariantInstanceType"),
                        "endpoints",
                    )
                )
            if endpoint.monitoring is not None:
                offered.append(
                    (
                        f"{where}.monitoring.instance_type",
                        endpoint.monitoring.instance_type,
                        instance_types("ProcessingInstanceType"),
                        "monitoring (processing) jobs",
                    )
                )
    for field, value, allowed, purpose in offered:
        if value not in allowed:
            family = value.rsplit(".", 1)[0]
            near = sorted(kind for kind in allowed if kind.startswith(f"{family}."))[:6]
            fix = f"{family} offers {', '.join(near)}" if near else "use an instance type SageMaker offers"
            yield f"{field}: '{value}' is not an instance type SageMaker offers for {purpose}; {fix}"


def _zone_problems(environment: EnvironmentConfig) -> Iterator[str]:
    zones = availability_zones(environment.region)
    if zones is None:
        return
    network = environment.network
    configured: list[tuple[str, str]] = []
    if network.new_vpc is not None:
        configured.extend(
            (f"network.new_vpc.availability_zones[{i}]", zone)
            for i, zone in enumerate(network.new_vpc.availability_zones)
        )
    if network.existing_vpc is not None:
        configured.extend(
            (f"network.existing_vpc.subnets[{i}].availability_zone", subnet.availability_zone)
            for i, subnet in enumerate(network.existing_vpc.subnets)
        )
    for field, zone in configured:
        if zone not in zones:
            yield (
                f"{field}: '{zone}' is not an availability zone of {environment.region}; "
                f"use one of {', '.join(zones)}"
            )


def _tag_count_problems(environment: EnvironmentConfig) -> Iterator[str]:
    limit = constraint("tags per resource").max_length
    added = len(naming.platform_tags(environment)) - len(environment.tags) + CONSTRUCT_TAGS_PER_RESOURCE
    if limit is not None and len(environment.tags) + added > limit:
        yield (
            f"tags: {len(environment.tags)} tags, and the platform adds {added} to each resource, but AWS "
            f"takes at most {limit} per resource; remove {len(environment.tags) + added - limit}"
        )
    if environment.model_registry is not None and limit is not None:
        for g, group in enumerate(environment.model_registry.groups):
            total = len(group.tags) + len(environment.tags) + added
            if total > limit:
                yield (
                    f"model_registry.groups[{g}].tags: with the environment's tags and the platform's, the "
                    f"group would carry {total} tags, and AWS takes at most {limit}; remove {total - limit}"
                )


def _stack_limit_problems(environment: EnvironmentConfig) -> Iterator[str]:
    if environment.serving is not None:
        endpoints = len(environment.serving.deployed_endpoints)
        predicted = SERVING_STACK_OTHER_RESOURCES + SERVING_RESOURCES_PER_ENDPOINT * endpoints
        if predicted > MAX_RESOURCES_PER_STACK:
            room = (MAX_RESOURCES_PER_STACK - SERVING_STACK_OTHER_RESOURCES) // SERVING_RESOURCES_PER_ENDPOINT
            yield (
                f"serving.endpoints: {endpoints} deployed endpoints would make the Serving stack up to "
                f"{predicted} resources, and CloudFormation takes {MAX_RESOURCES_PER_STACK} per stack; serve "
                f"at most {room} from one environment (move some to another serving environment)"
            )
    if environment.studio is None:
        return
    room = (MAX_RESOURCES_PER_STACK - STUDIO_STACK_OTHER_RESOURCES) // STUDIO_RESOURCES_PER_MEMBER
    for d, domain in enumerate(environment.studio.domains):
        members = len(domain.users) + len(domain.spaces)
        if members > room:
            predicted = STUDIO_STACK_OTHER_RESOURCES + STUDIO_RESOURCES_PER_MEMBER * members
            yield (
                f"studio.domains[{d}].users: {len(domain.users)} users and {len(domain.spaces)} spaces would "
                f"make the domain's stack up to {predicted} resources, and CloudFormation takes "
                f"{MAX_RESOURCES_PER_STACK} per stack; split the users across domains (at most {room} users "
                "and spaces in one)"
            )


def _schedule_problems(environment: EnvironmentConfig) -> Iterator[str]:
    schedules = [
        (f"pipelines[{p}].trigger.schedule", pipeline.trigger.schedule)
        for p, pipeline in enumerate(environment.pipelines)
    ] + [(f"notebook_jobs[{n}].schedule", job.schedule) for n, job in enumerate(environment.notebook_jobs)]
    for field, schedule in schedules:
        if schedule is None or not schedule.startswith("cron("):
            continue
        fields = schedule[len("cron(") : -1].split()
        if len(fields) != CRON_FIELDS:
            yield (
                f"{field}: '{schedule}' has {len(fields)} fields, and EventBridge's cron has six (minutes "
                "hours day-of-month month day-of-week year); write six, e.g. cron(0 6 * * ? *)"
            )
        elif "?" not in (fields[2], fields[4]):
            yield (
                f"{field}: '{schedule}' has no '?' in day-of-month or day-of-week, and EventBridge needs "
                "one; write it as in cron(0 6 * * ? *)"
            )
