"""ImageRepository: scanned, immutable, KMS, lifecycle rules, pulls shared, pushes only by the build role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.images.image_repository import ImageRepository
from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import ACCOUNT, bare_stack, logical_id, resource, synth

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/3c3c3c3c-3c3c-3c3c-3c3c-3c3c3c3c3c3c"
BUILD_ROLE_ARN = "arn:aws:iam::123456789012:role/dev-sagemaker-platform-image-build"
# Two roles of one account, a duplicate, unsorted: the policy names each account once and each role once.
SERVING_ROLES = (
    "arn:aws:iam::220000000002:role/prod-sagemaker-platform-serving",
    "arn:aws:iam::110000000001:role/staging-sagemaker-platform-serving",
    "arn:aws:iam::220000000002:role/serving/canary",
    "arn:aws:iam::220000000002:role/prod-sagemaker-platform-serving",
)
OWN_ROLE = "arn:aws:iam::123456789012:role/dev-sagemaker-platform-serving"
PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH_ACTIONS = ["ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"]


@dataclass(frozen=True)
class Repositories:
    template: Template
    shared: str  # serving roles of two other accounts (with a duplicate), retained
    own_only: str  # only a role of the own account, deleted with the stack
    private: str  # no serving role at all, deleted with the stack


def image_repository(
    stack: cdk.Stack,
    construct_id: str,
    *,
    repository_name: str,
    pull_role_arns: list[str],
    removal_policy: cdk.RemovalPolicy,
    encryption_key: kms.IKey | None = None,
) -> ImageRepository:
    return ImageRepository(
        stack,
        construct_id,
        repository_name=repository_name,
        encryption_key=encryption_key or kms.Key.from_key_arn(stack, f"{construct_id}Key", KEY_ARN),
        keep_tagged_images=20,
        expire_untagged_after_days=7,
        pull_role_arns=pull_role_arns,
        push_role_arn=BUILD_ROLE_ARN,
        removal_policy=removal_policy,
    )


@pytest.fixture(scope="module")
def repositories(cdk_context: dict[str, Any]) -> Repositories:
    stack = bare_stack(cdk_context)
    delete = cdk.RemovalPolicy.DESTROY
    shared = image_repository(
        stack,
        "Shared",
        repository_name="models/decision-tree",
        pull_role_arns=list(SERVING_ROLES),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    own_only = image_repository(
        stack,
        "OwnOnly",
        repository_name="studio/jupyterlab",
        pull_role_arns=[OWN_ROLE],
        removal_policy=delete,
    )
    private = image_repository(
        stack, "Private", repository_name="tools/scratch", pull_role_arns=[], removal_policy=delete
    )
    return Repositories(
        Template.from_stack(stack),
        shared=logical_id(shared.repository),
        own_only=logical_id(own_only.repository),
        private=logical_id(private.repository),
    )


def properties(repositories: Repositories, repository: str) -> dict[str, Any]:
    written: dict[str, Any] = resource(repositories.template, getattr(repositories, repository))["Properties"]
    return written


def statements(repositories: Repositories, repository: str) -> list[dict[str, Any]]:
    written: list[dict[str, Any]] = properties(repositories, repository)["RepositoryPolicyText"]["Statement"]
    return written


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_fixed_name_scan_on_push_immutable_tags_and_the_given_key(repositories: Repositories) -> None:
    written = properties(repositories, "shared")
    assert written["RepositoryName"] == "models/decision-tree"
    assert written["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert written["ImageTagMutability"] == "IMMUTABLE"
    assert written["EncryptionConfiguration"] == {"EncryptionType": "KMS", "KmsKey": KEY_ARN}


def test_lifecycle_expires_untagged_images_then_keeps_the_last_tagged_ones(
    repositories: Repositories,
) -> None:
    policy = json.loads(properties(repositories, "shared")["LifecyclePolicy"]["LifecyclePolicyText"])
    untagged, tagged = policy["rules"]
    assert untagged["rulePriority"] == 1
    assert untagged["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countNumber": 7,
        "countUnit": "days",
    }
    assert untagged["action"] == {"type": "expire"}
    assert tagged["rulePriority"] == 2
    assert tagged["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["*"],
        "countType": "imageCountMoreThan",
        "countNumber": 20,
    }
    assert tagged["action"] == {"type": "expire"}


def cross_account_statements(repositories: Repositories, repository: str) -> list[dict[str, Any]]:
    """The statements that let IAM principals (not services, not everyone) do something."""
    return [
        statement
        for statement in statements(repositories, repository)
        if statement["Effect"] == "Allow" and "AWS" in statement["Principal"]
    ]


def test_only_the_serving_roles_may_pull_across_accounts(repositories: Repositories) -> None:
    assert cross_account_statements(repositories, "shared") == [
        {
            "Sid": "ServingRolesPull",
            "Effect": "Allow",
            # The roles' accounts, each once and sorted: a role that does not exist yet cannot be named.
            "Principal": {"AWS": ["arn:aws:iam::110000000001:root", "arn:aws:iam::220000000002:root"]},
            "Action": PULL_ACTIONS,
            # ... and exactly the roles, deduplicated and sorted.
            "Condition": {
                "ArnEquals": {
                    "aws:PrincipalArn": [
                        "arn:aws:iam::110000000001:role/staging-sagemaker-platform-serving",
                        "arn:aws:iam::220000000002:role/prod-sagemaker-platform-serving",
                        "arn:aws:iam::220000000002:role/serving/canary",
                    ]
                }
            },
        }
    ]


def test_a_role_of_the_own_account_is_admitted_as_that_role_only(repositories: Repositories) -> None:
    assert cross_account_statements(repositories, "own_only") == [
        {
            "Sid": "ServingRolesPull",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": PULL_ACTIONS,
            "Condition": {"ArnEquals": {"aws:PrincipalArn": [OWN_ROLE]}},
        }
    ]


def test_no_cross_account_statement_without_serving_roles(repositories: Repositories) -> None:
    assert cross_account_statements(repositories, "private") == []
    assert [statement["Sid"] for statement in statements(repositories, "private")] == [
        "SageMakerPullForThePlatformsAccounts",
        "PushOnlyFromTheBuildRole",
    ]


@pytest.mark.parametrize(
    ("repository", "accounts"),
    [("shared", ["110000000001", ACCOUNT, "220000000002"]), ("own_only", [ACCOUNT]), ("private", [ACCOUNT])],
)
def test_sagemaker_may_pull_only_on_behalf_of_the_platforms_accounts(
    repositories: Repositories, repository: str, accounts: list[str]
) -> None:
    (sagemaker,) = [
        statement for statement in statements(repositories, repository) if "Service" in statement["Principal"]
    ]
    assert sagemaker["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert sagemaker["Effect"] == "Allow"
    assert sagemaker["Action"] == PULL_ACTIONS
    assert list(sagemaker["Condition"]) == ["StringEquals"]
    assert list(sagemaker["Condition"]["StringEquals"]) == ["aws:SourceAccount"]
    assert as_list(sagemaker["Condition"]["StringEquals"]["aws:SourceAccount"]) == accounts


@pytest.mark.parametrize("repository", ["shared", "own_only", "private"])
def test_everyone_but_the_build_role_is_denied_pushing(repositories: Repositories, repository: str) -> None:
    denies = [
        statement for statement in statements(repositories, repository) if statement["Effect"] == "Deny"
    ]
    assert denies == [
        {
            "Sid": "PushOnlyFromTheBuildRole",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": PUSH_ACTIONS,
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": BUILD_ROLE_ARN}},
        }
    ]


@pytest.mark.parametrize("repository", ["shared", "own_only", "private"])
def test_no_one_is_allowed_to_push(repositories: Repositories, repository: str) -> None:
    allowed_actions = {
        action
        for statement in statements(repositories, repository)
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }
    assert allowed_actions == set(PULL_ACTIONS)


@pytest.mark.parametrize(("repository", "policy"), [("shared", "Retain"), ("own_only", "Delete")])
def test_removal_policy_applies(repositories: Repositories, repository: str, policy: str) -> None:
    written = resource(repositories.template, getattr(repositories, repository))
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


@pytest.mark.parametrize(("repository", "emptied"), [("shared", False), ("own_only", True)])
def test_only_a_deleted_repository_is_emptied_first(
    repositories: Repositories, repository: str, emptied: bool
) -> None:
    # Deleting a repository that still holds images fails; a retained one must keep them.
    written = resource(repositories.template, getattr(repositories, repository))
    assert written["Properties"].get("EmptyOnDelete", False) is emptied


def test_passes_the_compliance_packs(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    key = PlatformKey(
        stack,
        "ImagesKey",
        alias="alias/images",
        description="Images",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    key.allow_decrypt_through(service="ecr", role_arns=list(SERVING_ROLES))
    image_repository(
        stack,
        "Shared",
        repository_name="models/decision-tree",
        pull_role_arns=list(SERVING_ROLES),
        removal_policy=cdk.RemovalPolicy.RETAIN,
        encryption_key=key.key,
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
