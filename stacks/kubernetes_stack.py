"""SageMaker driven from an existing EKS cluster through the ACK SageMaker controller (ADR 0017)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

import k8s_manifests
from constructs_lib.kubernetes.ack_controller import AckSageMakerController
from constructs_lib.kubernetes.ack_namespace_role import AckNamespaceRole
from constructs_lib.kubernetes.existing_cluster import ExistingCluster
from constructs_lib.shared.job_security_group import JobSecurityGroup
from platform_config import naming
from platform_config.models import KubernetesConfig, PersonaConfig, PipelineConfig


@dataclass(frozen=True)
class NamespaceManifests:
    """What the platform applies for one namespace: its namespace, RBAC and role selector (`setup`), and
    each ACK pipeline by its configured name (`pipelines`), one CloudFormation resource each."""

    setup: list[dict[str, Any]]
    pipelines: dict[str, dict[str, Any]]


def namespace_manifests(
    *,
    kubernetes: KubernetesConfig,
    namespace_role_arns: Mapping[str, str],
    pipelines: Mapping[str, PipelineConfig],
    definition_bodies: Mapping[str, str],
    pipeline_role_arn: str,
    retain: bool,
) -> dict[str, NamespaceManifests]:
    """Every manifest of the environment by namespace: the stack applies these dicts, and
    `make k8s-manifests` writes them as the template holds them (tools/write_k8s_manifests.py)."""
    return {
        namespace.name: NamespaceManifests(
            setup=[
                k8s_manifests.namespace(namespace.name),
                *k8s_manifests.namespace_rbac(namespace.name),
                k8s_manifests.iam_role_selector(namespace.name, namespace_role_arns[namespace.name]),
            ],
            pipelines={
                name: k8s_manifests.ack_pipeline(
                    namespace_name=namespace.name,
                    name=name,
                    sagemaker_name=naming.k8s_sagemaker_name(namespace.name, name),
                    definition_body=definition_bodies[name],
                    role_arn=pipeline_role_arn,
                    description=pipelines[name].description,
                    max_parallel_steps=pipelines[name].max_parallel_steps,
                    retain=retain,
                )
                for name in namespace.pipelines
            },
        )
        for namespace in kubernetes.namespaces
    }


class KubernetesStack(Stack):
    """The ACK SageMaker controller installed in an existing cluster, a role per namespace with its
    persona's guardrails, and the namespaces' manifests (namespace, RBAC, IAMRoleSelector, ACK pipelines
    with the Pipelines stack's bodies), applied through CDK's kubectl handler as the configured kubectl
    role. Replaceable: it holds no data; in an environment that retains its stateful resources the
    SageMaker objects of the ACK resources are retained when the resources are deleted.

    Exposes `controller`, `namespace_roles` and `manifests` (by namespace).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        kubernetes: KubernetesConfig,
        personas: Mapping[str, PersonaConfig],
        role_arn_of: Mapping[str, str],
        pipelines: Sequence[PipelineConfig],
        definition_bodies: Mapping[str, str],
        pipeline_role_arn: str,
        artifact_bucket_name: str,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        retain: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        cluster = ExistingCluster(
            self,
            "ExistingCluster",
            cluster_name=kubernetes.cluster_name,
            kubectl_role_arn=kubernetes.kubectl_role_arn,
            logs_key=logs_key,
        ).cluster
        artifact_bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactBucket", bucket_name=artifact_bucket_name, encryption_key=data_key
        )
        security_group = JobSecurityGroup(
            self, "JobSecurityGroup", vpc=vpc, description="Jobs started from the Kubernetes namespaces"
        ).security_group
        self.controller = AckSageMakerController(
            self,
            "Controller",
            cluster=cluster,
            cluster_name=kubernetes.cluster_name,
            namespace=kubernetes.controller_namespace,
            role_name=naming.ack_controller_role_name(environment_name),
            pod_credentials=kubernetes.pod_credentials,
            namespace_role_arns=[role_arn_of[namespace.name] for namespace in kubernetes.namespaces],
            region=self.region,
            retain=retain,
            oidc_provider_arn=kubernetes.oidc_provider_arn,
            oidc_issuer=kubernetes.oidc_issuer,
        )
        self.namespace_roles: dict[str, AckNamespaceRole] = {}
        for namespace in kubernetes.namespaces:
            persona = personas[namespace.persona]
            self.namespace_roles[namespace.name] = AckNamespaceRole(
                self,
                f"Role-{namespace.name}",
                namespace=namespace.name,
                role_name=naming.ack_namespace_role_name(environment_name, namespace.name),
                description=f"Kubernetes namespace {namespace.name} through ACK, persona {namespace.persona}",
                controller_role=self.controller.role,
                artifact_bucket=artifact_bucket,
                scratch_prefix=naming.persona_scratch_prefix(f"k8s-{namespace.name}", namespace.persona),
                data_key=data_key,
                subnets=subnets,
                security_group=security_group,
                job_instance_types=persona.job_instance_types,
                network_isolation=persona.network_isolation,
                pipeline_names=[
                    naming.k8s_sagemaker_name(namespace.name, name) for name in namespace.pipelines
                ],
                pipeline_role_arn=pipeline_role_arn,
            )
        self.manifests = namespace_manifests(
            kubernetes=kubernetes,
            namespace_role_arns=role_arn_of,
            pipelines={pipeline.name: pipeline for pipeline in pipelines},
            definition_bodies=definition_bodies,
            pipeline_role_arn=pipeline_role_arn,
            retain=retain,
        )
        for name, manifests in self.manifests.items():
            setup = eks.KubernetesManifest(
                self, f"Namespace-{name}", cluster=cluster, manifest=manifests.setup, overwrite=True
            )
            # The selector names the namespace's role, and the IAMRoleSelector kind comes with the chart.
            setup.node.add_dependency(self.controller.chart, self.namespace_roles[name])
            for pipeline_name, manifest in manifests.pipelines.items():
                applied = eks.KubernetesManifest(
                    self, f"Pipeline-{name}-{pipeline_name}", cluster=cluster, manifest=[manifest]
                )
                # Created after, and deleted before, the controller, its role selector and the role's
                # policies: ACK deletes (or, retained, leaves) the SageMaker pipeline as that role.
                applied.node.add_dependency(setup, self.namespace_roles[name])
