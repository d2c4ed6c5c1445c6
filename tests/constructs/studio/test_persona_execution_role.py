"""PersonaExecutionRole: scoped grants per capability, job guard-rails, Studio apps of one domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from constructs_lib.shared.access_logs_bucket import AccessLogsBucket
from constructs_lib.shared.encrypted_bucket import EncryptedBucket
from constructs_lib.shared.platform_key import PlatformKey
from constructs_lib.studio.persona_execution_role import (
    ImageBuildAccess,
    PersonaCapability,
    PersonaExecutionRole,
)
from tests.constructs.support import (
    SECURITY_GROUP_ID,
    SUBNET_IDS,
    bare_stack,
    imported_subnets,
    logical_id,
    synth,
    validation_errors,
)
from tests.iam import condition_keys as iam_condition_keys

DATA_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1a1a1a1a-1a1a-1a1a-1a1a-1a1a1a1a1a1a"
STUDIO_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/2b2b2b2b-2b2b-2b2b-2b2b-2b2b2b2b2b2b"
JOB_INSTANCE_TYPES = ["ml.m5.xlarge", "ml.g5.2xlarge"]
APP_INSTANCE_TYPES = ["ml.t3.medium", "ml.m5.large"]
DOMAIN_ID = "d-abc123def456"
DOMAIN_ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:domain/{DOMAIN_ID}"
ENCRYPTED_WITH_THE_DATA_KEY = {
    "sagemaker:VolumeKmsKeyArn": DATA_KEY_ARN,
    "sagemaker:OutputKmsKeyArn": DATA_KEY_ARN,
}
SAGEMAKER_ARN = "arn:aws:sagemaker:eu-west-1:123456789012"
SCRATCH_PREFIX = "scratch/ml-research/data-scientist"
ARTIFACTS = "arn:aws:s3:::platform-artifacts"
MLFLOW_SERVER_ARN = f"{SAGEMAKER_ARN}:mlflow-tracking-server/dev-sagemaker-platform"
IMAGE_BUILD_ACCESS = ImageBuildAccess(
    parameter_path_arn="arn:aws:ssm:eu-west-1:123456789012:parameter/sagemaker-platform/dev/image-build",
    source_objects_arn="arn:aws:s3:::dev-ml-builds-123456789012-eu-west-1/sources/*",
    project_arn="arn:aws:codebuild:eu-west-1:123456789012:project/dev-image-build",
    log_streams_arn="arn:aws:logs:eu-west-1:123456789012:log-group:/sagemaker-platform/dev/image-build:log-stream:*",
    repository_arns=["arn:aws:ecr:eu-west-1:123456789012:repository/decision-tree"],
)


def persona_role(
    stack: cdk.Stack,
    capabilities: Sequence[PersonaCapability],
    *,
    app_instance_types: Sequence[str] = APP_INSTANCE_TYPES,
    artifact_bucket: s3.IBucket | None = None,
    data_key: kms.IKey | None = None,
    studio_key: kms.IKey | None = None,
    mlflow: bool = True,
    network_isolation: bool = False,
) -> PersonaExecutionRole:
    """The role with imported resources by default, so the template holds only what the role writes."""
    return PersonaExecutionRole(
        stack,
        "Persona",
        persona_name="data-scientist",
        description="Explores data and trains models",
        capabilities=capabilities,
        artifact_bucket=artifact_bucket
        or s3.Bucket.from_bucket_name(stack, "Artifacts", "platform-artifacts"),
        scratch_prefix=SCRATCH_PREFIX,
        data_key=data_key or kms.Key.from_key_arn(stack, "DataKey", DATA_KEY_ARN),
        studio_key=studio_key or kms.Key.from_key_arn(stack, "StudioKey", STUDIO_KEY_ARN),
        subnets=imported_subnets(stack),
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "StudioGroup", SECURITY_GROUP_ID),
        job_instance_types=JOB_INSTANCE_TYPES,
        app_instance_types=app_instance_types,
        image_build_access=IMAGE_BUILD_ACCESS,
        mlflow_tracking_server_arn=MLFLOW_SERVER_ARN if mlflow else None,
        mlflow_artifact_prefix="mlflow" if mlflow else None,
        network_isolation=network_isolation,
    )


@dataclass(frozen=True)
class Role:
    template: Template
    role: str
    policies: dict[str, str]  # name -> logical id

    @property
    def statements(self) -> list[dict[str, Any]]:
        """Every statement of every managed policy attached to the role."""
        policies = self.template.find_resources("AWS::IAM::ManagedPolicy")
        return [
            statement
            for logical_id in self.policies.values()
            for statement in policies[logical_id]["Properties"]["PolicyDocument"]["Statement"]
        ]

    def statement(self, sid: str) -> dict[str, Any]:
        (found,) = [statement for statement in self.statements if statement.get("Sid") == sid]
        return found

    @property
    def actions(self) -> set[str]:
        """The actions allowed (the domain isolation denies are apart)."""
        return {
            action
            for statement in self.statements
            if statement["Effect"] == "Allow"
            for action in (
                [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            )
        }


def synthesized(
    cdk_context: dict[str, Any],
    capabilities: Sequence[PersonaCapability],
    *,
    app_instance_types: Sequence[str] = APP_INSTANCE_TYPES,
    domain: bool = True,
    mlflow: bool = True,
    network_isolation: bool = False,
) -> Role:
    stack = bare_stack(cdk_context)
    persona = persona_role(
        stack,
        capabilities,
        app_instance_types=app_instance_types,
        mlflow=mlflow,
        network_isolation=network_isolation,
    )
    if domain:
        persona.allow_studio_domain(domain_id=DOMAIN_ID, domain_arn=DOMAIN_ARN)
    return Role(
        Template.from_stack(stack),
        logical_id(persona.role),
        {name: logical_id(policy) for name, policy in persona.policies.items()},
    )


@pytest.fixture(scope="module")
def studio_only(cdk_context: dict[str, Any]) -> Role:
    """No capability; Studio apps in the domain on any instance type."""
    return synthesized(cdk_context, [], app_instance_types=[])


@pytest.fixture(scope="module")
def everything(cdk_context: dict[str, Any]) -> Role:
    return synthesized(cdk_context, list(PersonaCapability))


@pytest.fixture(scope="module")
def registry_and_endpoints(cdk_context: dict[str, Any]) -> Role:
    return synthesized(
        cdk_context, [PersonaCapability.MODEL_REGISTRY, PersonaCapability.ENDPOINTS], domain=False
    )


@pytest.fixture(scope="module")
def experiments_without_mlflow(cdk_context: dict[str, Any]) -> Role:
    return synthesized(cdk_context, [PersonaCapability.EXPERIMENTS], mlflow=False)


def _actions(statement: dict[str, Any]) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else list(statement["Action"])


def _resources(statement: dict[str, Any]) -> list[Any]:
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


def s3_grants(role: Role) -> dict[str, set[str]]:
    """Each artifact-bucket resource the role's statements name, with the S3 actions granted on it."""
    grants: dict[str, set[str]] = {}
    for statement in role.statements:
        actions = {action for action in _actions(statement) if action.startswith("s3:")}
        for resource in _resources(statement):
            if actions and isinstance(resource, str) and resource.startswith(ARTIFACTS):
                grants.setdefault(resource, set()).update(actions)
    return grants


