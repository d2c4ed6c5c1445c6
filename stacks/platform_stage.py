"""The composition of one environment (a Stage named after it) and of the whole app."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import Construct

from constructs_lib.serving_execution_role import ModelSource
from platform_config import EnvironmentConfig, PlatformConfig, naming
from platform_config.naming import artifact_bucket_name, build_source_bucket_name
from stacks.data_stack import DataStack
from stacks.image_build_stack import ImageBuildStack
from stacks.images_stack import ImagesStack
from stacks.network_stack import NetworkStack
from stacks.pipelines_stack import PipelinesStack
from stacks.promotion_stack import PromotionStack
from stacks.registry_stack import RegistryStack
from stacks.serving_access_stack import ServingAccessStack
from stacks.studio_stack import ImageBuildNames, StudioStack

PROJECT_TAG = "sagemaker-mlops-platform"


class PlatformStage(cdk.Stage):
    """Every stack of one environment, deployed with `cdk deploy '<environment>/*'`.

    Exposes `data`, `network`, `images` and `image_build` (where images are configured), and `studio`
    (one stack per Studio domain, keyed by domain name), `registry`, `promotion` and `serving_access`.
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
        retain = environment.retain_stateful_resources
        removal_policy = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
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
            data_bucket_name=naming.data_bucket_name(environment) if environment.pipelines else None,
            termination_protection=retain,
            description=f"SageMaker platform {environment.name}: keys and buckets (stateful)",
        )
        self.network = NetworkStack(
            self,
            "Network",
            network=environment.network,
            logs_key=self.data.logs_key,
            removal_policy=removal_policy,
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
        self._add_promotion_path(environment, served, trusted, removal_policy, retain)
        self.pipelines: PipelinesStack | None = None
        if environment.pipelines:
            self.pipelines = PipelinesStack(
                self,
                "Pipelines",
                pipelines=environment.pipelines,
                artifact_bucket_name=naming.artifact_bucket_name(environment),
                data_bucket_name=naming.data_bucket_name(environment),
                data_key=self.data.data_key,
                vpc=self.network.vpc,
                subnets=self.network.subnets,
                removal_policy=removal_policy,
                description=f"SageMaker platform {environment.name}: pipelines from pipeline_defs/",
            )
            if self.registry is not None:
                # Model-build pipelines register into the registry's groups: they must exist first.
                self.pipelines.add_stack_dependency(self.registry)
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
        for key, value in {
            "project": PROJECT_TAG,
            "environment": environment.name,
            **environment.tags,
        }.items():
            cdk.Tags.of(self).add(key, value)

    def _add_promotion_path(
        self,
        environment: EnvironmentConfig,
        served: Sequence[EnvironmentConfig],
        trusted: Sequence[EnvironmentConfig],
        removal_policy: cdk.RemovalPolicy,
        retain: bool,
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
                    naming.role_arn(other, role)
                    for other in served
                    for role in (
                        naming.serving_execution_role_name(other.name),
                        naming.deployment_role_name(other.name),
                    )
                ],
                served_accounts=[other.account_id for other in served],
                removal_policy=removal_policy,
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
    """The app `app.py` synthesizes: one Stage per environment, checked by the cdk-nag packs."""
    app = cdk.App(context=dict(context) if context is not None else None, outdir=outdir)
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
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app))
    return app, stages
