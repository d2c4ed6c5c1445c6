"""SageMaker driven from an existing EKS cluster through the ACK SageMaker controller (ADR 0016)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer
from constructs import Construct

import k8s_manifests
from constructs_lib.ack_controller import AckSageMakerController
from constructs_lib.ack_namespace_role import AckNamespaceRole
from constructs_lib.compliance import acknowledge
from constructs_lib.job_security_group import JobSecurityGroup
from constructs_lib.provider_framework import acknowledge_provider_framework
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
        kubectl_layer = KubectlV35Layer(self, "KubectlLayer")
        # The kubectl handler runs outside the VPC: it reaches the cluster's API endpoint and the chart's
        # public registry (public.ecr.aws), neither of which the platform's isolated subnets can reach.
        kubectl_provider = eks.KubectlProvider(
            self,
            "KubectlProvider",
            # An imported cluster takes a provider, not provider options: the provider needs only its ARN.
            cluster=eks.Cluster.from_cluster_attributes(
                self, "ClusterArn", cluster_name=kubernetes.cluster_name
            ),
            kubectl_layer=kubectl_layer,
            role=iam.Role.from_role_arn(self, "KubectlRole", kubernetes.kubectl_role_arn, mutable=False),
        )
        cluster = eks.Cluster.from_cluster_attributes(
            self, "Cluster", cluster_name=kubernetes.cluster_name, kubectl_provider=kubectl_provider
        )
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
        self._harden_kubectl_provider(kubectl_provider, logs_key)

    def _harden_kubectl_provider(self, provider: eks.KubectlProvider, logs_key: kms.IKey) -> None:
        """CDK's kubectl handler and its provider framework: logs under the environment's logs key, and
        the findings that remain acknowledged with their reasons."""
        handler = provider.node.find_child("Handler")
        framework = provider.node.find_child("Provider")
        # Lambda keeps a function's copy of its layers: a deleted layer version breaks nothing, and a
        # retained one (CDK's default for layers) would outlive a disposable environment.
        for layer in (self.node.find_child("KubectlLayer"), provider.node.find_child("AwsCliLayer")):
            assert isinstance(layer, lambda_.LayerVersion)
            layer.apply_removal_policy(RemovalPolicy.DESTROY)
        for function in (handler, framework.node.find_child("framework-onEvent")):
            # CDK creates these log groups itself (no option to pass one): set the key on them.
            log_group = function.node.find_child("LogGroup").node.default_child
            assert isinstance(log_group, logs.CfnLogGroup)
            log_group.kms_key_id = logs_key.key_arn
            # Deployment logs of a replaceable stack, like the platform's provider frameworks' own.
            log_group.apply_removal_policy(RemovalPolicy.DESTROY)
        # The condition chooses a managed policy for CDK's own handler role; with the configured kubectl
        # role (imported, immutable) nothing uses it, and an unused condition is a template warning.
        self.node.try_remove_child("HasEcrPublic")
        acknowledge_provider_framework(framework, [handler.function_arn])  # type: ignore[arg-type, attr-defined]
        acknowledge(
            handler,
            "AwsSolutions-L1",
            "CDK's kubectl handler chooses its own Python runtime; it is updated with aws-cdk-lib.",
        )
        for rule, reason in (
            ("NIST.800.53.R5-LambdaConcurrency", "CDK's kubectl handler runs only during deployments."),
            (
                "NIST.800.53.R5-LambdaDLQ",
                "CDK's kubectl handler is invoked by CloudFormation, which gets failures.",
            ),
            (
                "NIST.800.53.R5-LambdaInsideVPC",
                "CDK's kubectl handler reaches the cluster's API endpoint and the chart's public registry, "
                "which the platform's isolated subnets cannot reach (ADR 0016).",
            ),
        ):
            acknowledge(handler, rule, reason)