WRITES = ("s3:Put", "s3:Delete", "s3:Abort", "s3:Replicate", "s3:Restore")


@pytest.mark.parametrize("role", ["studio_only", "everything", "registry_and_endpoints"])
def test_reads_the_artifact_bucket_and_writes_only_its_scratch_prefix(
    request: pytest.FixtureRequest, role: str
) -> None:
    persona: Role = request.getfixturevalue(role)
    grants = s3_grants(persona)
    # Read everything: the bucket is one environment's shared store (pipeline outputs, models, MLflow
    # artifacts, other personas' scratch work), all under the one data key.
    assert grants[ARTIFACTS] == grants[f"{ARTIFACTS}/*"] == {"s3:GetBucket*", "s3:GetObject*", "s3:List*"}
    # Write and delete: only the persona's own prefix (and, with experiments, MLflow's artifact store).
    scratch = grants.pop(f"{ARTIFACTS}/{SCRATCH_PREFIX}/*")
    assert {"s3:PutObject", "s3:DeleteObject*", "s3:Abort*"} <= scratch
    mlflow = grants.pop(f"{ARTIFACTS}/mlflow/*", set())
    assert not [action for action in mlflow if action.startswith("s3:Delete")]
    assert bool(mlflow) is (role == "everything")
    for resource, actions in grants.items():
        assert not [action for action in actions if action.startswith(WRITES)], resource


