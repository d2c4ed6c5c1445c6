"""DeploymentRole: assumed by exactly the trusted promotion roles (with the external id and organization when
configured); deploys SageMaker models and endpoints here, passing only the serving execution role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.serving.deployment_role import DeploymentRole
from tests.constructs.support import bare_stack, logical_id, resource, synth

DEV_PROMOTION = "arn:aws:iam::110000000001:role/dev-sagemaker-platform-promotion"
STAGING_PROMOTION = "arn:aws:iam::220000000002:role/staging-sagemaker-platform-promotion"
STAGING_RELEASE = "arn:aws:iam::220000000002:role/release/promoter"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/prod-sagemaker-platform-serving"
PACKAGE_ARNS = (
    "arn:aws:sagemaker:eu-central-1:220000000002:model-package-group/churn",
    "arn:aws:sagemaker:eu-central-1:220000000002:model-package/churn/*",
)
DEPLOY_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateModel",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteModel",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeModel",
    "sagemaker:UpdateEndpoint",
]


@dataclass(frozen=True)
class Roles:
    template: Template
    guarded: DeploymentRole  # two accounts' roles (one listed twice), external id, organization, packages
    external_id_only: DeploymentRole
    organization_only: DeploymentRole
    plain: DeploymentRole  # one trusted role, nothing else, no packages

    def role(self, name: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, logical_id(getattr(self, name).role))["Properties"]
        return written

    def trust(self, name: str) -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = self.role(name)["AssumeRolePolicyDocument"]["Statement"]
        return statements

    def policy(self, name: str) -> dict[str, Any]:
        construct = getattr(self, name)
        written: dict[str, Any] = resource(self.template, logical_id(construct.node.find_child("Policy")))[
            "Properties"
        ]
        return written

    def statements(self, name: str) -> dict[str, dict[str, Any]]:
        written: list[dict[str, Any]] = self.policy(name)["PolicyDocument"]["Statement"]
        by_sid = {statement["Sid"]: statement for statement in written}
        assert len(by_sid) == len(written)
        return by_sid


@pytest.fixture(scope="module")
def roles(cdk_context: dict[str, Any]) -> Roles:
    stack = bare_stack(cdk_context)

    def role(
        construct_id: str, trusted: list[str], packages: tuple[str, ...] = (), **kwargs: str
    ) -> DeploymentRole:
        return DeploymentRole(
            stack,
            construct_id,
            role_name=f"prod-{construct_id.lower()}-deployment",
            trusted_role_arns=trusted,
            execution_role_arn=EXECUTION_ROLE,
            model_package_arns=packages,
            **kwargs,
        )

    guarded = role(
        "Guarded",
        [STAGING_PROMOTION, DEV_PROMOTION, STAGING_RELEASE, STAGING_PROMOTION],
        PACKAGE_ARNS,
        external_id="platform-7f3a",
        organization_id="o-a1b2c3d4e5",
    )
    external_id_only = role("ExternalIdOnly", [STAGING_PROMOTION], external_id="platform-7f3a")
    organization_only = role("OrganizationOnly", [STAGING_PROMOTION], organization_id="o-a1b2c3d4e5")
    plain = role("Plain", [STAGING_PROMOTION])
    return Roles(Template.from_stack(stack), guarded, external_id_only, organization_only, plain)


def test_fixed_name(roles: Roles) -> None:
    assert roles.role("guarded")["RoleName"] == "prod-guarded-deployment"
    assert roles.role("plain")["RoleName"] == "prod-plain-deployment"


def test_trusted_by_exactly_the_promotion_roles_with_external_id_and_organization(roles: Roles) -> None:
    accounts = ["arn:aws:iam::110000000001:root", "arn:aws:iam::220000000002:root"]
    # ... exactly the roles, deduplicated and sorted ...
    only_those_roles = {"aws:PrincipalArn": [DEV_PROMOTION, STAGING_RELEASE, STAGING_PROMOTION]}
    assert roles.trust("guarded") == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            # The roles' accounts, each once and sorted...
            "Principal": {"AWS": accounts},
            "Condition": {
                "ArnEquals": only_those_roles,
                # ... with the external id, from the organization.
                "StringEquals": {"sts:ExternalId": "platform-7f3a", "aws:PrincipalOrgID": "o-a1b2c3d4e5"},
            },
        },
        {
            # sts:TagSession has no sts:ExternalId key: it would never match a condition on it.
            "Action": "sts:TagSession",
            "Effect": "Allow",
            "Principal": {"AWS": accounts},
            "Condition": {
                "ArnEquals": only_those_roles,
                "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
            },
        },
    ]


@pytest.mark.parametrize(
    ("name", "string_equals"),
    [
        ("external_id_only", {"sts:ExternalId": "platform-7f3a"}),
        ("organization_only", {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}),
        ("plain", None),
    ],
)
def test_external_id_and_organization_only_when_given(
    roles: Roles, name: str, string_equals: dict[str, str] | None
) -> None:
    condition: dict[str, Any] = {"ArnEquals": {"aws:PrincipalArn": [STAGING_PROMOTION]}}
    if string_equals is not None:
        condition["StringEquals"] = string_equals
    principal = {"AWS": "arn:aws:iam::220000000002:root"}
    if name == "external_id_only":
        # sts:TagSession has no sts:ExternalId key: its statement keeps only the role condition.
        assert roles.trust(name) == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": principal, "Condition": condition},
            {
                "Action": "sts:TagSession",
                "Effect": "Allow",
                "Principal": principal,
                "Condition": {"ArnEquals": condition["ArnEquals"]},
            },
        ]
        return
    # Without an external id both statements have the same conditions, and CDK merges them.
    assert roles.trust(name) == [
        {
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Effect": "Allow",
            "Principal": principal,
            "Condition": condition,
        }
    ]


@pytest.mark.parametrize("name", ["guarded", "plain"])
def test_deploys_only_models_endpoint_configs_and_endpoints_of_this_account_and_region(
    roles: Roles, name: str
) -> None:
    assert roles.statements(name)["DeployModels"] == {
        "Sid": "DeployModels",
        "Effect": "Allow",
        "Action": DEPLOY_ACTIONS,
        "Resource": [
            "arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/*",
            "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/*",
            "arn:aws:sagemaker:eu-west-1:123456789012:model/*",
        ],
    }


@pytest.mark.parametrize("name", ["guarded", "plain"])
def test_passes_only_the_execution_role_only_to_sagemaker(roles: Roles, name: str) -> None:
    assert roles.statements(name)["PassOnlyTheServingRole"] == {
        "Sid": "PassOnlyTheServingRole",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": EXECUTION_ROLE,
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    }


def test_reads_the_given_model_packages(roles: Roles) -> None:
    assert list(roles.statements("guarded")) == [
        "DeployModels",
        "PassOnlyTheServingRole",
        "ReadSourceModelPackages",
    ]
    assert roles.statements("guarded")["ReadSourceModelPackages"] == {
        "Sid": "ReadSourceModelPackages",
        "Effect": "Allow",
        "Action": ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
        "Resource": list(PACKAGE_ARNS),
    }


@pytest.mark.parametrize("name", ["external_id_only", "organization_only", "plain"])
def test_no_model_package_statement_without_packages(roles: Roles, name: str) -> None:
    assert list(roles.statements(name)) == ["DeployModels", "PassOnlyTheServingRole"]


def test_everything_it_may_do_is_in_its_managed_policy(roles: Roles) -> None:
    for name in ("guarded", "external_id_only", "organization_only", "plain"):
        written = roles.role(name)
        assert "Policies" not in written
        assert "ManagedPolicyArns" not in written
        assert roles.policy(name)["Roles"] == [{"Ref": logical_id(getattr(roles, name).role)}]
    roles.template.resource_count_is("AWS::IAM::Policy", 0)


def test_without_trusted_roles_it_is_refused(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="a deployment role needs at least one trusted role"):
        DeploymentRole(
            bare_stack(cdk_context),
            "Deployment",
            role_name="prod-deployment",
            trusted_role_arns=[],
            execution_role_arn=EXECUTION_ROLE,
            model_package_arns=[],
        )


def test_a_trusted_principal_that_is_not_a_role_is_refused(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="is not an IAM role ARN"):
        DeploymentRole(
            bare_stack(cdk_context),
            "Deployment",
            role_name="prod-deployment",
            trusted_role_arns=["arn:aws:iam::220000000002:root"],
            execution_role_arn=EXECUTION_ROLE,
            model_package_arns=[],
        )


def test_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    DeploymentRole(
        stack,
        "Deployment",
        role_name="prod-sagemaker-platform-deployment",
        trusted_role_arns=[STAGING_PROMOTION, DEV_PROMOTION],
        execution_role_arn=EXECUTION_ROLE,
        model_package_arns=PACKAGE_ARNS,
        external_id="platform-7f3a",
        organization_id="o-a1b2c3d4e5",
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
