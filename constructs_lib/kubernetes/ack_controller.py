"""The ACK SageMaker controller in an existing EKS cluster: its Helm chart and its pod's IAM role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_cdk import Duration
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

import k8s_manifests


class AckSageMakerController(Construct):
    """The controller's chart (public OCI chart, pinned version, `k8s_manifests.controller_values`) and its
    role. With Pod Identity the role trusts EKS's pod credentials service, and an association binds it to
    the controller's service account in this cluster (the association, not the trust, names the account);
    with IRSA it trusts the cluster's OIDC provider for exactly that service account. The role may only
    assume the namespaces' roles (`namespace_role_arns`): every SageMaker call is made as a namespace's role
    (ADR 0017).

    Exposes `role`, `values` (the chart's) and `chart` (the resources of the namespaces depend on it: its
    CRDs first, and on deletion the controller must outlive them to delete their SageMaker objects).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        cluster_name: str,
        namespace: str,
        role_name: str,
        pod_credentials: Literal["pod_identity", "irsa"],
        namespace_role_arns: Sequence[str],
        region: str,
        retain: bool,
        oidc_provider_arn: str | None = None,
        oidc_issuer: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        service_account = k8s_manifests.CONTROLLER_SERVICE_ACCOUNT
        if pod_credentials == "irsa":
            if oidc_provider_arn is None or oidc_issuer is None:
                raise ValueError("IRSA needs the cluster's OIDC provider ARN and issuer")
            principal: iam.IPrincipal = iam.FederatedPrincipal(
                oidc_provider_arn,
                {
                    "StringEquals": {
                        f"{oidc_issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{oidc_issuer}:aud": "sts.amazonaws.com",
                    }
                },
                "sts:AssumeRoleWithWebIdentity",
            )
        else:
            # EKS Pod Identity assumes the role and tags the session: both actions are required.
            principal = iam.ServicePrincipal("pods.eks.amazonaws.com").with_session_tags()
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=principal,
            description="ACK SageMaker controller: assumes the namespaces' roles, nothing else",
        )
        iam.ManagedPolicy(
            self,
            "AssumeNamespaceRoles",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="AssumeNamespaceRoles",
                    actions=["sts:AssumeRole"],
                    resources=list(namespace_role_arns),
                )
            ],
        )
        self.values = k8s_manifests.controller_values(
            region=region,
            deletion_policy="retain" if retain else "delete",
            irsa_role_arn=self.role.role_arn if pod_credentials == "irsa" else None,
        )
        self.chart = eks.HelmChart(
            self,
            "Chart",
            cluster=cluster,
            chart=k8s_manifests.CHART_NAME,
            repository=k8s_manifests.CHART_REPOSITORY,
            version=k8s_manifests.CHART_VERSION,
            namespace=namespace,
            create_namespace=True,
            release="ack-sagemaker-controller",
            values=self.values,
            wait=True,
            timeout=Duration.minutes(10),
        )
        if pod_credentials == "pod_identity":
            association = eks_l1.CfnPodIdentityAssociation(
                self,
                "PodIdentity",
                cluster_name=cluster_name,
                namespace=namespace,
                service_account=service_account,
                role_arn=self.role.role_arn,
            )
            # The pod starts with its credentials: the association exists before the chart.
            self.chart.node.add_dependency(association)