def test_experiments_upload_to_mlflow_only_where_a_tracking_server_is(
    experiments_without_mlflow: Role,
) -> None:
    assert f"{ARTIFACTS}/mlflow/*" not in s3_grants(experiments_without_mlflow)
    assert "sagemaker-mlflow:*" not in experiments_without_mlflow.actions


def test_writes_nothing_under_models_which_the_pipelines_own(everything: Role) -> None:
    # Not even by a wildcard: no write grant names the bucket's root objects or models/.
    for resource, actions in s3_grants(everything).items():
        if [action for action in actions if action.startswith(WRITES)]:
            assert resource.startswith((f"{ARTIFACTS}/{SCRATCH_PREFIX}/", f"{ARTIFACTS}/mlflow/")), resource


def test_only_sagemaker_may_assume_the_role(studio_only: Role) -> None:
    studio_only.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        # The domains' ExecutionRoleIdentityConfig sets the profile name as source identity.
                        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Condition": Match.absent(),
                    }
                ]
            },
            "Description": "Explores data and trains models",  # as given: the stack derives it
            "Policies": Match.absent(),
            "ManagedPolicyArns": Match.absent(),
        },
    )


def test_grants_are_one_managed_policy_attached_to_the_role(studio_only: Role) -> None:
    # The base grants, and the domain isolation denies.
    assert sorted(studio_only.policies) == ["Base", "DomainIsolation"]
    studio_only.template.resource_count_is("AWS::IAM::ManagedPolicy", 2)
    studio_only.template.resource_count_is("AWS::IAM::Policy", 0)
    studio_only.template.has_resource_properties(
        "AWS::IAM::ManagedPolicy", {"Roles": [{"Ref": studio_only.role}]}
    )


def test_each_capability_has_its_own_managed_policy_on_the_role(everything: Role) -> None:
    # IAM caps each managed policy at 6,144 characters: one policy per capability keeps each small. Model
    # approval (one statement, always with the registry) shares the registry's: within ten per role.
    assert sorted(everything.policies) == sorted(
        [
            "Base",
            "DomainIsolation",
            "JobNetwork",
            *(
                capability.name.title().replace("_", "")
                for capability in PersonaCapability
                if capability is not PersonaCapability.MODEL_APPROVAL
            ),
        ]
    )
    assert "ModelApprovalResources" in [
        statement["Sid"]
        for statement in everything.template.find_resources("AWS::IAM::ManagedPolicy")[
            everything.policies["ModelRegistry"]
        ]["Properties"]["PolicyDocument"]["Statement"]
    ]
    policies = everything.template.find_resources("AWS::IAM::ManagedPolicy")
    assert len(policies) == len(everything.policies) <= 10  # the default quota of policies per role
    for policy in policies.values():
        assert policy["Properties"]["Roles"] == [{"Ref": everything.role}]


def test_without_capabilities_no_jobs_no_pass_role_no_registry(studio_only: Role) -> None:
    forbidden = {
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreateProcessingJob",
        "sagemaker:CreateTransformJob",
        "sagemaker:CreateModel",
        "sagemaker:CreateModelPackage",
        "sagemaker:UpdateModelPackage",
        "sagemaker:StartPipelineExecution",
        "ec2:CreateNetworkInterface",
        "iam:PassRole",
    }
    assert studio_only.actions & forbidden == set()


