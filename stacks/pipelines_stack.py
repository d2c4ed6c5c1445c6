"""The SageMaker pipelines of one environment, rendered from pipeline_defs/ at synth."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

import pipeline_defs
from constructs_lib.experiments.mlflow_tracking_server import grant_tracking_server_access
from constructs_lib.pipelines.pipeline_failure_alerts import PipelineFailureAlerts
from constructs_lib.pipelines.pipeline_role import PipelineRole
from constructs_lib.pipelines.pipeline_triggers import PipelineTriggers
from constructs_lib.pipelines.sagemaker_pipeline import SageMakerPipeline
from constructs_lib.shared.disposable_cleanup import DisposableCleanup
from constructs_lib.shared.job_guardrails import JobNetwork
from constructs_lib.shared.job_security_group import JobSecurityGroup
from pipeline_defs.context import (
    PLACEHOLDER_BUCKET,
    PLACEHOLDER_CODE_BUCKET,
    PLACEHOLDER_KMS_KEY_ARN,
    PLACEHOLDER_ROLE_ARN,
    PLACEHOLDER_SECURITY_GROUP_ID,
    placeholder_subnet_id,
    splice,
)
from platform_config.models import PipelineConfig


def _require_trigger_parameters(config: PipelineConfig, body: str) -> None:
    """A data trigger passes every TRIGGER_PARAMETERS entry, and StartPipelineExecution fails on a
    parameter the definition does not declare: refuse that at synth, not at the first upload."""
    declared = {parameter["Name"] for parameter in json.loads(body).get("Parameters", [])}
    missing = sorted(set(pipeline_defs.TRIGGER_PARAMETERS) - declared)
    if missing:
        raise ValueError(
            f"pipelines[{config.name}].trigger.data_prefix: the {config.definition} definition does not "
            f"declare {', '.join(missing)}, which a new-data trigger passes; remove trigger.data_prefix or "
            "declare them (pipeline_defs.input_data)"
        )


# What a placeholder of these definitions contains: one left after the splice fails the synth.
LEFTOVER_MARKERS = (PLACEHOLDER_BUCKET, PLACEHOLDER_CODE_BUCKET, "__PIPELINE_", "__DATA_KEY__", "__REGION__")


class PipelinesStack(Stack):
    """Each configured pipeline as `AWS::SageMaker::Pipeline`: its DAG rendered by pipeline_defs with
    placeholders, the placeholders replaced by this environment's role, buckets, key, subnets and the step
    scripts' assets. Triggers from new data and schedules; failures published. Replaceable: changing a step
    script changes this stack only. Exposes `pipelines` and `definition_bodies` (the deployed bodies, tokens
    spliced in: the Kubernetes stack applies the same strings as ACK pipelines) by name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipelines: Sequence[PipelineConfig],
        pipeline_role_name: str,
        artifact_bucket_name: str,
        data_bucket_name: str,
        data_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        removal_policy: RemovalPolicy,
        mlflow_tracking_server_arn: str | None = None,
        cleanup_logs_key: kms.IKey | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        artifact_bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactBucket", bucket_name=artifact_bucket_name, encryption_key=data_key
        )
        data_bucket = s3.Bucket.from_bucket_attributes(
            self, "DataBucket", bucket_name=data_bucket_name, encryption_key=data_key
        )
        security_group = JobSecurityGroup(
            self, "JobSecurityGroup", vpc=vpc, description="Jobs of the platform pipelines"
        ).security_group
        role = PipelineRole(
            self,
            "PipelineRole",
            role_name=pipeline_role_name,
            artifact_bucket=artifact_bucket,
            data_bucket=data_bucket,
            model_package_groups=sorted({p.model_package_group for p in pipelines if p.model_package_group}),
            job_network=JobNetwork(
                subnet_ids=[subnet.subnet_id for subnet in subnets],
                security_group_id=security_group.security_group_id,
            ),
            data_key_arn=data_key.key_arn,
        )
        if mlflow_tracking_server_arn is not None:
            # Pipeline jobs log their runs to the environment's MLflow tracking server.
            grant_tracking_server_access(role.policy, mlflow_tracking_server_arn)
        tokens = {
            PLACEHOLDER_ROLE_ARN: role.role.role_arn,
            PLACEHOLDER_KMS_KEY_ARN: data_key.key_arn,
            PLACEHOLDER_SECURITY_GROUP_ID: security_group.security_group_id,
            **{placeholder_subnet_id(index): subnet.subnet_id for index, subnet in enumerate(subnets)},
        }
        self.pipelines: dict[str, SageMakerPipeline] = {}
        self.definition_bodies: dict[str, str] = {}
        for config in pipelines:
            code_uris: dict[str, str] = {}
            for script_name, path in sorted(pipeline_defs.script_paths(config.definition).items()):
                asset = s3_assets.Asset(self, f"{config.name}-{script_name}", path=str(path))
                # This one object of the assets bucket, not the bucket.
                role.grant_code_read(asset.bucket, asset.s3_object_key)
                code_uris[script_name] = f"s3://{PLACEHOLDER_CODE_BUCKET}/{asset.s3_object_key}"
                tokens[PLACEHOLDER_CODE_BUCKET] = asset.s3_bucket_name
            body = pipeline_defs.render_cached(
                config.definition,
                pipeline_defs.RenderContext(
                    region=self.region,
                    role_arn=PLACEHOLDER_ROLE_ARN,
                    # The buckets have fixed names: literal, no placeholder needed.
                    bucket=artifact_bucket_name,
                    data_bucket=data_bucket_name,
                    code_uris=code_uris,
                    model_package_group=config.model_package_group,
                    cache_expire_after=config.cache_expire_after,
                    kms_key_id=PLACEHOLDER_KMS_KEY_ARN,
                    subnet_ids=[placeholder_subnet_id(index) for index in range(len(subnets))],
                    security_group_ids=[PLACEHOLDER_SECURITY_GROUP_ID],
                    # A fixed name, derived from configuration: literal, no placeholder needed.
                    mlflow_tracking_server_arn=mlflow_tracking_server_arn,
                ),
                pipeline_name=config.name,
            )
            self.definition_bodies[config.name] = splice(
                body, tokens, leftover_markers=LEFTOVER_MARKERS, definition=config.name
            )
            self.pipelines[config.name] = SageMakerPipeline(
                self,
                f"Pipeline-{config.name}",
                pipeline_name=config.name,
                description=config.description,
                definition_body=self.definition_bodies[config.name],
                role=role.role,
                max_parallel_steps=config.max_parallel_steps,
            )
            # SageMaker checks the role's permissions when the pipeline is created: its policy first.
            for policy in role.policies:
                self.pipelines[config.name].node.add_dependency(policy)
            if config.trigger.data_prefix is not None:
                _require_trigger_parameters(config, body)
            if config.trigger.data_prefix or config.trigger.schedule:
                triggers = PipelineTriggers(
                    self,
                    f"Triggers-{config.name}",
                    pipeline_name=config.name,
                    pipeline_arn=self.pipelines[config.name].arn,
                    data_bucket=data_bucket,
                    data_prefix=config.trigger.data_prefix,
                    schedule=config.trigger.schedule,
                    event_parameters=pipeline_defs.TRIGGER_PARAMETERS,
                )
                # The rules target the pipeline by its ARN (from configuration): it must exist first.
                triggers.node.add_dependency(self.pipelines[config.name])
        if cleanup_logs_key is not None and self.pipelines:
            # A disposable environment: SageMaker deletes a pipeline only once no execution runs.
            clearing = DisposableCleanup(self, "Cleanup", logs_key=cleanup_logs_key)
            for name, pipeline in self.pipelines.items():
                clearing.stop_pipeline_executions(pipeline, name)
        if self.pipelines:
            PipelineFailureAlerts(
                self,
                "FailureAlerts",
                pipeline_arns=[pipeline.arn for pipeline in self.pipelines.values()],
                removal_policy=removal_policy,
            )
