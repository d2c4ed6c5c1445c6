"""ModelPackageGroup: a named group of the registry whose packages exactly the given roles of other accounts
may describe and list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.registry.model_package_group import SERVING_ACTIONS, ModelPackageGroup
from tests.constructs.support import bare_stack, logical_id, resource, synth

PROD_SERVING = "arn:aws:iam::330000000003:role/prod-sagemaker-platform-serving"
PROD_DEPLOYMENT = "arn:aws:iam::330000000003:role/prod-sagemaker-platform-deployment"
STAGING_SERVING = "arn:aws:iam::220000000002:role/staging-sagemaker-platform-serving"


@dataclass(frozen=True)
class Groups:
    template: Template
    shared: ModelPackageGroup  # three roles of two accounts (one listed twice), retained
    private: ModelPackageGroup  # no readers, deleted with the stack
    mixed_case: ModelPackageGroup  # a mixed-case name, one reader

    def written(self, group: str) -> dict[str, Any]:
        return resource(self.template, logical_id(getattr(self, group).resource))


@pytest.fixture(scope="module")
def groups(cdk_context: dict[str, Any]) -> Groups:
    stack = bare_stack(cdk_context)
    shared = ModelPackageGroup(
        stack,
        "Churn",
        group_name="churn-prediction",
        description="Customer churn, gradient-boosted trees",
        reader_role_arns=[PROD_SERVING, STAGING_SERVING, PROD_DEPLOYMENT, PROD_SERVING],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    private = ModelPackageGroup(
        stack,
        "Scratch",
        group_name="scratch",
        description="Experiments",
        reader_role_arns=[],
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    mixed_case = ModelPackageGroup(
        stack,
        "Forecast",
        group_name="Demand-Forecast",
        description="Demand forecast",
        reader_role_arns=[STAGING_SERVING],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    return Groups(Template.from_stack(stack), shared=shared, private=private, mixed_case=mixed_case)


def test_the_group_is_named_and_described(groups: Groups) -> None:
    written = groups.written("shared")
    assert written["Type"] == "AWS::SageMaker::ModelPackageGroup"
    assert written["Properties"]["ModelPackageGroupName"] == "churn-prediction"
    assert written["Properties"]["ModelPackageGroupDescription"] == "Customer churn, gradient-boosted trees"
    groups.template.resource_count_is("AWS::SageMaker::ModelPackageGroup", 3)


def test_name_and_arn_are_exposed(groups: Groups) -> None:
    stack = cdk.Stack.of(groups.shared)
    assert groups.shared.name == "churn-prediction"
    assert stack.resolve(groups.shared.arn) == (
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/churn-prediction"
    )


@pytest.mark.parametrize(("group", "policy"), [("shared", "Retain"), ("private", "Delete")])
def test_removal_policy_applies(groups: Groups, group: str, policy: str) -> None:
    written = groups.written(group)
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


def test_only_the_reader_roles_may_describe_and_list_the_packages(groups: Groups) -> None:
    assert groups.written("shared")["Properties"]["ModelPackageGroupPolicy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ServingRolesUseThePackages",
                "Effect": "Allow",
                # The roles' accounts, each once and sorted...
                "Principal": {"AWS": ["arn:aws:iam::220000000002:root", "arn:aws:iam::330000000003:root"]},
                "Action": [
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:DescribeModelPackageGroup",
                    "sagemaker:ListModelPackages",
                ],
                # The group and its versions, nothing else of the registry.
                "Resource": [
                    "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/churn-prediction",
                    "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-prediction/*",
                ],
                # ... and exactly the roles, deduplicated and sorted.
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": [STAGING_SERVING, PROD_DEPLOYMENT, PROD_SERVING]}
                },
            }
        ],
    }


def test_a_mixed_case_groups_versions_are_named_as_given_and_lower_cased(groups: Groups) -> None:
    (statement,) = groups.written("mixed_case")["Properties"]["ModelPackageGroupPolicy"]["Statement"]
    assert statement["Resource"] == [
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/Demand-Forecast",
        # SageMaker writes the group's name lower-cased in its versions' ARNs.
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/Demand-Forecast/*",
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/demand-forecast/*",
    ]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::220000000002:root"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [STAGING_SERVING]}}


def test_the_serving_actions_are_read_only() -> None:
    assert SERVING_ACTIONS == (
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:ListModelPackages",
    )


def test_no_readers_no_policy(groups: Groups) -> None:
    assert groups.written("private")["Properties"] == {
        "ModelPackageGroupName": "scratch",
        "ModelPackageGroupDescription": "Experiments",
    }


def test_a_reader_that_is_not_a_role_is_refused(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="is not an IAM role ARN"):
        ModelPackageGroup(
            bare_stack(cdk_context),
            "Group",
            group_name="churn",
            description="Churn",
            reader_role_arns=["arn:aws:iam::330000000003:root"],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )


def test_passes_the_compliance_packs(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    ModelPackageGroup(
        stack,
        "Churn",
        group_name="churn-prediction",
        description="Customer churn",
        reader_role_arns=[PROD_SERVING, STAGING_SERVING],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