def test_jobs_run_only_in_the_domains_network_on_allowed_instances_with_the_data_key(
    everything: Role,
) -> None:
    statement = everything.statement("CreateJobsInTheVpc")
    assert statement["Action"] == [
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:CreateProcessingJob",
        "sagemaker:CreateTrainingJob",
    ]
    assert sorted(statement["Resource"]) == [
        f"{SAGEMAKER_ARN}:hyper-parameter-tuning-job/*",
        f"{SAGEMAKER_ARN}:processing-job/*",
        f"{SAGEMAKER_ARN}:training-job/*",
    ]
    assert statement["Condition"] == {
        "ForAllValues:StringEquals": {
            "sagemaker:InstanceTypes": JOB_INSTANCE_TYPES,
            "sagemaker:VpcSubnets": list(SUBNET_IDS),
            "sagemaker:VpcSecurityGroupIds": [SECURITY_GROUP_ID],
        },
        # ARN-typed keys (the short sagemaker:VolumeKmsKey is deprecated and no longer evaluated): volumes
        # and outputs encrypted with the data key, named by its ARN.
        "ArnEquals": ENCRYPTED_WITH_THE_DATA_KEY,
        # ForAllValues alone also matches a job that names no subnets at all.
        "Null": {"sagemaker:VpcSubnets": "false"},
    }


def test_models_only_in_the_domains_network_and_endpoint_configs_encrypted(
    registry_and_endpoints: Role,
) -> None:
    # A transform job runs in its model's VPC, so the model's creation is where the network is enforced.
    model = registry_and_endpoints.statement("CreateModelsInTheVpc")
    assert model["Action"] == "sagemaker:CreateModel"
    assert model["Resource"] == f"{SAGEMAKER_ARN}:model/*"
    assert model["Condition"] == {
        "ForAllValues:StringEquals": {
            "sagemaker:VpcSubnets": list(SUBNET_IDS),
            "sagemaker:VpcSecurityGroupIds": [SECURITY_GROUP_ID],
        },
        "Null": {"sagemaker:VpcSubnets": "false"},
    }
    config = registry_and_endpoints.statement("CreateEncryptedEndpointConfigs")
    assert config["Action"] == "sagemaker:CreateEndpointConfig"
    # CreateEndpointConfig has no output key condition: the volume key only.
    assert config["Condition"] == {
        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": JOB_INSTANCE_TYPES},
        "ArnEquals": {"sagemaker:VolumeKmsKeyArn": DATA_KEY_ARN},
    }
    unconditioned = [s for s in registry_and_endpoints.statements if "Condition" not in s]
    assert not {"sagemaker:CreateModel", "sagemaker:CreateEndpointConfig"} & {
        action
        for s in unconditioned
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }


def test_transform_jobs_on_allowed_instances_with_the_data_key(everything: Role) -> None:
    assert everything.statement("CreateTransformJobs")["Condition"] == {
        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": JOB_INSTANCE_TYPES},
        "ArnEquals": ENCRYPTED_WITH_THE_DATA_KEY,
    }


@pytest.fixture(scope="module")
def isolated(cdk_context: dict[str, Any]) -> Role:
    return synthesized(
        cdk_context, [PersonaCapability.JOBS, PersonaCapability.ENDPOINTS], network_isolation=True
    )


def test_network_isolation_is_required_where_the_persona_sets_it(isolated: Role, everything: Role) -> None:
    required = {"sagemaker:NetworkIsolation": "true"}
    for sid in ("CreateJobsInTheVpc", "CreateModelsInTheVpc", "CreateEncryptedEndpointConfigs"):
        assert isolated.statement(sid)["Condition"]["Bool"] == required
        assert "Bool" not in everything.statement(sid)["Condition"]
    # The reference lists no isolation key for transform jobs: they take it from their model.
    assert "Bool" not in isolated.statement("CreateTransformJobs")["Condition"]


