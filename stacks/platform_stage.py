"""The composition of one environment (a Stage named after it) and of the whole app."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import Construct

from constructs_lib.observability.platform_dashboard import DashboardEndpoint
from constructs_lib.serving.model_endpoint import VARIANT_NAME
from constructs_lib.serving.serving_execution_role import ModelSource
from constructs_lib.shared.role_guardrails import RoleGuardrails
from pipeline_defs.model_build import TRAINING_METRICS
from platform_config import EnvironmentConfig, PlatformConfig, naming
from platform_config.models import InstancesConfig
from platform_config.naming import artifact_bucket_name, build_source_bucket_name
from platform_config.sagemaker_images import MODEL_MONITOR_REPOSITORY, model_monitor_image_uri
from stacks.boundary_stack import BoundaryStack
from stacks.data_stack import DataStack
from stacks.experiments_stack import ExperimentsStack
from stacks.image_build_stack import ImageBuildStack
from stacks.images_stack import ImagesStack
from stacks.kubernetes_stack import EndpointServing, KubernetesStack, ServedEndpoint
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.notebook_jobs_stack import NotebookJobsStack, PersonaJobRole
from stacks.pipelines_stack import PipelinesStack
from stacks.promotion_stack import PromotionStack
from stacks.registry_stack import RegistryStack
from stacks.serving_access_stack import ServingAccessStack
from stacks.serving_stack import PackageSource, ServingStack
from stacks.studio_stack import ImageBuildNames, StudioStack
from synth_checks import template_validation
from synth_checks.creation_order_plugin import CreationOrderChecks
from synth_checks.reachability_plugin import ReachabilityChecks

# The context key CDK's DefaultStackSynthesizer reads its qualifier from (not exported to Python).
BOOTSTRAP_QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"


class PlatformStage(cdk.Stage):
    """Every stack of one environment, deployed with `cdk deploy '<environment>/*'`.

    Exposes `data`, `network`, `images` and `image_build` (where images are configured), and `studio`
    (one stack per Studio domain, keyed by domain name), `registry`, `promotion` and `serving_access`, and
    `boundary` (where the platform creates its own permissions boundary; every other stack depends on it).
    Every IAM role of the Stage gets the environment's `iam.role_path` and permissions boundary.
    `served` are the environments this one serves (their serving roles read its models and images);
    `trusted` the environments whose models it serves. Every cross-account name comes from naming.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        environment: EnvironmentConfig,
        served: Sequence[EnvironmentConfig] = (),
        trusted: Sequence[EnvironmentConfig] = (),
    ) -> None:
        super().__init__(
            scope,
            environment.name,
            env=cdk.Environment(account=environment.account_id, region=environment.region),
        )
        # Every stack deploys through the roles `cdk bootstrap --qualifier` created in this account; set
        # before the stacks, whose synthesizers read it from their context.
        self.node.set_context(BOOTSTRAP_QUALIFIER_CONTEXT, environment.cross_account.bootstrap_qualifier)
        retain = environment.retain_stateful_resources
        removal_policy = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
        self.boundary: BoundaryStack | None = None
        boundary = environment.iam.permissions_boundary
        if boundary is not None and boundary.create:
            self.boundary = BoundaryStack(
                self,
                "Boundary",
                policy_name=naming.permissions_boundary_policy_name(environment.name),
                path=naming.role_path(environment),
                termination_protection=retain,
                description=f"SageMaker platform {environment.name}: permissions boundary of its roles",
            )
        serving_role_arns = [
            naming.role_arn(other, naming.serving_execution_role_name(other.name)) for other in served
        ]
        self.data = DataStack(
            self,
            "Data",
            environment_name=environment.name,
            artifact_bucket_name=artifact_bucket_name(environment),
            hosts_studio=environment.studio is not None,
            removal_policy=removal_policy,
            model_reader_role_arns=serving_role_arns,
            model_writer_role_arns=[naming.role_arn(environment, naming.pipeline_role_name(environment.name))]
            if environment.pipelines
            else [],
            data_bucket_name=naming.data_bucket_name(environment)
            if environment.pipelines or environment.notebook_jobs
            else None,
            capture_bucket_name=naming.capture_bucket_name(environment) if environment.serving else None,
            capture_retention_days=environment.serving.capture_retention_days if environment.serving else 90,
            termination_protection=retain,
            description=f"SageMaker platform {environment.name}: keys and buckets (stateful)",
        )
        self.network = NetworkStack(
            self,
            "Network",
            network=environment.network,
            logs_key=self.data.logs_key,
            removal_policy=removal_policy,
            experiments=environment.experiments is not None,
            description=f"SageMaker platform {environment.name}: isolated VPC, endpoints, flow logs",
        )
        self.images: ImagesStack | None = None
        self.image_build: ImageBuildStack | None = None
        if environment.images is not None:
            self.images = ImagesStack(
                self,
                "Images",
                environment_name=environment.name,
                images=environment.images,
                serving_role_arns=serving_role_arns,
                build_role_arn=naming.role_arn(environment, naming.image_build_role_name(environment.name)),
                removal_policy=removal_policy,
                termination_protection=retain,
                description=f"SageMaker platform {environment.name}: ECR repositories and Studio images",
            )
            self.image_build = ImageBuildStack(
                self,
                "ImageBuild",
                environment_name=environment.name,
                source_bucket_name=build_source_bucket_name(environment),
                build=environment.images.build,
                repositories=self.images.repositories,
                data_key=self.data.data_key,
                logs_key=self.data.logs_key,
                access_logs_bucket=self.data.access_logs_bucket,
                vpc=self.network.vpc,
                subnets=self.network.subnets,
                removal_policy=removal_policy,
                description=f"SageMaker platform {environment.name}: image builds (CodeBuild)",
            )
        # Disposable environments clear what blocks deletion (versions, running executions) on destroy.
        cleanup_logs_key = None if retain else self.data.logs_key
        self._add_promotion_path(
            environment, served, trusted, removal_policy, retain, cleanup_logs_key=cleanup_logs_key
        )
        # Derived from configuration: its clients are granted it without a reference to its stack.
        mlflow_arn = naming.mlflow_tracking_server_arn(environment) if environment.experiments else None
        self.pipelines: PipelinesStack | None = None
        if environment.pipelines:
            self.pipelines = PipelinesStack(
                self,
                "Pipelines",
                pipelines=environment.pipelines,
                pipeline_role_name=naming.pipeline_role_name(environment.name),
                artifact_bucket_name=naming.artifact_bucket_name(environment),
                data_bucket_name=naming.data_bucket_name(environment),
                data_key=self.data.data_key,
                vpc=self.network.vpc,
                subnets=self.network.subnets,
                removal_policy=removal_policy,
                mlflow_tracking_server_arn=mlflow_arn,
                cleanup_logs_key=cleanup_logs_key,
                description=f"SageMaker platform {environment.name}: pipelines from pipeline_defs/",
            )
            if self.registry is not None:
                # Model-build pipelines register into the registry's groups: they must exist first.
                self.pipelines.add_stack_dependency(self.registry)
        self._add_monitoring_and_serving(environment, trusted, removal_policy)
        self.experiments: ExperimentsStack | None = None
        if environment.experiments is not None:
            experiments = environment.experiments
            self.experiments = ExperimentsStack(
                self,
                "Experiments",
                tracking_server_name=naming.mlflow_tracking_server_name(environment.name),
                artifact_bucket_name=naming.artifact_bucket_name(environment),
                data_key=self.data.data_key,
                size=experiments.tracking_server_size,
                mlflow_version=experiments.mlflow_version,
                automatic_model_registration=experiments.automatic_model_registration,
                weekly_maintenance_window=experiments.weekly_maintenance_window,
                description=f"SageMaker platform {environment.name}: experiment tracking (MLflow)",
            )
        self.studio: dict[str, StudioStack] = {}
        if environment.studio is not None:
            assert self.data.studio_key is not None  # created because the environment hosts Studio
            for domain in environment.studio.domains:
                self.studio[domain.name] = StudioStack(
                    self,
                    f"Studio-{domain.name}",
                    domain=domain,
                    personas=dict(environment.studio.personas),
                    vpc=self.network.vpc,
                    subnets=self.network.subnets,
                    vpc_cidr=self.network.vpc_cidr,
                    artifact_bucket_name=artifact_bucket_name(environment),
                    data_key=self.data.data_key,
                    studio_key=self.data.studio_key,
                    logs_key=self.data.logs_key,
                    image_build=ImageBuildNames(
                        parameter_path=naming.image_build_parameter(environment.name, "").rstrip("/"),
                        source_bucket=naming.build_source_bucket_name(environment),
                        source_prefix=naming.BUILD_SOURCE_PREFIX,
                        project=naming.image_build_project_name(environment.name),
                        log_group=naming.image_build_log_group_name(environment.name),
                        repositories=[repository.name for repository in environment.images.repositories],
                    )
                    if environment.images is not None
                    else None,
                    mlflow_tracking_server_arn=mlflow_arn,
                    custom_images=[
                        (image.image_name, image.app_image_config_name)
                        for name, image in (self.images.studio_images if self.images else {}).items()
                        if name in domain.custom_images
                    ],
                    removal_policy=removal_policy,
                    termination_protection=retain,
                    description=f"SageMaker platform {environment.name}: Studio domain {domain.name}",
                )
                if self.images is not None and domain.custom_images:
                    # The domain names its images by name: their versions must exist first.
                    self.studio[domain.name].add_stack_dependency(self.images)
        self._add_notebook_jobs(environment, removal_policy, cleanup_logs_key)
        self._add_kubernetes(environment)
        self._apply_role_guardrails(environment)
        for key, value in naming.platform_tags(environment).items():
            cdk.Tags.of(self).add(key, value)

    def _add_notebook_jobs(
        self,
        environment: EnvironmentConfig,
        removal_policy: cdk.RemovalPolicy,
        cleanup_logs_key: kms.IKey | None,
    ) -> None:
        """Scheduled notebooks, after Studio: Studio's notebook-jobs view lists a job by its domain's ARN."""
        self.notebook_jobs: NotebookJobsStack | None = None
        if not environment.notebook_jobs:
            return
        studio_images = environment.images.studio_images if environment.images is not None else {}
        self.notebook_jobs = NotebookJobsStack(
            self,
            "NotebookJobs",
            notebook_jobs=environment.notebook_jobs,
            role_name=naming.notebook_job_role_name(environment.name),
            artifact_bucket_name=naming.artifact_bucket_name(environment),
            data_bucket_name=naming.data_bucket_name(environment),
            data_key=self.data.data_key,
            vpc=self.network.vpc,
            subnets=self.network.subnets,
            studio_image_uris={
                name: f"{environment.account_id}.dkr.ecr.{environment.region}.amazonaws.com/{name}"
                f"{repository.studio_image.reference}"
                for name, repository in studio_images.items()
                if repository.studio_image is not None
            },
            studio_domain_arns={name: stack.domain.domain_arn for name, stack in self.studio.items()},
            persona_roles={
                (run_as.domain, run_as.persona): PersonaJobRole(
                    role=self.studio[run_as.domain].persona_roles[run_as.persona].role,
                    security_group_id=self.studio[run_as.domain].security_group.security_group_id,
                    scratch_prefix=self.studio[run_as.domain].persona_roles[run_as.persona].scratch_prefix,
                )
                for run_as in (job.run_as for job in environment.notebook_jobs)
                if run_as is not None
            },
            removal_policy=removal_policy,
            cleanup_logs_key=cleanup_logs_key,
            description=f"SageMaker platform {environment.name}: scheduled notebooks (notebook jobs)",
        )
        if self.images is not None and any(job.image.studio_image for job in environment.notebook_jobs):
            # A platform Studio image is pulled from the environment's ECR repository.
            self.notebook_jobs.add_stack_dependency(self.images)

    def _add_kubernetes(self, environment: EnvironmentConfig) -> None:
        """The ACK SageMaker controller in the configured cluster, and the namespaces' resources."""
        self.kubernetes: KubernetesStack | None = None
        kubernetes = environment.kubernetes
        if kubernetes is None:
            return
        assert environment.studio is not None  # namespaces name personas (checked at load)
        # The deployed endpoints a namespace serves (pending versions wait, as CloudFormation's do).
        served = [
            ServedEndpoint(
                namespace=environment.kubernetes_endpoints[endpoint.name],
                endpoint=endpoint,
                model_package_arn=self._package_sources[endpoint.name].model_package_arn,
            )
            for endpoint in (environment.serving.deployed_endpoints if environment.serving else ())
            if endpoint.name in environment.kubernetes_endpoints
        ]
        endpoint_serving = None
        if served:
            assert self.monitoring is not None  # created for every deployed endpoint
            endpoint_serving = EndpointServing(
                serving_role_arn=naming.role_arn(
                    environment, naming.serving_execution_role_name(environment.name)
                ),
                capture_bucket_name=naming.capture_bucket_name(environment),
                alarm_topic=self.monitoring.topic,
                package_reader_role_name=naming.k8s_package_reader_role_name(environment.name),
            )
        self.kubernetes = KubernetesStack(
            self,
            "Kubernetes",
            environment_name=environment.name,
            kubernetes=kubernetes,
            personas=environment.studio.personas,
            role_arn_of={
                namespace.name: naming.role_arn(
                    environment, naming.ack_namespace_role_name(environment.name, namespace.name)
                )
                for namespace in kubernetes.namespaces
            },
            pipelines=environment.pipelines,
            definition_bodies=self.pipelines.definition_bodies if self.pipelines is not None else {},
            pipeline_role_arn=naming.role_arn(environment, naming.pipeline_role_name(environment.name)),
            artifact_bucket_name=naming.artifact_bucket_name(environment),
            data_key=self.data.data_key,
            logs_key=self.data.logs_key,
            vpc=self.network.vpc,
            subnets=self.network.subnets,
            retain=environment.retain_stateful_resources,
            served_endpoints=served,
            endpoint_serving=endpoint_serving,
            description=f"SageMaker platform {environment.name}: ACK SageMaker controller in EKS cluster "
            f"{kubernetes.cluster_name}",
        )
        if self.pipelines is not None:
            # The ACK pipelines run as the pipeline role, which the Pipelines stack creates.
            self.kubernetes.add_stack_dependency(self.pipelines)
        if served and self.serving is not None:
            # The served endpoints' models run as the serving role, whose capture grants that stack holds.
            self.kubernetes.add_stack_dependency(self.serving)

    def _apply_role_guardrails(self, environment: EnvironmentConfig) -> None:
        """Every role of the Stage, CDK's own included, gets the environment's path and boundary."""
        path = naming.role_path(environment)
        boundary_arn = naming.permissions_boundary_arn(environment)
        if self.boundary is not None:
            for stack in self.node.children:
                if isinstance(stack, cdk.Stack) and stack is not self.boundary:
                    stack.add_stack_dependency(
                        self.boundary, "its roles name the boundary policy, which must exist"
                    )
        if path != "/" or boundary_arn is not None:
            RoleGuardrails.apply(self, path=path, permissions_boundary_arn=boundary_arn)

    def _add_monitoring_and_serving(
        self,
        environment: EnvironmentConfig,
        trusted: Sequence[EnvironmentConfig],
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        """The alarm topic and dashboard wherever there is something to watch, and the endpoints."""
        name = environment.name
        serving = environment.serving
        self._package_sources: dict[str, PackageSource] = {}
        # Endpoints whose pinned version is not approved yet wait for a later deploy (first-deploy plan).
        endpoints = serving.deployed_endpoints if serving else ()
        # Scheduled notebooks are pipelines too: their failures alarm and they show on the dashboard.
        pipeline_names = [pipeline.name for pipeline in environment.pipelines] + [
            job.name for job in environment.notebook_jobs
        ]
        builds_models = any(pipeline.definition == "model_build" for pipeline in environment.pipelines)
        self.monitoring: MonitoringStack | None = None
        if not (endpoints or pipeline_names):
            return
        self.monitoring = MonitoringStack(
            self,
            "Monitoring",
            environment_name=name,
            alarm_emails=environment.alarms.emails,
            pipeline_names=pipeline_names,
            endpoints=[
                DashboardEndpoint(
                    name=endpoint.name,
                    variant_name=VARIANT_NAME,
                    on_instances=isinstance(endpoint.capacity, InstancesConfig),
                )
                for endpoint in endpoints
            ],
            training_metric_names=list(TRAINING_METRICS) if builds_models else [],
            removal_policy=removal_policy,
            description=f"SageMaker platform {name}: alarm topic, pipeline alarms, dashboard",
        )
        self.serving: ServingStack | None = None
        if not endpoints:
            return
        if self.serving_access is None:
            raise ValueError(
                f"{name}: serving needs trusted_environments (the serving roles) and a capture bucket"
            )
        sources = {other.name: other for other in trusted}
        package_sources = {
            endpoint.name: PackageSource(
                model_package_arn=naming.model_package_arn(
                    sources[endpoint.model_package.source],
                    endpoint.model_package.group,
                    endpoint.model_package.version,
                ),
                environment=endpoint.model_package.source,
                account_id=sources[endpoint.model_package.source].account_id,
            )
            for endpoint in endpoints
        }
        self._package_sources = package_sources
        monitor_image = model_monitor_image_uri(environment.region)
        registry_account = monitor_image.split(".", 1)[0]
        self.serving = ServingStack(
            self,
            "Serving",
            environment_name=name,
            config_file=f"config/{name}.yaml",
            endpoints=endpoints,
            package_sources=package_sources,
            execution_role=self.serving_access.execution_role,
            package_reader_role_name=naming.package_reader_role_name(name),
            monitor_image_uri=monitor_image,
            monitor_repository_arn=(
                f"arn:{naming.partition(environment)}:ecr:{environment.region}:{registry_account}:repository/"
                f"{MODEL_MONITOR_REPOSITORY}"
            ),
            capture_bucket_name=naming.capture_bucket_name(environment),
            data_key=self.data.data_key,
            logs_key=self.data.logs_key,
            vpc=self.network.vpc,
            subnets=self.network.subnets,
            topic=self.monitoring.topic,
            removal_policy=removal_policy,
            cloudformation_endpoints=environment.cloudformation_endpoints,
            description=f"SageMaker platform {name}: endpoints, autoscaling, data capture, monitoring",
        )

    def _add_promotion_path(
        self,
        environment: EnvironmentConfig,
        served: Sequence[EnvironmentConfig],
        trusted: Sequence[EnvironmentConfig],
        removal_policy: cdk.RemovalPolicy,
        retain: bool,
        *,
        cleanup_logs_key: kms.IKey | None,
    ) -> None:
        """The registry and promotion side (where models come from) and the serving side (where they go)."""
        name = environment.name
        self.registry: RegistryStack | None = None
        if environment.model_registry is not None:
            self.registry = RegistryStack(
                self,
                "Registry",
                registry=environment.model_registry,
                reader_role_arns=[
                    arn
                    for other in served
                    for arn in (
                        naming.role_arn(other, naming.serving_execution_role_name(other.name)),
                        naming.role_arn(other, naming.deployment_role_name(other.name)),
                        # Deploying an endpoint reads the pinned package: its approval and baseline
                        # (the reader) and its containers (CloudFormation's CreateModel, whose role
                        # `cdk bootstrap` created, outside the platform's role path).
                        naming.role_arn(other, naming.package_reader_role_name(other.name)),
                        naming.cloudformation_execution_role_arn(other),
                        # Endpoints served from Kubernetes: the gate's reader, and the namespaces' roles
                        # that create their models (ADR 0017).
                        *_kubernetes_package_readers(other),
                    )
                ],
                served_accounts=[other.account_id for other in served],
                removal_policy=removal_policy,
                cleanup_logs_key=cleanup_logs_key,
                termination_protection=retain,
                description=f"SageMaker platform {name}: model registry (stateful)",
            )
        self.promotion: PromotionStack | None = None
        if environment.model_registry is not None or served:
            self.promotion = PromotionStack(
                self,
                "Promotion",
                registry=environment.model_registry,
                promotion_role_name=naming.promotion_role_name(name) if served else None,
                deployment_role_arns=[
                    naming.role_arn(other, naming.deployment_role_name(other.name)) for other in served
                ],
                served_bus_arns=[
                    f"arn:aws:events:{other.region}:{other.account_id}:event-bus/default" for other in served
                ],
                artifact_bucket_name=naming.artifact_bucket_name(environment),
                data_key=self.data.data_key,
                logs_key=self.data.logs_key,
                vpc=self.network.vpc,
                subnets=self.network.subnets,
                removal_policy=removal_policy,
                description=f"SageMaker platform {name}: approval guard, model events, promotion role",
            )
        self.serving_access: ServingAccessStack | None = None
        if trusted:
            self.serving_access = ServingAccessStack(
                self,
                "ServingAccess",
                execution_role_name=naming.serving_execution_role_name(name),
                deployment_role_name=naming.deployment_role_name(name),
                sources=[_model_source(other) for other in trusted],
                source_names=[other.name for other in trusted],
                promotion_role_arns=[
                    naming.role_arn(other, naming.promotion_role_name(other.name)) for other in trusted
                ],
                model_package_arns=[arn for other in trusted for arn in _model_package_arns(other)],
                external_id=environment.cross_account.external_id,
                organization_id=environment.cross_account.organization_id,
                description=f"SageMaker platform {name}: serving and deployment roles for trusted sources",
            )


def _kubernetes_package_readers(environment: EnvironmentConfig) -> list[str]:
    """The roles of a served environment's Kubernetes stack that read pinned packages, if it serves any
    endpoint from a namespace."""
    namespaces = sorted(set(environment.kubernetes_endpoints.values()))
    if not namespaces:
        return []
    return [
        naming.role_arn(environment, naming.k8s_package_reader_role_name(environment.name)),
        *(
            naming.role_arn(environment, naming.ack_namespace_role_name(environment.name, namespace))
            for namespace in namespaces
        ),
    ]


def _model_source(environment: EnvironmentConfig) -> ModelSource:
    return ModelSource(
        account_id=environment.account_id,
        region=environment.region,
        artifact_bucket_name=naming.artifact_bucket_name(environment),
        model_prefix=naming.MODEL_ARTIFACT_PREFIX,
        key_aliases=[
            naming.key_alias(environment.name, "data"),
            naming.key_alias(environment.name, "images"),
        ],
        repository_names=[r.name for r in environment.images.repositories] if environment.images else [],
    )


def _model_package_arns(environment: EnvironmentConfig) -> list[str]:
    """The source's groups and their versions, which its group policies let the serving roles read."""
    if environment.model_registry is None:
        return []
    prefix = f"arn:aws:sagemaker:{environment.region}:{environment.account_id}"
    return [
        arn
        for group in environment.model_registry.groups
        for arn in (
            f"{prefix}:model-package-group/{group.name}",
            # SageMaker writes the group's name lower-cased in its versions' ARNs.
            *(f"{prefix}:model-package/{name}/*" for name in sorted({group.name, group.name.lower()})),
        )
    ]


def read_cdk_context(cdk_json: Path) -> dict[str, Any]:
    """The context of cdk.json (feature flags), so tests build the templates that are deployed."""
    context: dict[str, Any] = json.loads(cdk_json.read_text())["context"]
    return context


def build_app(
    platform: PlatformConfig,
    *,
    environments: Iterable[str] | None = None,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
) -> tuple[cdk.App, dict[str, PlatformStage]]:
    """The app `app.py` synthesizes: one Stage per environment, checked by the cdk-nag packs, the
    creation-order check, the reachability check and CDK's template validator (in its own Node process,
    cached by template content: synth_checks/template_validation.py)."""
    # CDK's template validator runs in a Node process of its own, its verdicts kept by template content
    # (synth_checks/template_validation.py): about half of a synth's CPU otherwise. Never build the validator
    # inside a jsii callback: a cached wrapper did, and long-lived test workers hung there (2026-12-07).
    validate = template_validation.enabled()
    app = cdk.App(
        context=dict(context) if context is not None else None,
        outdir=outdir,
        builtin_cloud_formation_validation=False if validate else None,
    )
    selected = (
        platform.select(environments) if environments is not None else tuple(platform.environments.values())
    )
    stages = {
        environment.name: PlatformStage(
            app,
            environment=environment,
            served=[platform.environments[name] for name in environment.serves_environments],
            trusted=[platform.environments[name] for name in environment.trusted_environments],
        )
        for environment in selected
    }
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app),
        NIST80053R5Checks(app),
        CreationOrderChecks(),
        ReachabilityChecks(),
        *([template_validation.CachedTemplateValidation()] if validate else []),
    )
    return app, stages
