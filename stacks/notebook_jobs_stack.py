"""Scheduled notebooks of one environment: each a SageMaker pipeline of one notebook job."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from constructs_lib.pipelines.notebook_job_schedule import NotebookJobSchedule
from constructs_lib.pipelines.pipeline_failure_alerts import PipelineFailureAlerts
from constructs_lib.pipelines.pipeline_role import PipelineRole
from constructs_lib.pipelines.sagemaker_pipeline import SageMakerPipeline
from constructs_lib.shared.disposable_cleanup import DisposableCleanup
from constructs_lib.shared.job_guardrails import JobNetwork
from constructs_lib.shared.job_security_group import JobSecurityGroup
from pipeline_defs import RenderContext
from pipeline_defs.context import splice
from pipeline_defs.notebook_job import OUTPUT_PREFIX, UNPACK_SCRIPT, NotebookJobSpec, render_cached
from platform_config.models import NotebookJobConfig
from platform_config.sagemaker_images import sagemaker_distribution_image_uri

# Placeholders rendered into the definitions and replaced by CDK tokens (which become Fn::Join).
ROLE_PLACEHOLDER = "arn:aws:iam::000000000000:role/__NOTEBOOK_JOB_ROLE__"
CODE_BUCKET_PLACEHOLDER = "__NOTEBOOK_ASSETS_BUCKET__"
KEY_PLACEHOLDER = "arn:aws:kms:__REGION__:000000000000:key/__NOTEBOOK_DATA_KEY__"
SECURITY_GROUP_PLACEHOLDER = "sg-__NOTEBOOK_JOB_SECURITY_GROUP__"
PLACEHOLDER_MARKERS = ("__NOTEBOOK_", "__REGION__", "__STUDIO_DOMAIN_")


@dataclass(frozen=True)
class PersonaJobRole:
    """A Studio persona's execution role in one domain, as a notebook job run as it needs it: the role, the
    domain's security group (the persona's jobs must use it) and the persona's scratch prefix (the only
    part of the artifact bucket it writes)."""

    role: iam.IRole
    security_group_id: str
    scratch_prefix: str


def _subnet_placeholder(index: int) -> str:
    return f"subnet-__NOTEBOOK_JOB_SUBNET_{index}__"


def _domain_placeholder(domain: str) -> str:
    return f"arn:aws:sagemaker:__REGION__:000000000000:domain/__STUDIO_DOMAIN_{domain}__"


class NotebookJobsStack(Stack):
    """Each configured notebook job as `AWS::SageMaker::Pipeline` whose one step is a notebook job
    (pipeline_defs.notebook_job): the notebook shipped as a content-hashed asset, run as the environment's
    notebook job role in the platform's subnets and a security group of its own, volume and output under
    the data key, the executed notebook written to the artifact bucket. Scheduled by EventBridge where
    configured; failed executions published like the platform pipelines'. Replaceable. Exposes `pipelines`
    by name, `role` and `job_roles` (the role each job runs as, by name).

    A job with `run_as` runs as that persona's execution role (`persona_roles`, by (domain, persona))
    instead: in the domain's security group, its output under the persona's scratch prefix, and with a
    managed policy of this stack that lets the role read the job's notebook asset (nothing else is added
    to the persona: the job may do what the persona may).

    `studio_domain_arns` maps a Studio domain's name to its ARN (a token of its Studio stack) for the jobs
    that Studio's notebook-jobs view should list.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        notebook_jobs: Sequence[NotebookJobConfig],
        role_name: str,
        artifact_bucket_name: str,
        data_bucket_name: str,
        data_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        studio_image_uris: Mapping[str, str],
        studio_domain_arns: Mapping[str, str],
        removal_policy: RemovalPolicy,
        persona_roles: Mapping[tuple[str, str], PersonaJobRole] | None = None,
        cleanup_logs_key: kms.IKey | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if not notebook_jobs:
            raise ValueError("NotebookJobsStack needs at least one notebook job")
        artifact_bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactBucket", bucket_name=artifact_bucket_name, encryption_key=data_key
        )
        data_bucket = s3.Bucket.from_bucket_attributes(
            self, "DataBucket", bucket_name=data_bucket_name, encryption_key=data_key
        )
        security_group = JobSecurityGroup(
            self, "JobSecurityGroup", vpc=vpc, description="Scheduled notebook jobs"
        ).security_group
        # The pipeline role's guardrails, for a role of its own: training jobs only in the platform's
        # subnets and security group, volumes and outputs under the data key, passing only itself.
        role = PipelineRole(
            self,
            "Role",
            role_name=role_name,
            artifact_bucket=artifact_bucket,
            data_bucket=data_bucket,
            model_package_groups=[],
            job_network=JobNetwork(
                subnet_ids=[subnet.subnet_id for subnet in subnets],
                security_group_id=security_group.security_group_id,
            ),
            data_key_arn=data_key.key_arn,
        )
        self.role = role.role
        self.job_roles: dict[str, iam.IRole] = {}
        tokens = {
            KEY_PLACEHOLDER: data_key.key_arn,
            **{_subnet_placeholder(index): subnet.subnet_id for index, subnet in enumerate(subnets)},
            **{_domain_placeholder(domain): arn for domain, arn in studio_domain_arns.items()},
        }
        context = RenderContext(
            region=self.region,
            role_arn=ROLE_PLACEHOLDER,
            # The buckets have fixed names: literal, no placeholder needed.
            bucket=artifact_bucket_name,
            data_bucket=data_bucket_name,
            kms_key_id=KEY_PLACEHOLDER,
            subnet_ids=[_subnet_placeholder(index) for index in range(len(subnets))],
            security_group_ids=[SECURITY_GROUP_PLACEHOLDER],
        )
        self.pipelines: dict[str, SageMakerPipeline] = {}
        for job in notebook_jobs:
            asset, files = self._ship(job)
            inputs = [asset, *(files or ())]
            if job.run_as is None:
                job_role: iam.IRole = role.role
                # This job's objects of the assets bucket, not the bucket, in the role's code policies.
                for staged in inputs:
                    role.grant_code_read(staged.bucket, staged.s3_object_key)
                role_policies = role.policies
                security_group_id = security_group.security_group_id
                output_prefix = OUTPUT_PREFIX
            else:
                persona = (persona_roles or {}).get((job.run_as.domain, job.run_as.persona))
                if persona is None:
                    raise ValueError(
                        f"notebook job {job.name} runs as persona {job.run_as.persona} of domain "
                        f"{job.run_as.domain}, but persona_roles has no such role"
                    )
                job_role = persona.role
                persona_policy = iam.ManagedPolicy(self, f"{job.name}-PersonaAccess", roles=[persona.role])
                _grant_persona_reads(persona_policy, inputs)
                role_policies = [persona_policy]
                security_group_id = persona.security_group_id
                output_prefix = f"{persona.scratch_prefix}/{OUTPUT_PREFIX}"
            tokens[CODE_BUCKET_PLACEHOLDER] = asset.s3_bucket_name
            tokens[ROLE_PLACEHOLDER] = job_role.role_arn
            tokens[SECURITY_GROUP_PLACEHOLDER] = security_group_id
            self.job_roles[job.name] = job_role
            view = job.studio_view
            spec = NotebookJobSpec(
                notebook=job.notebook_path,
                staged_notebook_uri=f"s3://{CODE_BUCKET_PLACEHOLDER}/{asset.s3_object_key}",
                image_uri=self._image_uri(job, studio_image_uris),
                kernel_name=job.image.kernel_name,
                instance_type=job.instance_type,
                parameters=job.parameters,
                max_runtime_seconds=job.max_runtime_minutes * 60,
                volume_size_gb=job.volume_size_gb,
                studio_domain_arn=_domain_placeholder(view.domain) if view is not None else None,
                studio_user_profile=view.user_profile if view is not None else None,
                description=job.description or None,
                output_prefix=output_prefix,
                staged_files_uri=f"s3://{CODE_BUCKET_PLACEHOLDER}/{files[0].s3_object_key}"
                if files
                else None,
                staged_unpack_script_uri=f"s3://{CODE_BUCKET_PLACEHOLDER}/{files[1].s3_object_key}"
                if files
                else None,
            )
            body = render_cached(context=context, name=job.name, spec=spec)
            pipeline = SageMakerPipeline(
                self,
                f"Pipeline-{job.name}",
                pipeline_name=job.name,
                description=job.description,
                definition_body=splice(
                    body, tokens, leftover_markers=PLACEHOLDER_MARKERS, definition=f"notebook job {job.name}"
                ),
                role=job_role,
                max_parallel_steps=1,
            )
            # SageMaker checks the role's permissions when the pipeline is created: its policy first.
            for policy in role_policies:
                pipeline.node.add_dependency(policy)
            self.pipelines[job.name] = pipeline
            if job.schedule is not None:
                schedule = NotebookJobSchedule(
                    self,
                    f"Schedule-{job.name}",
                    pipeline_name=job.name,
                    pipeline_arn=pipeline.arn,
                    schedule=job.schedule,
                )
                # The rule targets the pipeline by its ARN (from configuration): it must exist first.
                schedule.node.add_dependency(pipeline)
        if cleanup_logs_key is not None:
            # A disposable environment: SageMaker deletes a pipeline only once no execution runs.
            clearing = DisposableCleanup(self, "Cleanup", logs_key=cleanup_logs_key)
            for name, pipeline in self.pipelines.items():
                clearing.stop_pipeline_executions(pipeline, name)
        PipelineFailureAlerts(
            self,
            "FailureAlerts",
            pipeline_arns=[pipeline.arn for pipeline in self.pipelines.values()],
            removal_policy=removal_policy,
        )

    def _ship(self, job: NotebookJobConfig) -> tuple[s3_assets.Asset, tuple[s3_assets.Asset, ...] | None]:
        """The notebook's asset; and the rest of its folder as a zip (a directory asset) with the script that
        unpacks it next to the notebook in the job, where the folder has more: content-hashed like the
        notebook, nothing copied at deploy."""
        notebook = s3_assets.Asset(self, f"{job.name}-notebook", path=str(job.notebook_path))
        if not job.notebook_files:
            return notebook, None
        files = s3_assets.Asset(
            self,
            f"{job.name}-files",
            path=str(job.notebook_path.parent),
            exclude=list(job.notebook_files_excluded),
        )
        unpack = s3_assets.Asset(self, f"{job.name}-unpack", path=str(UNPACK_SCRIPT))
        return notebook, (files, unpack)

    def _image_uri(self, job: NotebookJobConfig, studio_image_uris: Mapping[str, str]) -> str:
        if job.image.sagemaker_distribution is not None:
            return sagemaker_distribution_image_uri(self.region, job.image.sagemaker_distribution)
        assert job.image.studio_image is not None  # one of the two, by the configuration's validation
        return studio_image_uris[job.image.studio_image]


def _grant_persona_reads(policy: iam.ManagedPolicy, inputs: Sequence[s3_assets.Asset]) -> None:
    """Let a persona's role read the job's input channels' objects (not the assets bucket)."""
    # Exactly what SageMaker does for each channel with a persona's role: list the prefix (the object's key)
    # and read the object; no action groups in a policy on a person's role.
    policy.add_statements(
        iam.PolicyStatement(
            sid="ReadNotebook",
            actions=["s3:GetObject"],
            resources=[staged.bucket.arn_for_objects(staged.s3_object_key) for staged in inputs],
        ),
        iam.PolicyStatement(
            sid="ListNotebook",
            actions=["s3:ListBucket"],
            resources=[inputs[0].bucket.bucket_arn],
            conditions={"StringEquals": {"s3:prefix": [staged.s3_object_key for staged in inputs]}},
        ),
    )
