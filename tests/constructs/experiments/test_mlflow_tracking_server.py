"""MlflowTrackingServer: a managed MLflow tracking server with a fixed name, its artifact store under a
prefix of the artifact bucket, and a role limited to that prefix (and to model registration when on);
`grant_tracking_server_access` lets a client use exactly one tracking server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.experiments.mlflow_tracking_server import (
    MlflowTrackingServer,
    grant_tracking_server_access,
)
from tests.constructs.support import ACCOUNT, REGION, bare_stack, logical_id, resource, synthesize

BUCKET = "dev-sagemaker-platform-artifacts"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1a1a1a1a-1a1a-1a1a-1a1a-1a1a1a1a1a1a"
SERVER_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/dev-sagemaker-platform"
REGISTRATION_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateModelPackage",
    "sagemaker:CreateModelPackageGroup",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:UpdateModelPackage",
]


@dataclass(frozen=True)
class Servers:
    template: Template
    nag_errors: list[str]
    server: MlflowTrackingServer  # every option, registration on, bucket with its key
    plain: MlflowTrackingServer  # the defaults, bucket by name
    client: str  # a client's managed policy with grant_tracking_server_access

    def logical(self, server: str, child: str) -> str:
        return logical_id(getattr(self, server).node.find_child(child))

    def properties(self, server: str, child: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.logical(server, child))["Properties"]
        return written

    def statements(self, server: str) -> list[dict[str, Any]]:
        written: list[dict[str, Any]] = self.properties(server, "Policy")["PolicyDocument"]["Statement"]
        return written


@pytest.fixture(scope="module")
def servers(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Servers:
    outdir = tmp_path_factory.mktemp("mlflow")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    server = MlflowTrackingServer(
        stack,
        "Mlflow",
        tracking_server_name="dev-sagemaker-platform",
        artifact_bucket=s3.Bucket.from_bucket_attributes(
            stack,
            "Artifacts",
            bucket_name=BUCKET,
            encryption_key=kms.Key.from_key_arn(stack, "DataKey", KEY_ARN),
        ),
        artifact_prefix="mlflow",
        size="Medium",
        mlflow_version="2.16",
        automatic_model_registration=True,
        weekly_maintenance_window="Sun:03:30",
    )
    plain = MlflowTrackingServer(
        stack,
        "Plain",
        tracking_server_name="qa-sagemaker-platform",
        artifact_bucket=s3.Bucket.from_bucket_name(stack, "QaArtifacts", "qa-artifacts"),
        artifact_prefix="tracking/mlflow",
        size="Small",
    )
    client_role = iam.Role(stack, "ClientRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    client = iam.ManagedPolicy(stack, "ClientPolicy", roles=[client_role])
    grant_tracking_server_access(client, SERVER_ARN)
    synthesized = synthesize(stack, outdir)
    return Servers(synthesized.template, synthesized.nag_errors, server, plain, logical_id(client))


# --- the tracking server ---------------------------------------------------------------------------------


def test_the_tracking_server_with_every_option(servers: Servers) -> None:
    assert servers.properties("server", "TrackingServer") == {
        "TrackingServerName": "dev-sagemaker-platform",
        "ArtifactStoreUri": f"s3://{BUCKET}/mlflow",
        "TrackingServerSize": "Medium",
        "MlflowVersion": "2.16",
        "AutomaticModelRegistration": True,
        "WeeklyMaintenanceWindowStart": "Sun:03:30",
        "RoleArn": {"Fn::GetAtt": [servers.logical("server", "Role"), "Arn"]},
    }


def test_the_defaults_leave_version_and_window_to_sagemaker(servers: Servers) -> None:
    assert servers.properties("plain", "TrackingServer") == {
        "TrackingServerName": "qa-sagemaker-platform",
        "ArtifactStoreUri": "s3://qa-artifacts/tracking/mlflow",
        "TrackingServerSize": "Small",
        "AutomaticModelRegistration": False,
        "RoleArn": {"Fn::GetAtt": [servers.logical("plain", "Role"), "Arn"]},
    }


def test_exposes_the_servers_arn(servers: Servers) -> None:
    assert Stack.of(servers.server).resolve(servers.server.arn) == {
        "Fn::GetAtt": [servers.logical("server", "TrackingServer"), "TrackingServerArn"]
    }


def test_the_server_is_created_after_its_policy(servers: Servers) -> None:
    written = resource(servers.template, servers.logical("server", "TrackingServer"))
    assert written["DependsOn"] == [servers.logical("server", "Policy")]


# --- its role --------------------------------------------------------------------------------------------


def test_only_sagemaker_may_assume_the_role(servers: Servers) -> None:
    role = servers.properties("server", "Role")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role
    assert servers.properties("server", "Policy")["Roles"] == [{"Ref": servers.logical("server", "Role")}]
    servers.template.resource_count_is("AWS::IAM::Policy", 0)  # nothing inline


@pytest.mark.parametrize(
    ("server", "bucket", "prefix"),
    [("server", BUCKET, "mlflow"), ("plain", "qa-artifacts", "tracking/mlflow")],
)
def test_objects_only_under_the_artifact_prefix(
    servers: Servers, server: str, bucket: str, prefix: str
) -> None:
    (s3_statement,) = [
        statement for statement in servers.statements(server) if "s3:GetObject*" in statement["Action"]
    ]
    assert s3_statement["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{prefix}/*"]
    assert {"s3:PutObject", "s3:DeleteObject*"} <= set(s3_statement["Action"])


def test_the_buckets_key_when_the_bucket_carries_one(servers: Servers) -> None:
    kms_statements = [s for s in servers.statements("server") if "kms:Decrypt" in s["Action"]]
    assert [statement["Resource"] for statement in kms_statements] == [KEY_ARN]
    assert not [s for s in servers.statements("plain") if any(a.startswith("kms:") for a in s["Action"])]


def test_registers_models_only_when_automatic_registration_is_on(servers: Servers) -> None:
    (registration,) = [s for s in servers.statements("server") if s.get("Sid") == "RegisterMlflowModels"]
    assert registration == {
        "Sid": "RegisterMlflowModels",
        "Action": REGISTRATION_ACTIONS,
        "Effect": "Allow",
        "Resource": [
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/*",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/*",
        ],
    }
    assert not [
        statement
        for statement in servers.statements("plain")
        if any(action.startswith("sagemaker:") for action in statement["Action"])
    ]


# --- clients -----------------------------------------------------------------------------------------------


def test_clients_may_use_exactly_the_one_tracking_server(servers: Servers) -> None:
    policy = resource(servers.template, servers.client)["Properties"]["PolicyDocument"]
    assert policy["Statement"] == [
        {
            "Sid": "UseMlflowTrackingServer",
            "Action": [
                "sagemaker-mlflow:*",
                "sagemaker:CreatePresignedMlflowTrackingServerUrl",
                "sagemaker:DescribeMlflowTrackingServer",
            ],
            "Effect": "Allow",
            "Resource": SERVER_ARN,
        }
    ]


def test_passes_the_compliance_packs_with_its_acknowledgements(servers: Servers) -> None:
    # Registration on (its wildcard resources), a client grant (sagemaker-mlflow:*), and both buckets.
    assert servers.nag_errors == []
