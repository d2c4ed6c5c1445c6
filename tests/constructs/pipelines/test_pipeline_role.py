"""PipelineRole: trusted by SageMaker; runs jobs, passes only itself, registers only into the given groups,
reads and writes the artifact bucket, only reads the data bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.pipelines.pipeline_role import CODE_OBJECTS_PER_POLICY, PipelineRole
from constructs_lib.shared.access_logs_bucket import AccessLogsBucket
from constructs_lib.shared.encrypted_bucket import EncryptedBucket
from constructs_lib.shared.job_guardrails import JobNetwork
from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import ACCOUNT, REGION, bare_stack, logical_id, resource, synth

SAGEMAKER = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
NETWORK = JobNetwork(subnet_ids=["subnet-0a", "subnet-0b"], security_group_id="sg-0jobs")
DATA_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/3c3c3c3c-3c3c-3c3c-3c3c-3c3c3c3c3c3c"
GROUPS = ["ChurnModels", "fraud-models"]
ROLE_NAME = "dev-sagemaker-platform-pipelines"


@dataclass(frozen=True)
class Buckets:
    artifacts: s3.IBucket
    data: s3.IBucket
    artifact_key: str
    data_key: str


@dataclass(frozen=True)
class Role:
    template: Template
    role: str
    policy: str
    artifacts: str
    data: str
    artifact_key: str
    data_key: str

    def statements(self) -> list[dict[str, Any]]:
        document = resource(self.template, self.policy)["Properties"]["PolicyDocument"]
        return list(document["Statement"])

    def statement(self, sid: str) -> dict[str, Any]:
        (found,) = [statement for statement in self.statements() if statement.get("Sid") == sid]
        return found

    def on(self, logical: str) -> list[dict[str, Any]]:
        """The statements with a resource that refers to the given resource."""
        return [s for s in self.statements() if f'"{logical}"' in json.dumps(s["Resource"])]


def platform_buckets(stack: cdk.Stack) -> Buckets:
    """Real platform buckets, each with its own key, logged to one access-logs bucket."""
    destroy = RemovalPolicy.DESTROY
    logs = AccessLogsBucket(stack, "AccessLogs", removal_policy=destroy)
    keys = {
        name: PlatformKey(
            stack, f"{name}Key", alias=f"alias/{name.lower()}", description=name, removal_policy=destroy
        )
        for name in ("Artifacts", "Data")
    }
    buckets = {
        name: EncryptedBucket(
            stack,
            name,
            encryption_key=key.key,
            access_logs_bucket=logs.bucket,
            access_logs_prefix=f"{name.lower()}/",
            removal_policy=destroy,
        ).bucket
        for name, key in keys.items()
    }
    return Buckets(
        buckets["Artifacts"], buckets["Data"], logical_id(keys["Artifacts"].key), logical_id(keys["Data"].key)
    )


def pipeline_role(stack: cdk.Stack, groups: list[str]) -> tuple[PipelineRole, Buckets]:
    buckets = platform_buckets(stack)
    construct = PipelineRole(
        stack,
        "Pipelines",
        role_name=ROLE_NAME,
        artifact_bucket=buckets.artifacts,
        data_bucket=buckets.data,
        model_package_groups=groups,
        job_network=NETWORK,
        data_key_arn=DATA_KEY_ARN,
    )
    return construct, buckets


def build(stack: cdk.Stack, groups: list[str]) -> Role:
    construct, buckets = pipeline_role(stack, groups)
    return Role(
        Template.from_stack(stack),
        role=logical_id(construct.role),
        policy=logical_id(construct.policy),
        artifacts=logical_id(buckets.artifacts),
        data=logical_id(buckets.data),
        artifact_key=buckets.artifact_key,
        data_key=buckets.data_key,
    )


@pytest.fixture(scope="module")
def role(cdk_context: dict[str, Any]) -> Role:
    return build(bare_stack(cdk_context), GROUPS)


@pytest.fixture(scope="module")
def role_without_groups(cdk_context: dict[str, Any]) -> Role:
    return build(bare_stack(cdk_context), [])


def test_trusted_by_sagemaker_only(role: Role) -> None:
    written = resource(role.template, role.role)["Properties"]
    assert written["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    assert "Policies" not in written
    assert "ManagedPolicyArns" not in written


def test_fixed_name_the_artifact_bucket_policy_names(role: Role) -> None:
    # The Data stack lets this role alone write models/, naming it by ARN (no cross-stack reference).
    assert resource(role.template, role.role)["Properties"]["RoleName"] == ROLE_NAME


def test_one_managed_policy_attached_to_the_role(role: Role) -> None:
    role.template.resource_count_is("AWS::IAM::Role", 1)
    role.template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    role.template.resource_count_is("AWS::IAM::Policy", 0)
    assert resource(role.template, role.policy)["Properties"]["Roles"] == [{"Ref": role.role}]


def test_code_grants_fill_code_policies_of_their_own(cdk_context: dict[str, Any]) -> None:
    """Each shipped script adds an object ARN; they go to policies of CODE_OBJECTS_PER_POLICY objects each,
    attached to the role, and the main policy never grows with them."""
    stack = bare_stack(cdk_context)
    construct, _ = pipeline_role(stack, GROUPS)
    code_bucket = s3.Bucket.from_bucket_name(stack, "Code", "code-bucket")
    objects = 2 * CODE_OBJECTS_PER_POLICY + 3
    for index in range(objects):
        construct.grant_code_read(code_bucket, f"{index:064x}.py")
    template = Template.from_stack(stack)
    code_policies = [logical_id(policy) for policy in construct.policies[1:]]
    assert len(code_policies) == 3
    granted = []
    for policy in code_policies:
        properties = resource(template, policy)["Properties"]
        assert properties["Roles"] == [{"Ref": logical_id(construct.role)}]
        objects_here = [
            item
            for statement in properties["PolicyDocument"]["Statement"]
            for item in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            if "code-bucket/" in json.dumps(item)
        ]
        assert len(objects_here) <= CODE_OBJECTS_PER_POLICY
        granted.extend(objects_here)
    assert len(granted) == objects
    assert "code-bucket/" not in json.dumps(resource(template, logical_id(construct.policy)))


def test_follows_jobs_and_models_only(role: Role) -> None:
    statement = role.statement("FollowPipelineJobs")
    assert all(action.startswith("sagemaker:") and "*" not in action for action in statement["Action"])
    assert not [action for action in statement["Action"] if action.startswith("sagemaker:Create")]
    assert sorted(statement["Resource"]) == [
        f"{SAGEMAKER}:model/*",
        f"{SAGEMAKER}:processing-job/*",
        f"{SAGEMAKER}:training-job/*",
        f"{SAGEMAKER}:transform-job/*",
    ]


def test_creates_jobs_and_models_only_in_the_network_under_the_data_key(role: Role) -> None:
    in_the_vpc = {
        "ForAllValues:StringEquals": {
            "sagemaker:VpcSubnets": ["subnet-0a", "subnet-0b"],
            "sagemaker:VpcSecurityGroupIds": ["sg-0jobs"],
        },
        "Null": {"sagemaker:VpcSubnets": "false"},
    }
    encrypted = {
        "ArnEquals": {"sagemaker:VolumeKmsKeyArn": DATA_KEY_ARN, "sagemaker:OutputKmsKeyArn": DATA_KEY_ARN}
    }
    jobs = role.statement("CreateJobsInTheVpc")
    assert jobs["Action"] == ["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"]
    assert jobs["Condition"] == {**in_the_vpc, **encrypted}
    assert role.statement("CreateModelsInTheVpc")["Condition"] == in_the_vpc
    assert role.statement("CreateEncryptedTransformJobs")["Condition"] == encrypted
    creating = {
        action
        for statement in role.statements()
        if "Condition" not in statement
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert not {
        action for action in creating if action.startswith("sagemaker:Create") and "Package" not in action
    }


def test_passes_only_itself_and_only_to_sagemaker(role: Role) -> None:
    passing = [s for s in role.statements() if "iam:PassRole" in json.dumps(s["Action"])]
    assert passing == [
        {
            "Sid": "PassItselfToJobs",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": {"Fn::GetAtt": [role.role, "Arn"]},
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }
    ]


def test_registers_models_into_the_given_groups_and_their_lower_cased_versions(role: Role) -> None:
    statement = role.statement("RegisterModels")
    assert statement["Action"] == [
        "sagemaker:CreateModelPackage",
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
    ]
    assert sorted(statement["Resource"]) == [
        f"{SAGEMAKER}:model-package-group/ChurnModels",
        f"{SAGEMAKER}:model-package-group/fraud-models",
        f"{SAGEMAKER}:model-package/ChurnModels/*",
        f"{SAGEMAKER}:model-package/churnmodels/*",
        f"{SAGEMAKER}:model-package/fraud-models/*",
    ]


def test_registers_nothing_without_groups(role_without_groups: Role) -> None:
    statements = role_without_groups.statements()
    assert "RegisterModels" not in [s.get("Sid") for s in statements]
    assert "ModelPackage" not in json.dumps(statements)
    # The rest of the policy is still there.
    assert role_without_groups.statement("CreateJobsInTheVpc")


def test_reads_and_writes_the_artifact_bucket(role: Role) -> None:
    (statement,) = role.on(role.artifacts)
    arn = {"Fn::GetAtt": [role.artifacts, "Arn"]}
    assert statement["Resource"] == [arn, {"Fn::Join": ["", [arn, "/*"]]}]
    assert {"s3:GetObject*", "s3:List*", "s3:PutObject", "s3:DeleteObject*"} <= set(statement["Action"])
    (key,) = role.on(role.artifact_key)
    assert {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"} <= set(key["Action"])


def test_only_reads_the_data_bucket(role: Role) -> None:
    (statement,) = role.on(role.data)
    arn = {"Fn::GetAtt": [role.data, "Arn"]}
    assert statement["Resource"] == [arn, {"Fn::Join": ["", [arn, "/*"]]}]
    assert sorted(statement["Action"]) == ["s3:GetBucket*", "s3:GetObject*", "s3:List*"]
    (key,) = role.on(role.data_key)
    actions = [key["Action"]] if isinstance(key["Action"], str) else key["Action"]
    assert "kms:Decrypt" in actions
    for written in [*statement["Action"], *actions]:
        assert not written.startswith(
            ("s3:Put", "s3:Delete", "s3:Abort", "kms:Encrypt", "kms:GenerateDataKey")
        )


def test_passes_the_compliance_packs_with_real_platform_buckets(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    buckets = platform_buckets(stack)
    PipelineRole(
        stack,
        "Pipelines",
        role_name=ROLE_NAME,
        artifact_bucket=buckets.artifacts,
        data_bucket=buckets.data,
        model_package_groups=GROUPS,
        job_network=NETWORK,
        data_key_arn=DATA_KEY_ARN,
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
