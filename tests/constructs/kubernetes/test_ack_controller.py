"""ExistingCluster, AckSageMakerController and AckNamespaceRole, each in a bare stack: the kubectl
handler; the chart, the controller's trust and its one grant; the namespace role's trust, isolation and
pipelines; what must be refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

import k8s_manifests
from constructs_lib.kubernetes.ack_controller import AckSageMakerController
from constructs_lib.kubernetes.ack_namespace_role import NAMESPACE_TAG, AckNamespaceRole
from constructs_lib.kubernetes.existing_cluster import ExistingCluster
from tests.constructs.support import ACCOUNT, REGION, SECURITY_GROUP_ID, bare_stack, imported_subnets, synth

NAMESPACE_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/team-role"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC123"
PIPELINE_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/pipelines"
KUBECTL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/cluster-admin"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1a1a1a1a-1a1a-1a1a-1a1a-1a1a1a1a1a1a"


def _controller(cdk_context: dict[str, Any], credentials: str, **extra: Any) -> Template:
    stack = bare_stack(cdk_context)
    cluster = eks.Cluster.from_cluster_attributes(
        stack,
        "Cluster",
        cluster_name="team-cluster",
        kubectl_provider=eks.KubectlProvider.from_kubectl_provider_attributes(
            stack, "Provider", service_token="arn:aws:lambda:eu-west-1:123456789012:function:kubectl"
        ),
    )
    AckSageMakerController(
        stack,
        "Controller",
        cluster=cluster,
        cluster_name="team-cluster",
        namespace="ack",
        role_name="controller",
        pod_credentials=credentials,  # type: ignore[arg-type]
        namespace_role_arns=[NAMESPACE_ROLE_ARN],
        region=REGION,
        retain=False,
        **extra,
    )
    return Template.from_stack(stack)


def test_with_pod_identity_an_association_binds_the_role_before_the_chart(
    cdk_context: dict[str, Any],
) -> None:
    template = _controller(cdk_context, "pod_identity")
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "controller",
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": ["sts:AssumeRole", "sts:TagSession"],
                            "Principal": {"Service": "pods.eks.amazonaws.com"},
                        }
                    )
                ]
            },
        },
    )
    template.has_resource_properties(
        "AWS::EKS::PodIdentityAssociation",
        {
            "ClusterName": "team-cluster",
            "Namespace": "ack",
            "ServiceAccount": k8s_manifests.CONTROLLER_SERVICE_ACCOUNT,
        },
    )
    (association,) = template.find_resources("AWS::EKS::PodIdentityAssociation")
    (chart,) = template.find_resources("Custom::AWSCDK-EKS-HelmChart").values()
    assert association in chart["DependsOn"]
    assert json.loads(chart["Properties"]["Values"])["serviceAccount"]["annotations"] == {}


def test_with_irsa_the_role_trusts_the_provider_for_the_controller_s_service_account(
    cdk_context: dict[str, Any],
) -> None:
    template = _controller(
        cdk_context,
        "irsa",
        oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}",
        oidc_issuer=ISSUER,
    )
    template.resource_count_is("AWS::EKS::PodIdentityAssociation", 0)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {
                                    f"{ISSUER}:sub": "system:serviceaccount:ack:ack-sagemaker-controller",
                                    f"{ISSUER}:aud": "sts.amazonaws.com",
                                }
                            },
                        }
                    )
                ]
            }
        },
    )
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Sid": "AssumeNamespaceRoles",
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": NAMESPACE_ROLE_ARN,
                    }
                ]
            }
        },
    )


def test_irsa_without_the_provider_is_refused(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(Exception, match="IRSA needs the cluster's OIDC provider"):
        _controller(cdk_context, "irsa")


def _namespace_role(cdk_context: dict[str, Any], **extra: Any) -> Template:
    stack = bare_stack(cdk_context)
    AckNamespaceRole(
        stack,
        "Namespace",
        namespace="team-a",
        role_name="team-role",
        description="team-a through ACK",
        controller_role=iam.Role.from_role_arn(
            stack, "Controller", f"arn:aws:iam::{ACCOUNT}:role/controller"
        ),
        artifact_bucket=s3.Bucket.from_bucket_name(stack, "Artifacts", "artifacts"),
        scratch_prefix="scratch/k8s-team-a/p",
        data_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        subnets=imported_subnets(stack),
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "Jobs", SECURITY_GROUP_ID),
        job_instance_types=["ml.m5.large"],
        network_isolation=False,
        **extra,
    )
    return Template.from_stack(stack)


def test_the_namespace_role_is_assumed_by_the_controller_and_isolated_from_other_namespaces(
    cdk_context: dict[str, Any],
) -> None:
    template = _namespace_role(cdk_context)
    (role,) = template.find_resources("AWS::IAM::Role").values()
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/controller"},
    } in trust
    assert role["Properties"]["RoleName"] == "team-role"
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    denies = {s["Sid"]: s["Condition"] for s in statements if s["Effect"] == "Deny"}
    assert denies == {
        "DenyOtherNamespacesResources": {
            "StringNotEquals": {f"aws:ResourceTag/{NAMESPACE_TAG}": "team-a"},
            "Null": {f"aws:ResourceTag/{NAMESPACE_TAG}": "false"},
        },
        "DenyTaggingForOtherNamespaces": {
            "StringNotEquals": {f"aws:RequestTag/{NAMESPACE_TAG}": "team-a"},
            "Null": {f"aws:RequestTag/{NAMESPACE_TAG}": "false"},
        },
    }
    assert not [s for s in statements if "sagemaker:CreatePipeline" in s.get("Action", [])]
    # No Studio storage: no key but the data key.
    assert "studio" not in json.dumps(statements).lower()


def test_the_namespace_role_manages_exactly_its_pipelines(cdk_context: dict[str, Any]) -> None:
    template = _namespace_role(
        cdk_context, pipeline_names=["team-a-Build"], pipeline_role_arn=PIPELINE_ROLE_ARN
    )
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "ManageOwnPipelines",
                                "Resource": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/team-a-build",
                            }
                        ),
                        Match.object_like(
                            {
                                "Sid": "PassPipelineRole",
                                "Action": "iam:PassRole",
                                "Resource": PIPELINE_ROLE_ARN,
                                "Condition": {
                                    "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
                                },
                            }
                        ),
                    ]
                )
            }
        },
    )


def test_pipelines_without_the_role_they_run_as_are_refused(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="ACK pipelines need the role they run as"):
        _namespace_role(cdk_context, pipeline_names=["team-a-build"])


def test_the_existing_cluster_s_kubectl_handler_runs_as_the_given_role_outside_the_vpc(
    cdk_context: dict[str, Any],
) -> None:
    stack = bare_stack(cdk_context, nag=True)
    logs_key = kms.Key(stack, "LogsKey", enable_key_rotation=True)
    ExistingCluster(
        stack, "Existing", cluster_name="team-cluster", kubectl_role_arn=KUBECTL_ROLE, logs_key=logs_key
    )
    synth(stack)  # cdk-nag: nothing unacknowledged
    template = Template.from_stack(stack)
    functions = template.find_resources("AWS::Lambda::Function")
    handler = next(f for f in functions.values() if f["Properties"].get("Role") == KUBECTL_ROLE)
    assert "VpcConfig" not in handler["Properties"]
    assert len(handler["Properties"]["Layers"]) == 2
    for log_group in template.find_resources("AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in log_group["Properties"]
        assert log_group["DeletionPolicy"] == "Delete"
    for layer in template.find_resources("AWS::Lambda::LayerVersion").values():
        assert layer["DeletionPolicy"] == "Delete"
    assert "Conditions" not in template.to_json()
    # The platform writes nothing on a role it does not own.
    template.resource_count_is("AWS::IAM::Role", 1)  # the provider framework's own
