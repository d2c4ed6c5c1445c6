"""The SageMaker execution role of one Studio persona, scoped to the platform's own resources."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.experiments.mlflow_tracking_server import grant_tracking_server_access
from constructs_lib.shared.compliance import (
    BUCKET_PUT_GRANT_ACTIONS,
    KEY_ENCRYPT_GRANT_ACTIONS,
    READ_WRITE_GRANT_ACTIONS,
    acknowledge_wildcard_actions,
    acknowledge_wildcard_resource,
)
from constructs_lib.shared.job_guardrails import (
    SAGEMAKER_NETWORK_DESCRIBE_ACTIONS,
    SAGEMAKER_NETWORK_INTERFACE_ACTIONS,
    JobNetwork,
    encrypted_with,
    pass_role_to_sagemaker,
)

# The tag SageMaker puts on what is created from a Studio domain, with the domain's ARN as its value.
DOMAIN_TAG = "sagemaker:domain-arn"


class PersonaCapability(enum.Enum):
    """What a persona may do beyond using Studio and the platform's data."""

    JOBS = "jobs"  # training, processing, transform and tuning jobs, in the VPC, on allowed instances
    EXPERIMENTS = "experiments"  # experiments, trials and trial components
    PIPELINES = "pipelines"  # start, stop and inspect pipeline executions (definitions are deployed by CDK)
    MODEL_REGISTRY = "model_registry"  # register model versions and read the registry
    MODEL_APPROVAL = "model_approval"  # change the approval status of model versions (the quality gate)
    ENDPOINTS = "endpoints"  # models, endpoint configs and endpoints for testing in this environment
    IMAGE_BUILDS = "image_builds"  # run `mlplatform build-image` (upload, build, follow the log)
    # Studio's notebook jobs: run now and on schedules (training jobs, pipelines and EventBridge rules that
    # carry the notebook-job tags), under the same guardrails as `jobs`
    NOTEBOOK_JOBS = "notebook_jobs"


# A capability whose grants share another's managed policy: IAM attaches at most ten managed policies to a
# role by default, and a persona with every capability would need eleven. `model_approval` (one statement)
# always comes with `model_registry`.
_POLICY_OF: Mapping[PersonaCapability, PersonaCapability] = {
    PersonaCapability.MODEL_APPROVAL: PersonaCapability.MODEL_REGISTRY
}

# Resource types of this account and region that each capability creates and manages.
_CAPABILITY_RESOURCES: Mapping[PersonaCapability, Sequence[str]] = {
    PersonaCapability.JOBS: ("training-job", "processing-job", "transform-job", "hyper-parameter-tuning-job"),
    PersonaCapability.EXPERIMENTS: ("experiment", "experiment-trial", "experiment-trial-component"),
    PersonaCapability.PIPELINES: ("pipeline",),
    PersonaCapability.MODEL_REGISTRY: ("model-package", "model-package-group"),
    PersonaCapability.MODEL_APPROVAL: ("model-package",),
    PersonaCapability.ENDPOINTS: ("model", "endpoint-config", "endpoint"),
}

_CAPABILITY_ACTIONS: Mapping[PersonaCapability, Sequence[str]] = {
    PersonaCapability.JOBS: (
        "sagemaker:DescribeTrainingJob",
        "sagemaker:StopTrainingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:StopProcessingJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:StopTransformJob",
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:AddTags",
    ),
    PersonaCapability.EXPERIMENTS: (
        "sagemaker:CreateExperiment",
        "sagemaker:UpdateExperiment",
        "sagemaker:DescribeExperiment",
        "sagemaker:CreateTrial",
        "sagemaker:UpdateTrial",
        "sagemaker:DescribeTrial",
        "sagemaker:CreateTrialComponent",
        "sagemaker:UpdateTrialComponent",
        "sagemaker:DescribeTrialComponent",
        "sagemaker:AssociateTrialComponent",
        "sagemaker:DisassociateTrialComponent",
        "sagemaker:BatchPutMetrics",
        "sagemaker:AddTags",
    ),
    PersonaCapability.PIPELINES: (
        "sagemaker:DescribePipeline",
        "sagemaker:DescribePipelineDefinitionForExecution",
        "sagemaker:DescribePipelineExecution",
        "sagemaker:ListPipelineExecutions",
        "sagemaker:ListPipelineExecutionSteps",
        "sagemaker:ListPipelineParametersForExecution",
        "sagemaker:StartPipelineExecution",
        "sagemaker:StopPipelineExecution",
        "sagemaker:RetryPipelineExecution",
    ),
    PersonaCapability.MODEL_REGISTRY: (
        "sagemaker:CreateModelPackage",
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:ListModelPackages",
        "sagemaker:AddTags",
    ),
    PersonaCapability.MODEL_APPROVAL: ("sagemaker:UpdateModelPackage",),
    # CreateModel and CreateEndpointConfig are granted apart, with conditions (_allow_endpoints).
    PersonaCapability.ENDPOINTS: (
        "sagemaker:DescribeModel",
        "sagemaker:DeleteModel",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:InvokeEndpoint",
        "sagemaker:AddTags",
    ),
}

