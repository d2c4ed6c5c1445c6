"""The execution policy's decisions, evaluated offline with AWS's logic (tests/iam/simulate.mjs)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tools.bootstrap_policy import ROOT, execution_policies

ACCOUNT = "123456789012"
REGION = "eu-central-1"
SIMULATOR = ROOT / "tests" / "iam" / "simulate.mjs"


def _decisions(requests: list[tuple[str, str, str]]) -> list[str]:
    """(action, resource, requested region) for a role of ACCOUNT holding the policies -> decisions."""
    documents = execution_policies(
        ["AWS::SageMaker::Domain", "AWS::IAM::Role"], partition="aws", account=ACCOUNT, region=REGION
    )
    role = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}"
    simulations: list[dict[str, Any]] = [
        {
            "request": {
                "principal": role,
                "action": action,
                "resource": {"resource": resource, "accountId": resource.split(":")[4] or ACCOUNT},
                "contextVariables": {
                    "aws:RequestedRegion": region,
                    "aws:PrincipalArn": role,
                    "aws:PrincipalAccount": ACCOUNT,
                },
            },
            "identityPolicies": [
                {"name": f"cfn-exec-{index}", "policy": document}
                for index, document in enumerate(documents, start=1)
            ],
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
        }
        for action, resource, region in requests
    ]
    completed = subprocess.run(
        ["node", str(SIMULATOR)],
        input=json.dumps(simulations),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return [verdict["decision"] for verdict in json.loads(completed.stdout)]


@pytest.mark.parametrize(
    ("action", "resource", "region", "expected"),
    [
        (
            "sagemaker:CreateDomain",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/d-example",
            REGION,
            "Allowed",
        ),
        (
            "sagemaker:CreateDomain",
            f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:domain/d-example",
            "us-east-1",
            "ImplicitlyDenied",
        ),
        (
            "ssm:GetParameters",
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/cdk-bootstrap/hnb659fds/version",
            REGION,
            "Allowed",
        ),
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/example", "us-east-1", "Allowed"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/example", REGION, "Allowed"),
        ("iam:PassRole", "arn:aws:iam::210987654321:role/example", REGION, "ImplicitlyDenied"),
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/example", "us-east-1", "ImplicitlyDenied"),
        (
            "sagemaker:CreateTrainingJob",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/example",
            REGION,
            "ImplicitlyDenied",
        ),
    ],
)
def test_the_policy_allows_what_the_types_need_in_the_environment_only(
    action: str, resource: str, region: str, expected: str
) -> None:
    assert _decisions([(action, resource, region)]) == [expected]
