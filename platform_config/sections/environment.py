"""One environment (`config/<name>.yaml`): its account and region, its sections, and the checks that span
sections (a pipeline's model package group, a notebook job's image and role, a cluster's personas)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import Field, StrictBool, StrictStr, field_validator, model_validator

from platform_config.problems import FieldError, SeveralFieldsError, not_one_of, raise_all
from platform_config.sections.experiments import ExperimentsConfig
from platform_config.sections.iam import MANAGED_POLICY_ARN_PATTERN, IamConfig, aws_partition
from platform_config.sections.images import ImagesConfig
from platform_config.sections.kubernetes import (
    IAM_ROLE_ARN_PATTERN,
    OIDC_PROVIDER_ARN_PATTERN,
    KubernetesConfig,
)
from platform_config.sections.network import NetworkConfig
from platform_config.sections.notebook_jobs import NotebookJobConfig
from platform_config.sections.pipelines import PipelineConfig
from platform_config.sections.registry import CrossAccountConfig, ModelRegistryConfig
from platform_config.sections.serving import AlarmsConfig, EndpointConfig, InstancesConfig, ServingConfig
from platform_config.sections.shared import (
    AccountId,
    EnvironmentName,
    FrozenModel,
    Region,
    unique,
    valid_tag_map,
)
from platform_config.sections.studio import DomainConfig, PersonaConfig, StudioConfig


class EnvironmentConfig(FrozenModel):
    """One environment: one AWS account and region, described by `config/<name>.yaml`."""

    name: EnvironmentName
    account_id: AccountId
    region: Region
    retain_stateful_resources: StrictBool = Field(
        default=True,
        description="Retain keys, buckets, Studio domains and spaces on delete and turn on termination "
        "protection. Only a disposable environment (dev) sets false.",
    )
    trusted_environments: tuple[EnvironmentName, ...] = Field(
        default=(), description="Environments whose automation may act in this account (e.g. prod trusts dev)"
    )
    serves_environments: tuple[EnvironmentName, ...] = Field(
        default=(),
        description="Environments that consume this one's artifacts (e.g. dev serves staging, prod)",
    )
    tags: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        description="Added to every resource; 'project' and 'environment' are set by the platform",
    )

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, value: dict[str, str]) -> dict[str, str]:
        return valid_tag_map(value)

    network: NetworkConfig
    images: ImagesConfig | None = None
    model_registry: ModelRegistryConfig | None = None
    cross_account: CrossAccountConfig = CrossAccountConfig()
    iam: IamConfig = IamConfig()
    pipelines: tuple[PipelineConfig, ...] = ()
    studio: StudioConfig | None = None
    serving: ServingConfig | None = None
    alarms: AlarmsConfig = AlarmsConfig()
    experiments: ExperimentsConfig | None = None
    notebook_jobs: tuple[NotebookJobConfig, ...] = ()
    kubernetes: KubernetesConfig | None = None

    @field_validator("pipelines")
    @classmethod
    def _unique_pipelines(cls, value: tuple[PipelineConfig, ...]) -> tuple[PipelineConfig, ...]:
        unique(tuple(pipeline.name for pipeline in value), "pipeline names")
        return value

    @model_validator(mode="after")
    def _pipelines_register_into_known_groups(self) -> EnvironmentConfig:
        groups = {group.name for group in self.model_registry.groups} if self.model_registry else set()
        raise_all(
            [
                FieldError(
                    f"'{pipeline.model_package_group}' is not a group of model_registry",
                    f"use one of its groups ({', '.join(sorted(groups)) or 'none yet'})",
                    at=f"pipelines[{index}].model_package_group",
                )
                for index, pipeline in enumerate(self.pipelines)
                if pipeline.model_package_group is not None and pipeline.model_package_group not in groups
            ]
        )
        return self

    @model_validator(mode="after")
    def _scheduled_runs_are_never_cached(self) -> EnvironmentConfig:
        # The data trigger passes the object's version id and ETag, which are in the first step's cache key;
        # a schedule passes nothing, so each run has the same arguments whatever the data at the key holds.
        raise_all(
            [
                FieldError(
                    f"'{pipeline.cache_expire_after}' with trigger.schedule '{pipeline.trigger.schedule}': a "
                    "scheduled run starts with the same parameters every time, so its steps would be served "
                    "from the cache whatever data is at the input key",
                    "remove cache_expire_after, or start runs from new data with trigger.data_prefix instead "
                    "of a schedule",
                    at=f"pipelines[{index}].cache_expire_after",
                )
                for index, pipeline in enumerate(self.pipelines)
                if pipeline.trigger.schedule is not None and pipeline.cache_expire_after is not None
            ]
        )
        return self

    @model_validator(mode="after")
    def _notebook_jobs_fit_the_environment(self) -> EnvironmentConfig:
        problems: list[FieldError] = []
        names = [pipeline.name for pipeline in self.pipelines]
        studio_images = self.images.studio_images if self.images is not None else {}
        domains = {domain.name: domain for domain in self.studio.domains} if self.studio else {}
        for index, job in enumerate(self.notebook_jobs):
            path = f"notebook_jobs[{index}]"
            if job.name in names:
                problems.append(
                    FieldError(
                        f"'{job.name}' is already the name of a pipeline or notebook job here",
                        "give each SageMaker pipeline a name of its own",
                        at=f"{path}.name",
                    )
                )
            names.append(job.name)
            image = job.image.studio_image
            if image is not None and image not in studio_images:
                problems.append(
                    FieldError(
                        f"'{image}' is not a repository with a studio_image under images.repositories",
                        "use one of the Studio images here "
                        f"({', '.join(sorted(studio_images)) or 'none yet'})",
                        at=f"{path}.image.studio_image",
                    )
                )
            problems.extend(self._notebook_job_role_problems(path, job, domains))
            view = job.studio_view
            if view is None:
                continue
            if view.domain not in domains:
                problems.append(
                    not_one_of(
                        view.domain,
                        "a domain of studio.domains",
                        domains,
                        at=f"{path}.studio_view.domain",
                        none="no domain yet",
                    )
                )
            elif view.user_profile is not None:
                users = sorted(user.name for user in domains[view.domain].users)
                if view.user_profile not in users:
                    problems.append(
                        FieldError(
                            f"'{view.user_profile}' is not a user of domain '{view.domain}'",
                            f"use one of its users ({', '.join(users) or 'none yet'})",
                            at=f"{path}.studio_view.user_profile",
                        )
                    )
        raise_all(problems)
        return self

    def _notebook_job_role_problems(
        self, path: str, job: NotebookJobConfig, domains: Mapping[str, DomainConfig]
    ) -> list[FieldError]:
        """A persona role must exist where named and be allowed to start the job SageMaker starts for it."""
        run_as = job.run_as
        if run_as is None:
            return []
        path = f"{path}.run_as"
        personas = self.studio.personas if self.studio is not None else {}
        if run_as.domain not in domains:
            return [
                not_one_of(
                    run_as.domain,
                    "a domain of studio.domains",
                    domains,
                    at=f"{path}.domain",
                    none="no domain yet",
                )
            ]
        domain = domains[run_as.domain]
        used = sorted(
            {domain.default_persona, domain.shared_space_persona or domain.default_persona}
            | {user.persona for user in domain.users}
        )
        if run_as.persona not in used:
            return [
                FieldError(
                    f"'{run_as.persona}' has no execution role in domain '{run_as.domain}' (a domain has "
                    f"roles for the personas its users, default and shared spaces use: {', '.join(used)})",
                    "name one of those, or give a user of the domain that persona",
                    at=f"{path}.persona",
                )
            ]
        persona = personas[run_as.persona]
        problems: list[FieldError] = []
        if not {"jobs", "notebook_jobs"} & set(persona.capabilities):
            problems.append(
                FieldError(
                    f"persona '{run_as.persona}' may not start training jobs, and a notebook job is one",
                    "give it the 'notebook_jobs' (or 'jobs') capability under studio.personas, or remove "
                    "run_as to use the environment's notebook job role",
                    at=f"{path}.persona",
                )
            )
        elif job.instance_type not in persona.job_instance_types:
            problems.append(
                FieldError(
                    f"instance_type '{job.instance_type}' is not one of persona '{run_as.persona}''s "
                    f"job_instance_types ({', '.join(persona.job_instance_types)})",
                    "use one of those, or add it to the persona",
                    at=f"{path}.persona",
                )
            )
        if persona.network_isolation:
            problems.append(
                FieldError(
                    f"persona '{run_as.persona}' requires network isolation, and a notebook job runs its "
                    "kernel with network access (to read data and call AWS)",
                    "run it as another persona or remove run_as",
                    at=f"{path}.persona",
                )
            )
        view = job.studio_view
        if view is not None and view.domain != run_as.domain:
            problems.append(
                FieldError(
                    f"'{run_as.domain}' differs from studio_view.domain '{view.domain}', and a persona role "
                    "may not tag a job for another domain (domain isolation)",
                    "use the same domain",
                    at=f"{path}.domain",
                )
            )
        return problems

    @field_validator("trusted_environments", "serves_environments")
    @classmethod
    def _unique_environments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique(value, "environments")

    @model_validator(mode="after")
    def _custom_images_are_studio_images(self) -> EnvironmentConfig:
        if self.studio is None:
            return self
        if self.images is None:
            builders = sorted(n for n, p in self.studio.personas.items() if "image_builds" in p.capabilities)
            if builders:
                raise SeveralFieldsError(
                    FieldError(
                        "has the image_builds capability, but this environment has no images section (no "
                        "build path to use)",
                        "add an images section or remove the capability",
                        at=f"studio.personas.{name}.capabilities",
                    )
                    for name in builders
                )
        studio_images = self.images.studio_images if self.images is not None else {}
        raise_all(
            [
                FieldError(
                    f"'{name}' is not a repository with a studio_image under images.repositories",
                    f"use one of the Studio images here ({', '.join(sorted(studio_images)) or 'none yet'})",
                    at=f"studio.domains[{index}].custom_images[{image_index}]",
                )
                for index, domain in enumerate(self.studio.domains)
                for image_index, name in enumerate(domain.custom_images)
                if name not in studio_images
            ]
        )
        return self

    @model_validator(mode="after")
    def _zones_in_region(self) -> EnvironmentConfig:
        if self.network.new_vpc is not None:
            zones = [
                (f"network.new_vpc.availability_zones[{index}]", zone)
                for index, zone in enumerate(self.network.new_vpc.availability_zones)
            ]
        else:
            assert self.network.existing_vpc is not None
            zones = [
                (f"network.existing_vpc.subnets[{index}].availability_zone", subnet.availability_zone)
                for index, subnet in enumerate(self.network.existing_vpc.subnets)
            ]
        problems = [
            FieldError(
                f"availability zone '{zone}' is not in region {self.region}",
                f"name one of its zones ({self.region}a, {self.region}b, ...)",
                at=path,
            )
            for path, zone in zones
            if not (zone.startswith(self.region) and re.fullmatch(r"[a-z]", zone[len(self.region) :]))
        ]
        for field_name in ("trusted_environments", "serves_environments"):
            names = getattr(self, field_name)
            if self.name in names:
                problems.append(
                    FieldError(
                        "an environment cannot list itself",
                        "remove it",
                        at=f"{field_name}[{names.index(self.name)}]",
                    )
                )
        raise_all(problems)
        return self

    @model_validator(mode="after")
    def _boundary_policy_of_this_account(self) -> EnvironmentConfig:
        boundary = self.iam.permissions_boundary
        arn = boundary.managed_policy_arn if boundary is not None else None
        match = MANAGED_POLICY_ARN_PATTERN.fullmatch(arn) if arn is not None else None
        if match is None:
            return self
        problems: list[FieldError] = []
        path = "iam.permissions_boundary.managed_policy_arn"
        # IAM refuses a boundary from another account: a role's boundary must be a policy it could attach.
        if match.group("account") not in (self.account_id, "aws"):
            problems.append(
                FieldError(
                    f"the policy is in account {match.group('account')}, and a permissions boundary must be "
                    "a policy of the role's own account",
                    f"use a policy of this environment's account ({self.account_id}) or an AWS-managed one "
                    "('aws')",
                    at=path,
                )
            )
        expected_partition = aws_partition(self.region)
        if match.group("partition") != expected_partition:
            problems.append(
                FieldError(
                    f"partition '{match.group('partition')}' does not match region {self.region}",
                    f"write arn:{expected_partition}:iam::...",
                    at=path,
                )
            )
        raise_all(problems)
        return self

    @model_validator(mode="after")
    def _kubernetes_fits_the_environment(self) -> EnvironmentConfig:
        if self.kubernetes is None:
            return self
        problems = self._kubernetes_credential_problems(self.kubernetes)
        personas = self.studio.personas if self.studio is not None else {}
        pipelines = {pipeline.name for pipeline in self.pipelines}
        for path, arn, pattern in (
            ("kubernetes.kubectl_role_arn", self.kubernetes.kubectl_role_arn, IAM_ROLE_ARN_PATTERN),
            ("kubernetes.oidc_provider_arn", self.kubernetes.oidc_provider_arn, OIDC_PROVIDER_ARN_PATTERN),
        ):
            match = pattern.fullmatch(arn) if arn is not None else None
            if match is not None and match.group("account") != self.account_id:
                problems.append(
                    FieldError(
                        f"account {match.group('account')} is not this environment's ({self.account_id})",
                        "name the cluster's roles in the environment's account",
                        at=path,
                    )
                )
        issuer = self.kubernetes.oidc_issuer
        if issuer is not None and f".{self.region}." not in issuer:
            problems.append(
                FieldError(
                    f"the issuer {issuer} is not in region {self.region}",
                    "name the OIDC provider of the cluster in this region",
                    at="kubernetes.oidc_provider_arn",
                )
            )
        for index, namespace in enumerate(self.kubernetes.namespaces):
            path = f"kubernetes.namespaces[{index}]"
            persona = personas.get(namespace.persona)
            if persona is None:
                problems.append(
                    not_one_of(
                        namespace.persona, "a persona of studio.personas", personas, at=f"{path}.persona"
                    )
                )
            elif "jobs" not in persona.capabilities:
                problems.append(
                    FieldError(
                        f"persona '{namespace.persona}' has no 'jobs' capability, so it has no job "
                        "guardrails to give the namespace",
                        "add 'jobs' to it or name another persona",
                        at=f"{path}.persona",
                    )
                )
            elif persona.network_isolation and namespace.pipelines:
                problems.append(
                    FieldError(
                        f"persona '{namespace.persona}' requires network isolation, which the platform's "
                        "pipeline definitions do not set",
                        "name another persona or remove the pipelines",
                        at=f"{path}.pipelines",
                    )
                )
            problems.extend(
                not_one_of(name, "a pipeline of pipelines", pipelines, at=f"{path}.pipelines[{p}]")
                for p, name in enumerate(namespace.pipelines)
                if name not in pipelines
            )
        problems.extend(self._kubernetes_endpoint_problems())
        raise_all(problems)
        return self

    def _kubernetes_endpoint_problems(self) -> list[FieldError]:
        """An endpoint a namespace names must be one of serving's, served by one namespace, and one the
        namespace's role could create (ADR 0017): in the VPC, under the data key, on the persona's instance
        types, with nothing the ACK path cannot honour (autoscaling, the data-quality schedule)."""
        assert self.kubernetes is not None
        problems: list[FieldError] = []
        endpoints = {endpoint.name: endpoint for endpoint in self.serving.endpoints} if self.serving else {}
        personas = self.studio.personas if self.studio is not None else {}
        serving_index = {name: index for index, name in enumerate(endpoints)}
        served_by: dict[str, str] = {}
        for index, namespace in enumerate(self.kubernetes.namespaces):
            persona = personas.get(namespace.persona)
            for e, name in enumerate(namespace.endpoints):
                at = f"kubernetes.namespaces[{index}].endpoints[{e}]"
                endpoint = endpoints.get(name)
                if endpoint is None:
                    problems.append(
                        FieldError(
                            f"'{name}' is not an endpoint of serving.endpoints",
                            f"use one of {', '.join(sorted(endpoints)) or 'none yet'}",
                            at=at,
                        )
                    )
                    continue
                if name in served_by:
                    problems.append(
                        FieldError(
                            f"'{name}' is served by namespace '{served_by[name]}' already",
                            "name each endpoint in one namespace",
                            at=at,
                        )
                    )
                    continue
                served_by[name] = namespace.name
                problems.extend(
                    FieldError(problem, fix, at=at)
                    for problem, fix in _ack_endpoint_problems(
                        endpoint, serving_index[name], namespace.persona, persona
                    )
                )
        return problems

    @model_validator(mode="after")
    def _only_kubernetes_endpoints_go_unmonitored(self) -> EnvironmentConfig:
        if self.serving is None:
            return self
        served = self.kubernetes_endpoints
        raise_all(
            [
                FieldError(
                    "turns the data-quality schedule off, which only an endpoint a Kubernetes namespace "
                    "serves may do",
                    "remove it, or name the endpoint in kubernetes.namespaces[].endpoints",
                    at=f"serving.endpoints[{e}].monitoring.enabled",
                )
                for e, endpoint in enumerate(self.serving.endpoints)
                if endpoint.monitoring is not None
                and not endpoint.monitoring.enabled
                and endpoint.name not in served
            ]
        )
        return self

    @property
    def kubernetes_endpoints(self) -> dict[str, str]:
        """The endpoints Kubernetes serves (through ACK), by name, with the namespace that serves each."""
        return self.kubernetes.endpoint_namespaces if self.kubernetes is not None else {}

    @property
    def cloudformation_endpoints(self) -> tuple[EndpointConfig, ...]:
        """The deployed endpoints the Serving stack creates: those no Kubernetes namespace serves."""
        if self.serving is None:
            return ()
        owned = self.kubernetes_endpoints
        return tuple(endpoint for endpoint in self.serving.deployed_endpoints if endpoint.name not in owned)

    @staticmethod
    def _kubernetes_credential_problems(kubernetes: KubernetesConfig) -> list[FieldError]:
        problems: list[FieldError] = []
        if kubernetes.pod_credentials == "irsa" and kubernetes.oidc_provider_arn is None:
            problems.append(
                FieldError(
                    "IRSA needs the cluster's OIDC provider",
                    "add its ARN, or use pod_credentials: pod_identity",
                    at="kubernetes.oidc_provider_arn",
                )
            )
        if kubernetes.pod_credentials == "pod_identity" and kubernetes.oidc_provider_arn is not None:
            problems.append(
                FieldError(
                    "is only used with pod_credentials: irsa",
                    "remove it, or set pod_credentials: irsa",
                    at="kubernetes.oidc_provider_arn",
                )
            )
        namespaces = [namespace.name for namespace in kubernetes.namespaces]
        if kubernetes.controller_namespace in namespaces:
            problems.append(
                FieldError(
                    f"'{kubernetes.controller_namespace}' is the controller's namespace "
                    "(controller_namespace)",
                    "give the team a namespace of its own",
                    at=f"kubernetes.namespaces[{namespaces.index(kubernetes.controller_namespace)}].name",
                )
            )
        return problems


def _ack_endpoint_problems(
    endpoint: EndpointConfig, index: int, persona_name: str, persona: PersonaConfig | None
) -> list[tuple[str, str]]:
    """What keeps the namespace's role from creating this endpoint, or what the ACK path would drop:
    (problem, fix) pairs."""
    serving = f"serving.endpoints[{index}]"
    problems: list[tuple[str, str]] = []
    if persona is not None and "endpoints" not in persona.capabilities:
        problems.append(
            (
                f"persona '{persona_name}' has no 'endpoints' capability, so the namespace's role could not "
                f"create '{endpoint.name}'",
                "add 'endpoints' to the persona or name another persona",
            )
        )
    elif persona is not None and persona.network_isolation:
        problems.append(
            (
                f"persona '{persona_name}' requires network isolation of endpoint configs, which the "
                "platform's endpoint configs do not set",
                "name another persona or leave the endpoint to CloudFormation",
            )
        )
    instances = endpoint.capacity
    if not isinstance(instances, InstancesConfig):
        problems.append(
            (
                f"'{endpoint.name}' is serverless, outside the VPC, where the namespace's role may not "
                "create models",
                f"serve it from instances ({serving}.instances) or leave it to CloudFormation",
            )
        )
        return problems
    instance_type = instances.instance_type
    if persona is not None and instance_type not in persona.job_instance_types:
        problems.append(
            (
                f"'{endpoint.name}' runs on {instance_type}, which persona '{persona_name}' may not use (its "
                "role would refuse the endpoint config)",
                f"add {instance_type} to the persona's job_instance_types or change {serving}.instances",
            )
        )
    if endpoint.local_storage:
        problems.append(
            (
                f"'{endpoint.name}' runs on {instance_type}, whose local storage takes no volume key, while "
                "the namespace's role requires the data key",
                f"use an instance type without local NVMe storage in {serving}.instances",
            )
        )
    if endpoint.autoscaling is not None:
        problems.append(
            (
                f"'{endpoint.name}' has autoscaling, which the ACK path does not create",
                f"remove {serving}.autoscaling or leave the endpoint to CloudFormation",
            )
        )
    if endpoint.data_quality is not None:
        problems.append(
            (
                f"'{endpoint.name}' has a data-quality schedule (the default on instances), which the ACK "
                "path does not create",
                f"set {serving}.monitoring.enabled: false to serve it unmonitored, or leave it to "
                "CloudFormation",
            )
        )
    return problems