# The tags that mark a training job, pipeline or rule as a notebook job's: Studio's scheduler puts the first
# on everything it creates (run now: a training job; a schedule: a pipeline and an EventBridge rule), the
# SDK's NotebookJobStep (the platform's scheduled notebooks) the second on the training job.
SCHEDULER_TAG = "sagemaker:is-scheduling-notebook-job"
NOTEBOOK_JOB_TAGS: Mapping[str, str] = {
    SCHEDULER_TAG: "true",
    "sagemaker:notebook-job-origin": "PIPELINE_STEP",
}
# Where the scheduler downloads the headless execution driver for images that lack it (AWS's buckets).
HEADLESS_DRIVER_BUCKETS = "sagemakerheadlessexecution-*"

# List and search calls have no resource-level permissions in IAM: they take "*".
_LIST_ACTIONS = (
    "sagemaker:ListApps",
    "sagemaker:ListSpaces",
    "sagemaker:ListUserProfiles",
    "sagemaker:ListDomains",
    "sagemaker:ListTags",
    "sagemaker:Search",
    "sagemaker:ListTrainingJobs",
    "sagemaker:ListProcessingJobs",
    "sagemaker:ListTransformJobs",
    "sagemaker:ListExperiments",
    "sagemaker:ListTrials",
    "sagemaker:ListTrialComponents",
    "sagemaker:ListPipelines",
    "sagemaker:ListModelPackageGroups",
    "sagemaker:ListModels",
    "sagemaker:ListEndpoints",
    "sagemaker:ListEndpointConfigs",
)


def capability_actions(capability: PersonaCapability) -> tuple[str, ...]:
    """What `capability` grants on every resource of its types; what it grants apart, under conditions
    (creating jobs, models and endpoint configs), is not among them."""
    return tuple(_CAPABILITY_ACTIONS.get(capability, ()))


def tag_isolation(tag: str, value: str, *, owners: str) -> list[iam.PolicyStatement]:
    """Isolation by tag, as AWS's domain resource isolation: deny every SageMaker call on a resource whose
    `tag` has another value than `value` (sid `DenyOther<owners>Resources`), and every request that would
    tag a resource with another value (sid `DenyTaggingForOther<owners>`).

    On `sagemaker:*`, which is what isolation means and keeps holding as grants grow: the reference lists
    `aws:ResourceTag` for most SageMaker actions (those on tagged resource types) and `aws:RequestTag` for
    the creating and tagging ones. Where a request's context has no such key (list and search calls,
    resource types without tags, untagged resources such as those CDK deploys), the `Null: false` guard
    keeps the negated condition from matching, so nothing of the owner's own and nothing untagged is
    affected.
    """
    return [
        iam.PolicyStatement(
            sid=sid,
            effect=iam.Effect.DENY,
            actions=["sagemaker:*"],
            resources=["*"],
            conditions={"StringNotEquals": {key: value}, "Null": {key: "false"}},
        )
        for sid, key in (
            (f"DenyOther{owners}Resources", f"aws:ResourceTag/{tag}"),
            (f"DenyTaggingForOther{owners}", f"aws:RequestTag/{tag}"),
        )
    ]


@dataclass(frozen=True)
class ImageBuildAccess:
    """The ARNs of the image build path (fixed names), for the `image_builds` capability."""

    parameter_path_arn: str
    source_objects_arn: str
    project_arn: str
    log_streams_arn: str
    repository_arns: Sequence[str]