@pytest.mark.parametrize(
    "role", ["everything", "registry_and_endpoints", "studio_only", "isolated", "notebook_jobs_only"]
)
def test_every_condition_is_one_iam_evaluates(request: pytest.FixtureRequest, role: str) -> None:
    # Key listed for the action in the service authorization reference, operator of the key's type.
    persona: Role = request.getfixturevalue(role)
    findings = [
        finding
        for logical_id in persona.policies.values()
        for finding in iam_condition_keys.template_findings(
            {"Resources": {logical_id: persona.template.to_json()["Resources"][logical_id]}}, role
        )
    ]
    assert not findings, "\n".join(map(str, findings))


def test_key_grants_only_for_aws_resources_and_describe_apart(studio_only: Role) -> None:
    assert studio_only.statement("KeyGrantsForAwsResources")["Action"] == "kms:CreateGrant"
    assert studio_only.statement("KeyGrantsForAwsResources")["Condition"] == {
        "Bool": {"kms:GrantIsForAWSResource": "true"}
    }
    # kms:DescribeKey has no kms:GrantIsForAWSResource key: under that condition it was never allowed.
    describe = studio_only.statement("DescribeKeys")
    assert (describe["Action"], sorted(describe["Resource"]), "Condition" in describe) == (
        "kms:DescribeKey",
        [DATA_KEY_ARN, STUDIO_KEY_ARN],
        False,
    )


def test_job_network_interfaces_only_in_the_domains_subnets_and_group(everything: Role) -> None:
    assert sorted(everything.statement("JobNetworkInterfaces")["Resource"]) == [
        "arn:aws:ec2:eu-west-1:123456789012:network-interface/*",
        f"arn:aws:ec2:eu-west-1:123456789012:security-group/{SECURITY_GROUP_ID}",
        *(f"arn:aws:ec2:eu-west-1:123456789012:subnet/{subnet_id}" for subnet_id in SUBNET_IDS),
    ]


