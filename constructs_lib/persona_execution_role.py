"""The SageMaker execution role of one Studio persona, scoped to the platform's own resources."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.compliance import acknowledge_wildcard_actions, acknowledge_wildcard_resource


class PersonaCapability(enum.Enum):
    """What a persona may do beyond using Studio and the platform's data."""

    JOBS = "jobs"  # training, processing, transform and tuning jobs, in the VPC, on allowed instances
    EXPERIMENTS = "experiments"  # experiments, trials and trial components
    PIPELINES = "pipelines"  # start, stop and inspect pipeline executions (definitions are deployed by CDK)
    MODEL_REGISTRY = "model_registry"  # register model versions and read the registry
    MODEL_APPROVAL = "model_approval"  # change the approval status of model versions (the quality gate)
    ENDPOINTS = "endpoints"  # models, endpoint configs and endpoints for testing in this environment


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
    PersonaCapability.ENDPOINTS: (
        "sagemaker:CreateModel",
        "sagemaker:DescribeModel",
        "sagemaker:DeleteModel",
        "sagemaker:CreateEndpointConfig",
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


class PersonaExecutionRole(Construct):
    """An IAM role that SageMaker assumes for one persona's Studio apps and jobs.

    Every grant names the platform's own bucket, keys, subnets and security group, or resources of this
    account and region created by the capability (`training-job/*`, `model-package/*`, ...). Jobs must run
    in the domain's subnets and security group, on the persona's instance types, with volumes encrypted by
    the data key. Exposes `role` and `policy`. Call `allow_studio_domain` once the domain exists.
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
        data_key: kms.IKey,
        studio_key: kms.IKey,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        job_instance_types: Sequence[str],
        app_instance_types: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._stack = Stack.of(self)
        self._app_instance_types = tuple(app_instance_types)
        self.persona_name = persona_name
        self.capabilities = tuple(dict.fromkeys(capabilities))
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"SageMaker execution role of persona {persona_name}: {description}"[:1000],
        )
        # The domains set the user profile name as source identity (ExecutionRoleIdentityConfig), so
        # CloudTrail names the person; SageMaker then needs this to assume the role for apps and jobs.
        self.role.assume_role_policy.add_statements(  # type: ignore[union-attr]
            iam.PolicyStatement(
                actions=["sts:SetSourceIdentity"],
                principals=[iam.ServicePrincipal("sagemaker.amazonaws.com")],
            )
        )
        # A managed policy: a role's inline policies share one 10 KB limit, and NIST 800-53 wants none.
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])

        # The platform's data: read and write the artifact bucket through its key.
        artifact_bucket.grant_read_write(self.policy)
        acknowledge_wildcard_resource(
            self.policy,
            artifact_bucket.arn_for_objects("*"),
            "Users and their jobs create their own object keys in the platform's artifact bucket; the grant "
            "is limited to that one bucket.",
        )
        # Studio storage (home file system, space volumes) is encrypted with the domain's key.
        studio_key.grant_encrypt_decrypt(self.policy)
        acknowledge_wildcard_actions(
            self.policy,
            [
                "s3:Abort*",
                "s3:DeleteObject*",
                "s3:GetBucket*",
                "s3:GetObject*",
                "s3:List*",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ],
            "Action groups written by CDK's grant_read_write and grant_encrypt_decrypt, each on one "
            "platform bucket or key only.",
        )
        self._allow(
            "KeyGrantsForAwsResources",
            ["kms:CreateGrant", "kms:DescribeKey"],
            [studio_key.key_arn, data_key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
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
        if PersonaCapability.JOBS in self.capabilities:
            self._allow_jobs(data_key, subnets, security_group, job_instance_types)
        for capability in self.capabilities:
            self._allow(
                f"{capability.name.title().replace('_', '')}Resources",
                list(_CAPABILITY_ACTIONS[capability]),
                [self._arn("sagemaker", kind, "*") for kind in _CAPABILITY_RESOURCES[capability]],
                wildcard_reason=f"The '{capability.value}' capability manages resources whose names users "
                "choose at run time; the grant is limited to that resource type in this account and region.",
            )
        if {PersonaCapability.ENDPOINTS, PersonaCapability.JOBS} & set(self.capabilities):
            # Jobs and models run as this same role, and only SageMaker may receive it.
            self._allow(
                "PassOwnRoleToSageMaker",
                ["iam:PassRole"],
                [self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )

    def allow_studio_domain(self, *, domain_id: str) -> None:
        """Let the persona's users run Studio apps in one domain, on the persona's app instance types."""
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

    # --- helpers ---------------------------------------------------------------------------------

    def _allow_jobs(
        self,
        data_key: kms.IKey,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        instance_types: Sequence[str],
    ) -> None:
        subnet_ids = [subnet.subnet_id for subnet in subnets]
        on_allowed_instances = {"sagemaker:InstanceTypes": list(instance_types)}
        encrypted = {"sagemaker:VolumeKmsKey": data_key.key_arn}
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
            conditions={
                "ForAllValues:StringEquals": {
                    **on_allowed_instances,
                    "sagemaker:VpcSubnets": subnet_ids,
                    "sagemaker:VpcSecurityGroupIds": [security_group.security_group_id],
                },
                "StringEquals": encrypted,
                # ForAllValues also matches a request without the key: require the job to name subnets.
                "Null": {"sagemaker:VpcSubnets": "false"},
            },
            wildcard_reason=job_reason,
        )
        # Transform jobs run in the VPC of their model, which the model's own creation constrains.
        self._allow(
            "CreateTransformJobs",
            ["sagemaker:CreateTransformJob"],
            [self._arn("sagemaker", "transform-job", "*")],
            conditions={"ForAllValues:StringEquals": on_allowed_instances, "StringEquals": encrypted},
            wildcard_reason=job_reason,
        )
        # SageMaker creates the jobs' network interfaces with the execution role.
        self._allow(
            "JobNetworkInterfaces",
            [
                "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            [
                *(self._arn("ec2", "subnet", subnet_id) for subnet_id in subnet_ids),
                self._arn("ec2", "security-group", security_group.security_group_id),
                self._arn("ec2", "network-interface", "*"),
            ],
            wildcard_reason="Network interface ids are assigned by EC2 when SageMaker attaches a job to the "
            "domain's subnets; the subnets and security group are named exactly.",
        )
        self._allow(
            "DescribeNetwork",
            [
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeDhcpOptions",
            ],
            ["*"],
            wildcard_reason="EC2 Describe calls support no resource-level permissions.",
        )
        self._allow(
            "JobMetrics",
            ["cloudwatch:PutMetricData"],
            ["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            wildcard_reason="PutMetricData supports no resource-level permissions; the condition limits it "
            "to "
            "SageMaker's namespaces.",
        )

    def _allow(
        self,
        sid: str,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        conditions: Mapping[str, Mapping[str, object]] | None = None,
        wildcard_reason: str | None = None,
    ) -> None:
        """Add a statement; a wildcard resource needs its reason, acknowledged next to it."""
        self.policy.add_statements(
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
                acknowledge_wildcard_resource(self.policy, resource, wildcard_reason)

    def _arn(
        self, service: str, resource: str, name: str, arn_format: ArnFormat = ArnFormat.SLASH_RESOURCE_NAME
    ) -> str:
        return self._stack.format_arn(
            service=service, resource=resource, resource_name=name, arn_format=arn_format
        )
