"""ServingExecutionRole: SageMaker's role in a serving account, reading exactly its sources' model artifacts
and images, decrypting only with their keys (by alias) and only through S3 and ECR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.serving.serving_execution_role import ModelSource, ServingExecutionRole
from tests.constructs.support import bare_stack, logical_id, resource, synth

PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
STAGING = ModelSource(
    account_id="220000000002",
    region="eu-central-1",
    artifact_bucket_name="staging-ml-artifacts-220000000002-eu-central-1",
    model_prefix="models",
    key_aliases=("alias/staging/sagemaker-platform/data", "alias/staging/sagemaker-platform/images"),
    repository_names=("models/decision-tree", "models/xgboost"),
)
# Artifacts only: no images of its own.
RESEARCH = ModelSource(
    account_id="444444444444",
    region="eu-west-1",
    artifact_bucket_name="research-ml-artifacts",
    model_prefix="exports/models",
    key_aliases=("alias/research/sagemaker-platform/data",),
    repository_names=(),
)


@dataclass(frozen=True)
class Role:
    template: Template
    role: str
    policy: str

    def role_properties(self) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.role)["Properties"]
        return written

    def statements(self) -> dict[str, dict[str, Any]]:
        """The managed policy's statements by Sid (each must have one, once)."""
        written: list[dict[str, Any]] = resource(self.template, self.policy)["Properties"]["PolicyDocument"][
            "Statement"
        ]
        by_sid = {statement["Sid"]: statement for statement in written}
        assert len(by_sid) == len(written)
        return by_sid


@pytest.fixture(scope="module")
def serving(cdk_context: dict[str, Any]) -> Role:
    stack = bare_stack(cdk_context)
    construct = ServingExecutionRole(
        stack, "Serving", role_name="prod-sagemaker-platform-serving", sources=[STAGING, RESEARCH]
    )
    policy = construct.node.find_child("Policy")
    return Role(Template.from_stack(stack), role=logical_id(construct.role), policy=logical_id(policy))


def test_fixed_name_and_only_sagemaker_may_assume_it(serving: Role) -> None:
    written = serving.role_properties()
    assert written["RoleName"] == "prod-sagemaker-platform-serving"
    assert written["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    # Everything it may do is in its one managed policy.
    assert "Policies" not in written
    assert "ManagedPolicyArns" not in written
    serving.template.resource_count_is("AWS::IAM::Policy", 0)
    serving.template.resource_count_is("AWS::IAM::ManagedPolicy", 1)


def test_the_managed_policy_is_attached_to_the_role(serving: Role) -> None:
    assert resource(serving.template, serving.policy)["Properties"]["Roles"] == [{"Ref": serving.role}]


def test_exactly_the_expected_statements(serving: Role) -> None:
    assert list(serving.statements()) == [
        "ReadModelArtifacts0",
        "DecryptThroughS3AndEcr0",
        "PullModelImages0",
        "ReadModelArtifacts1",
        "DecryptThroughS3AndEcr1",
        "RegistryToken",
        "EndpointLogs",
        "EndpointMetrics",
    ]


@pytest.mark.parametrize(
    ("index", "objects"),
    [
        (0, "arn:aws:s3:::staging-ml-artifacts-220000000002-eu-central-1/models/*"),
        (1, "arn:aws:s3:::research-ml-artifacts/exports/models/*"),
    ],
)
def test_reads_only_the_model_prefix_of_each_sources_bucket(serving: Role, index: int, objects: str) -> None:
    assert serving.statements()[f"ReadModelArtifacts{index}"] == {
        "Sid": f"ReadModelArtifacts{index}",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": objects,
    }


@pytest.mark.parametrize(
    ("index", "keys", "aliases", "region"),
    [
        (0, "arn:aws:kms:eu-central-1:220000000002:key/*", list(STAGING.key_aliases), "eu-central-1"),
        (1, "arn:aws:kms:eu-west-1:444444444444:key/*", list(RESEARCH.key_aliases), "eu-west-1"),
    ],
)
def test_decrypts_only_with_the_sources_keys_by_alias_through_s3_and_ecr_of_its_region(
    serving: Role, index: int, keys: str, aliases: list[str], region: str
) -> None:
    assert serving.statements()[f"DecryptThroughS3AndEcr{index}"] == {
        "Sid": f"DecryptThroughS3AndEcr{index}",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        # Keys of the source's account and region only...
        "Resource": keys,
        "Condition": {
            # ... with one of its aliases ...
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": aliases},
            # ... and only when S3 or ECR of that region asks.
            "StringEquals": {"kms:ViaService": [f"s3.{region}.amazonaws.com", f"ecr.{region}.amazonaws.com"]},
        },
    }


def test_pulls_only_the_sources_repositories(serving: Role) -> None:
    assert serving.statements()["PullModelImages0"] == {
        "Sid": "PullModelImages0",
        "Effect": "Allow",
        "Action": PULL_ACTIONS,
        "Resource": [
            "arn:aws:ecr:eu-central-1:220000000002:repository/models/decision-tree",
            "arn:aws:ecr:eu-central-1:220000000002:repository/models/xgboost",
        ],
    }


def test_no_pull_statement_for_a_source_without_repositories(serving: Role) -> None:
    assert "PullModelImages1" not in serving.statements()
    pulled = [
        statement for statement in serving.statements().values() if "ecr:BatchGetImage" in statement["Action"]
    ]
    assert len(pulled) == 1
    assert all("444444444444" not in arn for arn in pulled[0]["Resource"])


def test_registry_token_endpoint_logs_and_metrics(serving: Role) -> None:
    statements = serving.statements()
    assert statements["RegistryToken"] == {
        "Sid": "RegistryToken",
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    }
    assert statements["EndpointLogs"] == {
        "Sid": "EndpointLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        # The serving account's own log groups, SageMaker's only.
        "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/*",
    }
    assert statements["EndpointMetrics"] == {
        "Sid": "EndpointMetrics",
        "Effect": "Allow",
        "Action": "cloudwatch:PutMetricData",
        "Resource": "*",
        "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
    }


def test_nothing_else_is_allowed(serving: Role) -> None:
    actions = {
        action
        for statement in serving.statements().values()
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert actions == {
        "s3:GetObject",
        "kms:Decrypt",
        *PULL_ACTIONS,
        "ecr:GetAuthorizationToken",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "cloudwatch:PutMetricData",
    }
    assert all(statement["Effect"] == "Allow" for statement in serving.statements().values())


def test_without_sources_only_the_registry_token_logs_and_metrics(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    construct = ServingExecutionRole(stack, "Serving", role_name="idle-serving", sources=[])
    written = resource(Template.from_stack(stack), logical_id(construct.node.find_child("Policy")))
    assert [statement["Sid"] for statement in written["Properties"]["PolicyDocument"]["Statement"]] == [
        "RegistryToken",
        "EndpointLogs",
        "EndpointMetrics",
    ]


def test_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    ServingExecutionRole(
        stack, "Serving", role_name="prod-sagemaker-platform-serving", sources=[STAGING, RESEARCH]
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
