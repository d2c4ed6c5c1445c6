"""The composition of one environment (a Stage named after it) and of the whole app."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import Construct

from platform_config import EnvironmentConfig, PlatformConfig
from platform_config.naming import artifact_bucket_name
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack
from stacks.studio_stack import StudioStack

PROJECT_TAG = "sagemaker-mlops-platform"


class PlatformStage(cdk.Stage):
    """Every stack of one environment, deployed with `cdk deploy '<environment>/*'`.

    Exposes `data`, `network` and `studio` (one stack per Studio domain, keyed by domain name).
    """

    def __init__(self, scope: Construct, *, environment: EnvironmentConfig) -> None:
        super().__init__(
            scope,
            environment.name,
            env=cdk.Environment(account=environment.account_id, region=environment.region),
        )
        retain = environment.retain_stateful_resources
        removal_policy = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
        self.data = DataStack(
            self,
            "Data",
            environment_name=environment.name,
            artifact_bucket_name=artifact_bucket_name(environment),
            hosts_studio=environment.studio is not None,
            removal_policy=removal_policy,
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
                    removal_policy=removal_policy,
                    termination_protection=retain,
                    description=f"SageMaker platform {environment.name}: Studio domain {domain.name}",
                )
        for key, value in {
            "project": PROJECT_TAG,
            "environment": environment.name,
            **environment.tags,
        }.items():
            cdk.Tags.of(self).add(key, value)


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
    stages = {environment.name: PlatformStage(app, environment=environment) for environment in selected}
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app))
    return app, stages
