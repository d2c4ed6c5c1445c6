"""StudioSignInPolicy: open Studio only as the profile named by the caller's principal tag, in one domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.studio.studio_sign_in_policy import PROFILE_TAG_KEY, StudioSignInPolicy
from tests.constructs.support import bare_stack, synth

DOMAIN_ID = "d-abc123def456"
SAGEMAKER_ARN = "arn:aws:sagemaker:eu-west-1:123456789012"


@pytest.fixture(scope="module")
def statements(cdk_context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stack = bare_stack(cdk_context)
    StudioSignInPolicy(stack, "SignIn", domain_id=DOMAIN_ID, domain_arn=f"{SAGEMAKER_ARN}:domain/{DOMAIN_ID}")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    return {statement["Sid"]: statement for statement in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_presigned_url_only_for_the_profile_named_by_the_principal_tag(
    statements: dict[str, dict[str, Any]],
) -> None:
    assert PROFILE_TAG_KEY == "studio-user-profile"
    assert statements["OpenStudioAsOwnProfile"] == {
        "Sid": "OpenStudioAsOwnProfile",
        "Effect": "Allow",
        "Action": "sagemaker:CreatePresignedDomainUrl",
        "Resource": f"{SAGEMAKER_ARN}:user-profile/{DOMAIN_ID}/${{aws:PrincipalTag/studio-user-profile}}",
    }
    presigned = [sid for sid, s in statements.items() if "sagemaker:CreatePresignedDomainUrl" in s["Action"]]
    assert presigned == ["OpenStudioAsOwnProfile"]


def test_describe_only_this_domain_and_its_profiles(statements: dict[str, dict[str, Any]]) -> None:
    assert statements["SeeTheDomainInTheConsole"]["Resource"] == f"{SAGEMAKER_ARN}:domain/{DOMAIN_ID}"
    assert statements["SeeProfilesOfTheDomain"]["Resource"] == f"{SAGEMAKER_ARN}:user-profile/{DOMAIN_ID}/*"


def test_only_list_calls_on_every_resource(statements: dict[str, dict[str, Any]]) -> None:
    on_everything = {sid: s["Action"] for sid, s in statements.items() if s["Resource"] == "*"}
    assert on_everything == {
        "ListInTheConsole": ["sagemaker:ListDomains", "sagemaker:ListSpaces", "sagemaker:ListUserProfiles"]
    }
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements.values())


def test_passes_the_compliance_packs_with_domain_tokens(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    domain = cdk.CfnResource(
        stack,
        "Domain",
        type="AWS::SageMaker::Domain",
        properties={
            "AuthMode": "IAM",
            "DomainName": "ml-research",
            "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::123456789012:role/persona"},
            "SubnetIds": ["subnet-0a1b2c3d4e5f60001"],
            "VpcId": "vpc-0a1b2c3d4e5f60001",
        },
    )
    StudioSignInPolicy(
        stack,
        "SignIn",
        domain_id=domain.get_att("DomainId").to_string(),
        domain_arn=domain.get_att("DomainArn").to_string(),
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