@pytest.mark.parametrize("role", ["everything", "registry_and_endpoints"])
def test_role_may_be_passed_only_as_itself_to_sagemaker_and_to_notebook_job_schedules(
    request: pytest.FixtureRequest, role: str
) -> None:
    persona: Role = request.getfixturevalue(role)
    pass_role = [statement for statement in persona.statements if "iam:PassRole" in statement["Action"]]
    to_events = [
        {
            # Notebook job schedules: the rule starts the pipeline as this role.
            "Sid": "PassOwnRoleToSchedules",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": {"Fn::GetAtt": [persona.role, "Arn"]},
            "Condition": {"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}},
        }
    ]
    assert sorted(pass_role, key=lambda statement: str(statement["Sid"])) == sorted(
        [
            {
                "Sid": "PassOwnRoleToSageMaker",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": {"Fn::GetAtt": [persona.role, "Arn"]},
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            },
            *(to_events if role == "everything" else []),
        ],
        key=lambda statement: str(statement["Sid"]),
    )


@pytest.fixture(scope="module")
def notebook_jobs_only(cdk_context: dict[str, Any]) -> Role:
    return synthesized(cdk_context, [PersonaCapability.NOTEBOOK_JOBS])


def test_notebook_jobs_are_tagged_training_jobs_under_the_jobs_guardrails(notebook_jobs_only: Role) -> None:
    creating = [
        statement
        for statement in notebook_jobs_only.statements
        if statement["Effect"] == "Allow" and "sagemaker:CreateTrainingJob" in statement["Action"]
    ]
    assert [statement["Sid"] for statement in creating] == ["CreateNotebookJobs0", "CreateNotebookJobs1"]
    tags = set()
    for statement in creating:
        condition = statement["Condition"]
        assert condition["ForAllValues:StringEquals"]["sagemaker:InstanceTypes"] == list(JOB_INSTANCE_TYPES)
        assert sorted(condition["ForAllValues:StringEquals"]["sagemaker:VpcSubnets"]) == sorted(SUBNET_IDS)
        assert condition["ForAllValues:StringEquals"]["sagemaker:VpcSecurityGroupIds"] == [SECURITY_GROUP_ID]
        assert condition["Null"] == {"sagemaker:VpcSubnets": "false"}
        assert set(condition["ArnEquals"]) == {"sagemaker:VolumeKmsKeyArn", "sagemaker:OutputKmsKeyArn"}
        tags |= set(condition["StringEquals"].items())
    assert tags == {
        ("aws:RequestTag/sagemaker:is-scheduling-notebook-job", "true"),
        ("aws:RequestTag/sagemaker:notebook-job-origin", "PIPELINE_STEP"),
    }
    # No other kind of job, and nothing untagged.
    assert (
        not {
            "sagemaker:CreateProcessingJob",
            "sagemaker:CreateTransformJob",
            "sagemaker:CreateHyperParameterTuningJob",
            "sagemaker:CreateModel",
        }
        & notebook_jobs_only.actions
    )
    for statement in notebook_jobs_only.statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and any(
            action.startswith("events:") or action.endswith("Pipeline") for action in actions
        ):
            assert "sagemaker:is-scheduling-notebook-job" in str(statement["Condition"]), statement


def test_notebook_job_schedules_assume_the_role_from_this_account_only(
    notebook_jobs_only: Role, studio_only: Role
) -> None:
    def trusted(role: Role) -> list[Any]:
        roles = role.template.find_resources("AWS::IAM::Role")
        statements: list[Any] = roles[role.role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        return statements

    events = [s for s in trusted(notebook_jobs_only) if "events.amazonaws.com" in str(s["Principal"])]
    assert events == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
    assert "events.amazonaws.com" not in str(trusted(studio_only))


def test_endpoints_without_jobs_create_no_jobs(registry_and_endpoints: Role) -> None:
    assert "sagemaker:CreateModel" in registry_and_endpoints.actions
    assert not {action for action in registry_and_endpoints.actions if action.endswith("Job")} - {
        "sagemaker:DescribeTrainingJob"
    }


def test_only_model_approval_may_change_approval_status(
    everything: Role, registry_and_endpoints: Role
) -> None:
    assert everything.statement("ModelApprovalResources")["Action"] == "sagemaker:UpdateModelPackage"
    assert "sagemaker:CreateModelPackage" in registry_and_endpoints.actions
    assert "sagemaker:UpdateModelPackage" not in registry_and_endpoints.actions


def test_capability_grants_are_limited_to_their_resource_types(everything: Role) -> None:
    assert everything.statement("PipelinesResources")["Resource"] == f"{SAGEMAKER_ARN}:pipeline/*"
    assert sorted(everything.statement("ModelRegistryResources")["Resource"]) == [
        f"{SAGEMAKER_ARN}:model-package-group/*",
        f"{SAGEMAKER_ARN}:model-package/*",
    ]


def test_studio_apps_only_in_its_domain_on_the_personas_instance_types(everything: Role) -> None:
    assert everything.statement("StudioCreateApps") == {
        "Sid": "StudioCreateApps",
        "Effect": "Allow",
        "Action": "sagemaker:CreateApp",
        "Resource": f"{SAGEMAKER_ARN}:app/{DOMAIN_ID}/*",
        "Condition": {"ForAllValues:StringEquals": {"sagemaker:InstanceTypes": APP_INSTANCE_TYPES}},
    }
    assert sorted(everything.statement("StudioDescribe")["Resource"]) == [
        f"{SAGEMAKER_ARN}:domain/{DOMAIN_ID}",
        f"{SAGEMAKER_ARN}:space/{DOMAIN_ID}/*",
        f"{SAGEMAKER_ARN}:user-profile/{DOMAIN_ID}/*",
    ]


def test_studio_apps_on_any_instance_type_when_none_is_listed(studio_only: Role) -> None:
    assert "Condition" not in studio_only.statement("StudioCreateApps")
    assert studio_only.statement("StudioCreateApps")["Resource"] == f"{SAGEMAKER_ARN}:app/{DOMAIN_ID}/*"


def test_no_studio_grants_before_allow_studio_domain(registry_and_endpoints: Role) -> None:
    assert "sagemaker:CreateApp" not in registry_and_endpoints.actions


def test_a_wildcard_resource_without_a_reason_is_refused(cdk_context: dict[str, Any]) -> None:
    persona = persona_role(bare_stack(cdk_context), [])
    persona._allow("ExactResource", ["s3:GetObject"], ["arn:aws:s3:::other-bucket/report.csv"])
    with pytest.raises(
        ValueError, match="grants the wildcard resource arn:aws:s3:::other-bucket/\\* without a reason"
    ):
        persona._allow("Wildcard", ["s3:GetObject"], ["arn:aws:s3:::other-bucket/*"])


def compliant_persona(stack: cdk.Stack) -> PersonaExecutionRole:
    """As production builds it: platform keys and bucket (tokens in the ARNs), every capability, a domain."""
    retain = cdk.RemovalPolicy.RETAIN
    data_key = PlatformKey(stack, "DataKey", alias="alias/data", description="Data", removal_policy=retain)
    studio_key = PlatformKey(
        stack, "StudioKey", alias="alias/studio", description="Studio", removal_policy=retain
    )
    artifacts = EncryptedBucket(
        stack,
        "ArtifactBucket",
        encryption_key=data_key.key,
        access_logs_bucket=AccessLogsBucket(stack, "AccessLogs", removal_policy=retain).bucket,
        access_logs_prefix="artifacts/",
        removal_policy=retain,
    )
    persona = persona_role(
        stack,
        list(PersonaCapability),
        artifact_bucket=artifacts.bucket,
        data_key=data_key.key,
        studio_key=studio_key.key,
    )
    persona.allow_studio_domain(domain_id=DOMAIN_ID, domain_arn=DOMAIN_ARN)
    return persona


def test_every_wildcard_it_writes_is_acknowledged(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    compliant_persona(stack)
    synth(stack)  # raises on any unacknowledged cdk-nag finding


def test_a_wildcard_added_behind_its_back_is_a_finding(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    persona = compliant_persona(stack)
    persona.base_policy.add_statements(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::other-bucket/*"])
    )
    # The jsii error's text varies (it may or may not list the findings); the report always has them.
    with pytest.raises(Exception, match="ValidationFailed"):
        synth(stack)
    assert validation_errors(tmp_path) == ["AwsSolutions-IAM5[Resource::arn:aws:s3:::other-bucket/*]"]


def test_image_builds_reach_exactly_the_build_path(everything: Role, studio_only: Role) -> None:
    # What `mlplatform build-image` calls, on the build path's fixed names and nothing else.
    expected = {
        "ReadImageBuildNames": [
            IMAGE_BUILD_ACCESS.parameter_path_arn,
            f"{IMAGE_BUILD_ACCESS.parameter_path_arn}/*",
        ],
        "SeeImageTags": IMAGE_BUILD_ACCESS.repository_arns[0],
        "UploadBuildSources": IMAGE_BUILD_ACCESS.source_objects_arn,
        "RunImageBuilds": IMAGE_BUILD_ACCESS.project_arn,
        "FollowImageBuildLogs": IMAGE_BUILD_ACCESS.log_streams_arn,
    }
    for sid, resources in expected.items():
        assert everything.statement(sid)["Resource"] == resources
    assert everything.statement("RunImageBuilds")["Action"] == [
        "codebuild:BatchGetBuilds",
        "codebuild:StartBuild",
    ]
    assert not {
        "codebuild:StartBuild",
        "ecr:DescribeImages",
        "logs:GetLogEvents",
        "ssm:GetParametersByPath",
    } & (studio_only.actions)


def test_image_builds_need_the_build_paths_names(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    with pytest.raises(ValueError, match="image_builds capability needs image_build_access"):
        PersonaExecutionRole(
            stack,
            "Persona",
            persona_name="builder",
            description="Builds images",
            capabilities=[PersonaCapability.IMAGE_BUILDS],
            artifact_bucket=s3.Bucket.from_bucket_name(stack, "Artifacts", "platform-artifacts"),
            scratch_prefix=SCRATCH_PREFIX,
            data_key=kms.Key.from_key_arn(stack, "DataKey", DATA_KEY_ARN),
            studio_key=kms.Key.from_key_arn(stack, "StudioKey", STUDIO_KEY_ARN),
            subnets=imported_subnets(stack),
            security_group=ec2.SecurityGroup.from_security_group_id(stack, "StudioGroup", SECURITY_GROUP_ID),
            job_instance_types=[],
            app_instance_types=[],
        )


# Domain resource isolation: nothing of another domain, nothing tagged for another domain.
ISOLATION_KEYS = {
    "DenyOtherDomainsResources": "aws:ResourceTag/sagemaker:domain-arn",
    "DenyTaggingForOtherDomains": "aws:RequestTag/sagemaker:domain-arn",
}


@pytest.mark.parametrize(("sid", "key"), ISOLATION_KEYS.items())
def test_other_domains_resources_and_tags_are_denied(everything: Role, sid: str, key: str) -> None:
    assert everything.statement(sid) == {
        "Sid": sid,
        "Effect": "Deny",
        "Action": "sagemaker:*",
        "Resource": "*",
        "Condition": {
            # Another domain's tag is denied...
            "StringNotEquals": {key: DOMAIN_ARN},
            # ... but only where the tag is there: untagged resources (CDK's, the pipelines') and calls
            # whose context has no tag (list and search) are not this statement's business.
            "Null": {key: "false"},
        },
    }


@pytest.mark.parametrize("role", ["studio_only", "everything"])
def test_every_persona_of_a_domain_gets_the_isolation_policy(
    request: pytest.FixtureRequest, role: str
) -> None:
    # A policy of its own, holding only the two denies (AWS's pattern attaches one per domain).
    persona: Role = request.getfixturevalue(role)
    policies = persona.template.find_resources("AWS::IAM::ManagedPolicy")
    isolation = policies[persona.policies["DomainIsolation"]]["Properties"]
    assert isolation["Roles"] == [{"Ref": persona.role}]
    assert [statement["Sid"] for statement in isolation["PolicyDocument"]["Statement"]] == list(
        ISOLATION_KEYS
    )
    denies = [statement for statement in persona.statements if statement["Effect"] == "Deny"]
    assert sorted(statement["Sid"] for statement in denies) == sorted(ISOLATION_KEYS)


def test_no_isolation_before_the_domain_exists(registry_and_endpoints: Role) -> None:
    assert [
        statement for statement in registry_and_endpoints.statements if statement["Effect"] == "Deny"
    ] == []


def test_the_isolation_reaches_every_sagemaker_call_the_role_may_make_on_a_resource(everything: Role) -> None:
    # The reference lists aws:ResourceTag for each of them (their resource types carry tags), and
    # aws:RequestTag for each creating call: the denies reach everything the role may do to a resource.
    allowed = {
        action
        for statement in everything.statements
        if statement["Effect"] == "Allow" and statement["Resource"] != "*"
        for action in _actions(statement)
        if action.startswith("sagemaker:")
    }
    assert len(allowed) > 40
    resource_key, request_key = (
        ISOLATION_KEYS["DenyOtherDomainsResources"],
        ISOLATION_KEYS["DenyTaggingForOtherDomains"],
    )
    assert [action for action in allowed if not iam_condition_keys.supports(action, resource_key)] == []
    creating = [
        action for action in allowed if action.startswith("sagemaker:Create") and "Presigned" not in action
    ]
    assert len(creating) > 10
    assert [action for action in creating if not iam_condition_keys.supports(action, request_key)] == []
    # List and search calls (on "*") have no such key: the Null guard leaves them alone.
    assert not iam_condition_keys.supports("sagemaker:ListTrainingJobs", resource_key)
    assert not iam_condition_keys.supports("sagemaker:Search", resource_key)
