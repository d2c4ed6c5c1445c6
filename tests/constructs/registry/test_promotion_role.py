"""PromotionRole: trusted by its own account; may only assume (and tag sessions of) the deployment roles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.registry.promotion_role import PromotionRole
from tests.constructs.support import bare_stack, logical_id, resource, synth

PROD_DEPLOYMENT = "arn:aws:iam::330000000003:role/prod-sagemaker-platform-deployment"
STAGING_DEPLOYMENT = "arn:aws:iam::220000000002:role/staging-sagemaker-platform-deployment"


@dataclass(frozen=True)
class Promotion:
    template: Template
    role: str
    policy: str


@pytest.fixture(scope="module")
def promotion(cdk_context: dict[str, Any]) -> Promotion:
    stack = bare_stack(cdk_context)
    construct = PromotionRole(
        stack,
        "Promotion",
        role_name="dev-sagemaker-platform-promotion",
        deployment_role_arns=[PROD_DEPLOYMENT, STAGING_DEPLOYMENT, PROD_DEPLOYMENT],
    )
    return Promotion(
        Template.from_stack(stack),
        role=logical_id(construct.role),
        policy=logical_id(construct.node.find_child("Policy")),
    )


def test_fixed_name_trusted_by_its_own_account(promotion: Promotion) -> None:
    written = resource(promotion.template, promotion.role)["Properties"]
    assert written["RoleName"] == "dev-sagemaker-platform-promotion"
    # Who may assume it is decided by identity policies of this account.
    assert written["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        }
    ]
    assert "Policies" not in written
    assert "ManagedPolicyArns" not in written


def test_may_only_assume_the_deployment_roles_sorted_and_deduplicated(promotion: Promotion) -> None:
    written = resource(promotion.template, promotion.policy)["Properties"]
    assert written["Roles"] == [{"Ref": promotion.role}]
    assert written["PolicyDocument"]["Statement"] == [
        {
            "Sid": "AssumeServedDeploymentRoles",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": [STAGING_DEPLOYMENT, PROD_DEPLOYMENT],
        }
    ]


def test_nothing_else(promotion: Promotion) -> None:
    promotion.template.resource_count_is("AWS::IAM::Role", 1)
    promotion.template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    promotion.template.resource_count_is("AWS::IAM::Policy", 0)


def test_passes_the_compliance_packs(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    PromotionRole(
        stack,
        "Promotion",
        role_name="dev-sagemaker-platform-promotion",
        deployment_role_arns=[PROD_DEPLOYMENT, STAGING_DEPLOYMENT],
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