class PersonaExecutionRole(Construct):
    """An IAM role that SageMaker assumes for one persona's Studio apps and jobs.

    Every grant names the platform's own bucket, keys, subnets and security group, or resources of this
    account and region created by the capability (`training-job/*`, `model-package/*`, ...). Jobs must run
    in the domain's subnets and security group, on the persona's instance types, with volumes and outputs
    encrypted by the data key; so must models and endpoint configs (volumes). With `network_isolation`,
    training, processing and tuning jobs, models and endpoint configs must also isolate their containers
    from the network (transform jobs inherit it from their model).

    The artifact bucket is read-only but for `scratch_prefix` (the persona's own, per domain), where its
    users and their jobs write and delete; with the `experiments` capability they also upload MLflow run
    artifacts under `mlflow_artifact_prefix`.

    The grants are split into managed policies, one for the base (Studio, data, logs) and one per
    capability: IAM caps a managed policy at 6,144 characters. Exposes `role`, `base_policy`,
    `policies` (by name) and `scratch_prefix`. Call `allow_studio_domain` once the domain exists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        persona_name: str,
        description: str,
        capabilities: Sequence[PersonaCapability],
        artifact_bucket: s3.IBucket,
        scratch_prefix: str,
        data_key: kms.IKey,
        studio_key: kms.IKey | None,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        job_instance_types: Sequence[str],
        app_instance_types: Sequence[str],
        image_build_access: ImageBuildAccess | None = None,
        mlflow_tracking_server_arn: str | None = None,
        mlflow_artifact_prefix: str | None = None,
        network_isolation: bool = False,
        role_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._network_isolation = network_isolation
        self._stack = Stack.of(self)
        self._app_instance_types = tuple(app_instance_types)
        self.persona_name = persona_name
        self.capabilities = tuple(dict.fromkeys(capabilities))
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=description,
            role_name=role_name,
        )
        # The domains set the user profile name as source identity (ExecutionRoleIdentityConfig), so
        # CloudTrail names the person; SageMaker then needs this to assume the role for apps and jobs.
        self.role.assume_role_policy.add_statements(  # type: ignore[union-attr]
            iam.PolicyStatement(
                actions=["sts:SetSourceIdentity"],
                principals=[iam.ServicePrincipal("sagemaker.amazonaws.com")],
            )
        )
        # Managed, not inline (NIST 800-53 wants no inline policies), and several: each is capped in size.
        self.policies: dict[str, iam.ManagedPolicy] = {}
        self.base_policy = self._policy("Base")

        # The platform's data: read the whole artifact bucket (pipeline outputs, models, MLflow artifacts,
        # other personas' scratch work: one environment's shared store under one key), write and delete
        # only under the persona's own scratch prefix. Served model artifacts (models/) stay the pipelines'.
        self.scratch_prefix = scratch_prefix.strip("/")
        artifact_bucket.grant_read(self.base_policy)
        artifact_bucket.grant_put(self.base_policy, f"{self.scratch_prefix}/*")
        artifact_bucket.grant_delete(self.base_policy, f"{self.scratch_prefix}/*")
        acknowledge_wildcard_resource(
            self.base_policy,
            artifact_bucket.arn_for_objects("*"),
            "Users and their jobs read what the pipelines and other users wrote in the platform's "
            "artifact bucket; read-only, and limited to that one bucket.",
        )
        acknowledge_wildcard_resource(
            self.base_policy,
            artifact_bucket.arn_for_objects(f"{self.scratch_prefix}/*"),
            "Users and their jobs choose their object keys at run time, under the persona's own scratch "
            "prefix only.",
        )
        # Studio storage (home file system, space volumes) is encrypted with the domain's key; a role for
        # jobs alone (a Kubernetes namespace's, ADR 0017) has no Studio storage and no studio_key.
        if studio_key is not None:
            studio_key.grant_encrypt_decrypt(self.base_policy)
        acknowledge_wildcard_actions(
            self.base_policy,
            READ_WRITE_GRANT_ACTIONS,
            "Action groups written by CDK's bucket grants (read, put, delete) and grant_encrypt_decrypt, "
            "each on one platform bucket or key only.",
        )
        keys = [key.key_arn for key in (studio_key, data_key) if key is not None]
        self._allow(
            "KeyGrantsForAwsResources",
            ["kms:CreateGrant"],
            keys,
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
        # Apart: kms:DescribeKey has no kms:GrantIsForAWSResource key, so under that condition it never
        # matched. SageMaker describes the key it is given for volumes and outputs.
        self._allow("DescribeKeys", ["kms:DescribeKey"], keys)
        self._allow(
            "SageMakerLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            [self._arn("logs", "log-group", "/aws/sagemaker/*", ArnFormat.COLON_RESOURCE_NAME)],
            wildcard_reason="SageMaker names the log groups and streams of apps and jobs at run time, all "
            "under /aws/sagemaker/ in this account and region.",
        )
        self._allow(
            "ListAndSearch",
            list(_LIST_ACTIONS),
            ["*"],
            wildcard_reason="SageMaker list and search calls support no resource-level permissions; they "
            "return metadata only.",
        )
        network = JobNetwork(
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            security_group_id=security_group.security_group_id,
        )
        if PersonaCapability.JOBS in self.capabilities:
            self._allow_jobs(data_key, network, job_instance_types)
        if PersonaCapability.ENDPOINTS in self.capabilities:
            self._allow_endpoints(data_key, network, job_instance_types)
        if PersonaCapability.NOTEBOOK_JOBS in self.capabilities:
            self._allow_notebook_jobs(data_key, network, job_instance_types)
        if PersonaCapability.IMAGE_BUILDS in self.capabilities:
            if image_build_access is None:
                raise ValueError(
                    "the image_builds capability needs image_build_access (the build path's ARNs)"
                )
            self._allow_image_builds(image_build_access)
        for capability in self.capabilities:
            if capability not in _CAPABILITY_RESOURCES:
                continue
            self._allow(
                f"{capability.name.title().replace('_', '')}Resources",
                list(_CAPABILITY_ACTIONS[capability]),
                [self._arn("sagemaker", kind, "*") for kind in _CAPABILITY_RESOURCES[capability]],
                wildcard_reason=f"The '{capability.value}' capability manages resources whose names users "
                "choose at run time; the grant is limited to that resource type in this account and region.",
                policy=self._policy(_POLICY_OF.get(capability, capability).name.title().replace("_", "")),
            )
        if PersonaCapability.EXPERIMENTS in self.capabilities and mlflow_tracking_server_arn is not None:
            # The environment's MLflow tracking server: log runs, browse the MLflow UI.
            grant_tracking_server_access(self._policy("Experiments"), mlflow_tracking_server_arn)
            if mlflow_artifact_prefix is not None:
                # MLflow clients upload run artifacts to the server's artifact store themselves; runs
                # get new keys, so no overwrite or delete is needed.
                artifact_bucket.grant_put(self._policy("Experiments"), f"{mlflow_artifact_prefix}/*")
                acknowledge_wildcard_resource(
                    self._policy("Experiments"),
                    artifact_bucket.arn_for_objects(f"{mlflow_artifact_prefix}/*"),
                    "MLflow names run artifacts by experiment and run id, under the tracking server's "
                    "artifact store only; uploads, no deletes.",
                )
                acknowledge_wildcard_actions(
                    self._policy("Experiments"),
                    [*BUCKET_PUT_GRANT_ACTIONS, *KEY_ENCRYPT_GRANT_ACTIONS],
                    "Action groups written by CDK's grant_put, on the MLflow artifact store and its key "
                    "only.",
                )
        if {PersonaCapability.ENDPOINTS, PersonaCapability.JOBS, PersonaCapability.NOTEBOOK_JOBS} & set(
            self.capabilities
        ):
            # Jobs and models run as this same role, and only SageMaker may receive it.
            self.base_policy.add_statements(
                pass_role_to_sagemaker("PassOwnRoleToSageMaker", self.role.role_arn)
            )
            self._allow_job_network(network)

    def allow_studio_domain(self, *, domain_id: str, domain_arn: str) -> None:
        """Let the persona's users run Studio apps in one domain, on the persona's app instance types, and
        keep them (and their jobs) out of every other domain's resources."""
        app_arn = self._arn("sagemaker", "app", f"{domain_id}/*")
        reason = (
            "Studio app, profile and space names are chosen at run time; the grant is limited to the one "
            "domain this persona role serves."
        )
        self._allow(
            "StudioCreateApps",
            ["sagemaker:CreateApp"],
            [app_arn],
            conditions={
                "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(self._app_instance_types)}
            }
            if self._app_instance_types
            else None,
            wildcard_reason=reason,
        )
        self._allow(
            "StudioManageApps",
            ["sagemaker:DeleteApp", "sagemaker:DescribeApp", "sagemaker:AddTags"],
            [app_arn],
            wildcard_reason=reason,
        )
        self._allow(
            "StudioDescribe",
            ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile", "sagemaker:DescribeSpace"],
            [
                self._arn("sagemaker", "domain", domain_id),
                self._arn("sagemaker", "user-profile", f"{domain_id}/*"),
                self._arn("sagemaker", "space", f"{domain_id}/*"),
            ],
            wildcard_reason=reason,
        )
        self._isolate_domain(domain_arn)

    def _isolate_domain(self, domain_arn: str) -> None:
        """AWS's domain resource isolation: SageMaker tags what is created from a Studio domain with
        `sagemaker:domain-arn`. Deny this role any SageMaker call on a resource tagged with another domain,
        and any request that would tag a resource with another domain (`tag_isolation`).

        A managed policy of its own, as AWS's pattern attaches one to each domain's execution role: it
        holds only denies, and is reviewed as one piece.
        """
        self._policy("DomainIsolation").add_statements(
            *tag_isolation(DOMAIN_TAG, domain_arn, owners="Domains")
        )

    # --- helpers ---------------------------------------------------------------------------------

    def _allow_jobs(self, data_key: kms.IKey, network: JobNetwork, instance_types: Sequence[str]) -> None:
        policy = self._policy("Jobs")
        encrypted = encrypted_with(data_key.key_arn, output=True)
        job_reason = (
            "Job names are chosen at run time; creation is limited by conditions to the domain's subnets "
            "and security group, the persona's instance types and the platform's data key."
        )
        self._allow(
            "CreateJobsInTheVpc",
            [
                "sagemaker:CreateTrainingJob",
                "sagemaker:CreateProcessingJob",
                "sagemaker:CreateHyperParameterTuningJob",
            ],
            [
                self._arn("sagemaker", "training-job", "*"),
                self._arn("sagemaker", "processing-job", "*"),
                self._arn("sagemaker", "hyper-parameter-tuning-job", "*"),
            ],
            conditions={**network.conditions(instance_types=instance_types), **encrypted, **self._isolated()},
            wildcard_reason=job_reason,
            policy=policy,
        )
        # Transform jobs run in the VPC of their model; creating a model requires it (_allow_endpoints).
        self._allow(
            "CreateTransformJobs",
            ["sagemaker:CreateTransformJob"],
            [self._arn("sagemaker", "transform-job", "*")],
            conditions={
                "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(instance_types)},
                **encrypted,
            },
            wildcard_reason=job_reason,
            policy=policy,
        )

    def _allow_notebook_jobs(
        self, data_key: kms.IKey, network: JobNetwork, instance_types: Sequence[str]
    ) -> None:
        """What Studio's notebook-job scheduler calls with the user's role: run now creates a training job;
        a schedule creates a pipeline (whose run creates the training job as this same role) and an
        EventBridge rule that starts it, assuming this role. Each is allowed only with a notebook-job tag,
        so the capability reaches neither other training jobs nor the platform's pipelines and rules; the
        training job under the `jobs` guardrails (the domain's network, the persona's instance types, the
        data key, network isolation where the persona requires it).

        A managed policy of its own (beside `Jobs` it would pass IAM's 6,144 characters).
        """
        policy = self._policy("NotebookJobs")
        encrypted = encrypted_with(data_key.key_arn, output=True)
        reason = (
            "Studio's scheduler names notebook jobs, their pipelines and rules at run time; each grant needs "
            "a notebook-job tag, and job creation the domain's network, the persona's instance types and the "
            "data key."
        )
        guardrails = {**network.conditions(instance_types=instance_types), **encrypted, **self._isolated()}
        for index, (tag, value) in enumerate(NOTEBOOK_JOB_TAGS.items()):
            tagged = {"StringEquals": {f"aws:RequestTag/{tag}": value}}
            self._allow(
                f"CreateNotebookJobs{index}",
                ["sagemaker:CreateTrainingJob"],
                [self._arn("sagemaker", "training-job", "*")],
                conditions={**guardrails, **tagged},
                wildcard_reason=reason,
                policy=policy,
            )
            self._allow(
                f"TagNotebookJobs{index}",
                ["sagemaker:AddTags"],
                [self._arn("sagemaker", "training-job", "*"), self._arn("sagemaker", "pipeline", "*")],
                conditions=tagged,
                wildcard_reason=reason,
                policy=policy,
            )
        self._allow(
            "FollowNotebookJobs",
            [
                "sagemaker:DescribeTrainingJob",
                "sagemaker:StopTrainingJob",
                "sagemaker:DescribePipeline",
                "sagemaker:UpdatePipeline",
                "sagemaker:DeletePipeline",
                "sagemaker:StartPipelineExecution",
            ],
            [self._arn("sagemaker", "training-job", "*"), self._arn("sagemaker", "pipeline", "*")],
            conditions={"StringEquals": {f"aws:ResourceTag/{SCHEDULER_TAG}": "true"}},
            wildcard_reason=reason,
            policy=policy,
        )
        # The pipeline runs as the role it names, which may only be this one (PassOwnRoleToSageMaker): its
        # steps get no more than the persona has.
        self._allow(
            "CreateNotebookJobPipelines",
            ["sagemaker:CreatePipeline"],
            [self._arn("sagemaker", "pipeline", "*")],
            conditions={"StringEquals": {f"aws:RequestTag/{SCHEDULER_TAG}": "true"}},
            wildcard_reason=reason,
            policy=policy,
        )
        rules = [self._arn("events", "rule", "*")]
        self._allow(
            "CreateNotebookJobSchedules",
            ["events:PutRule", "events:TagResource"],
            rules,
            conditions={"StringEquals": {f"aws:RequestTag/{SCHEDULER_TAG}": "true"}},
            wildcard_reason=reason,
            policy=policy,
        )
        self._allow(
            "ManageNotebookJobSchedules",
            [
                "events:DescribeRule",
                "events:DeleteRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:EnableRule",
                "events:DisableRule",
            ],
            rules,
            conditions={"StringEquals": {f"aws:ResourceTag/{SCHEDULER_TAG}": "true"}},
            wildcard_reason=reason,
            policy=policy,
        )
        # The schedule's rule starts the pipeline as this role.
        self._allow(
            "PassOwnRoleToSchedules",
            ["iam:PassRole"],
            [self.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}},
            policy=policy,
        )
        self.role.assume_role_policy.add_statements(  # type: ignore[union-attr]
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                conditions={"StringEquals": {"aws:SourceAccount": self._stack.account}},
            )
        )
        partition = self._stack.partition
        self._allow(
            "ReadHeadlessDriver",
            ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
            [
                f"arn:{partition}:s3:::{HEADLESS_DRIVER_BUCKETS}",
                f"arn:{partition}:s3:::{HEADLESS_DRIVER_BUCKETS}/*",
            ],
            wildcard_reason="AWS publishes the notebook scheduler's headless execution driver in per-region "
            "buckets named sagemakerheadlessexecution-<region>; read-only.",
            policy=policy,
        )

    def _allow_endpoints(
        self, data_key: kms.IKey, network: JobNetwork, instance_types: Sequence[str]
    ) -> None:
        policy = self._policy("Endpoints")
        reason = (
            "Model and endpoint-config names are chosen at run time; creation is limited by conditions to "
            "the domain's network, the persona's instance types and the platform's data key."
        )
        self._allow(
            "CreateModelsInTheVpc",
            ["sagemaker:CreateModel"],
            [self._arn("sagemaker", "model", "*")],
            conditions={**network.conditions(), **self._isolated()},
            wildcard_reason=reason,
            policy=policy,
        )
        self._allow(
            "CreateEncryptedEndpointConfigs",
            ["sagemaker:CreateEndpointConfig"],
            [self._arn("sagemaker", "endpoint-config", "*")],
            conditions={
                "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(instance_types)},
                # CreateEndpointConfig has no output key condition (its data capture key is another field).
                **encrypted_with(data_key.key_arn, output=False),
                **self._isolated(),
            },
            wildcard_reason=reason,
            policy=policy,
        )

    def _isolated(self) -> dict[str, dict[str, object]]:
        """The request must turn network isolation on, where the persona requires it (a Bool key: a request
        that leaves it off, or does not say, is refused)."""
        return {"Bool": {"sagemaker:NetworkIsolation": "true"}} if self._network_isolation else {}

    def _allow_image_builds(self, access: ImageBuildAccess) -> None:
        """What `mlplatform build-image` does: read the platform's names, upload, build, follow the log."""
        policy = self._policy("ImageBuilds")
        self._allow(
            "ReadImageBuildNames",
            ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            [access.parameter_path_arn, f"{access.parameter_path_arn}/*"],
            wildcard_reason="The build path publishes one parameter per repository under one path; "
            "read-only.",
            policy=policy,
        )
        self._allow("SeeImageTags", ["ecr:DescribeImages"], list(access.repository_arns), policy=policy)
        self._allow(
            "UploadBuildSources",
            ["s3:PutObject"],
            [access.source_objects_arn],
            wildcard_reason="Build sources are uploaded under one prefix, named by repository and content "
            "hash.",
            policy=policy,
        )
        self._allow(
            "RunImageBuilds",
            ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
            [access.project_arn],
            policy=policy,
        )
        self._allow(
            "FollowImageBuildLogs",
            ["logs:GetLogEvents"],
            [access.log_streams_arn],
            wildcard_reason="CodeBuild names a log stream per build, in the build path's one log group.",
            policy=policy,
        )

    def _allow_job_network(self, network: JobNetwork) -> None:
        """What SageMaker does with the role to attach jobs and models to the domain's subnets."""
        policy = self._policy("JobNetwork")
        self._allow(
            "JobNetworkInterfaces",
            SAGEMAKER_NETWORK_INTERFACE_ACTIONS,
            [
                *(self._arn("ec2", "subnet", subnet_id) for subnet_id in network.subnet_ids),
                self._arn("ec2", "security-group", network.security_group_id),
                self._arn("ec2", "network-interface", "*"),
            ],
            wildcard_reason="Network interface ids are assigned by EC2 when SageMaker attaches a job to the "
            "domain's subnets; the subnets and security group are named exactly.",
            policy=policy,
        )
        self._allow(
            "DescribeNetwork",
            SAGEMAKER_NETWORK_DESCRIBE_ACTIONS,
            ["*"],
            wildcard_reason="EC2 Describe calls support no resource-level permissions.",
            policy=policy,
        )
        self._allow(
            "JobMetrics",
            ["cloudwatch:PutMetricData"],
            ["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            wildcard_reason="PutMetricData supports no resource-level permissions; the condition limits it "
            "to SageMaker's namespaces.",
            policy=policy,
        )

    def _policy(self, name: str) -> iam.ManagedPolicy:
        if name not in self.policies:
            self.policies[name] = iam.ManagedPolicy(self, f"{name}Policy", roles=[self.role])
        return self.policies[name]

    def _allow(
        self,
        sid: str,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        conditions: Mapping[str, Mapping[str, object]] | None = None,
        wildcard_reason: str | None = None,
        policy: iam.ManagedPolicy | None = None,
    ) -> None:
        """Add a statement (to the base policy by default); a wildcard resource needs its reason,
        acknowledged next to it."""
        policy = policy or self.base_policy
        policy.add_statements(
            iam.PolicyStatement(
                sid=sid,
                actions=sorted(set(actions)),
                resources=list(resources),
                conditions=dict(conditions) if conditions else None,
            )
        )
        for resource in resources:
            if "*" in str(self._stack.resolve(resource)):
                if wildcard_reason is None:
                    raise ValueError(
                        f"statement {sid} grants the wildcard resource {resource} without a reason"
                    )
                acknowledge_wildcard_resource(policy, resource, wildcard_reason)

    def _arn(
        self, service: str, resource: str, name: str, arn_format: ArnFormat = ArnFormat.SLASH_RESOURCE_NAME
    ) -> str:
        return self._stack.format_arn(
            service=service, resource=resource, resource_name=name, arn_format=arn_format
        )
