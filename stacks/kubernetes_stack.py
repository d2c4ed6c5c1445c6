"""SageMaker driven from an existing EKS cluster through the ACK SageMaker controller (ADR 0017)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

import k8s_manifests
from constructs_lib.kubernetes.ack_controller import AckSageMakerController
from constructs_lib.kubernetes.ack_namespace_role import AckNamespaceRole
from constructs_lib.kubernetes.existing_cluster import ExistingCluster
from constructs_lib.observability.endpoint_alarms import EndpointAlarms
from constructs_lib.serving.model_endpoint import (
    BAKING_SECONDS,
    CAPTURE_CSV_CONTENT_TYPES,
    CAPTURE_JSON_CONTENT_TYPES,
    VARIANT_NAME,
)
from constructs_lib.serving.model_package_reader import ModelPackageReader
from constructs_lib.shared.job_security_group import JobSecurityGroup
from platform_config import naming
from platform_config.models import (
    EndpointConfig,
    InstancesConfig,
    KubernetesConfig,
    PersonaConfig,
    PipelineConfig,
)
from stacks.serving_stack import CAPTURE_PREFIX, endpoint_thresholds


@dataclass(frozen=True)
class NamespaceManifests:
    """What the platform applies for one namespace: its namespace, RBAC and role selector (`setup`), each
    ACK pipeline by its configured name (`pipelines`) and each endpoint it serves by name (`endpoints`: its
    Model, EndpointConfig and Endpoint), one CloudFormation resource each."""

    setup: list[dict[str, Any]]
    pipelines: dict[str, dict[str, Any]]
    endpoints: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class ServedEndpoint:
    """An endpoint of `serving` a namespace serves through ACK (ADR 0017), with its pinned package's ARN."""

    namespace: str
    endpoint: EndpointConfig
    model_package_arn: str


@dataclass(frozen=True)
class EndpointServing:
    """What the endpoints the namespaces serve share with the Serving stack's: the role models run as, the
    capture bucket (by name), the alarm topic and the name of the package reader's role."""

    serving_role_arn: str
    capture_bucket_name: str
    alarm_topic: sns.ITopic
    package_reader_role_name: str


def namespace_manifests(
    *,
    kubernetes: KubernetesConfig,
    namespace_role_arns: Mapping[str, str],
    pipelines: Mapping[str, PipelineConfig],
    definition_bodies: Mapping[str, str],
    pipeline_role_arn: str,
    retain: bool,
    endpoints: Mapping[str, Mapping[str, list[dict[str, Any]]]] | None = None,
) -> dict[str, NamespaceManifests]:
    """Every manifest of the environment by namespace: the stack applies these dicts, and
    `make k8s-manifests` writes them as the template holds them (tools/write_k8s_manifests.py).
    `endpoints`: each namespace's endpoint manifests by endpoint name (`endpoint_manifests`)."""
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
            endpoints=dict((endpoints or {}).get(namespace.name, {})),
        )
        for namespace in kubernetes.namespaces
    }


def endpoint_manifests(
    served: ServedEndpoint,
    *,
    serving_role_arn: str,
    capture_bucket_name: str,
    subnet_ids: Sequence[str],
    security_group_id: str,
    data_key_arn: str,
    rollback_alarm_names: Sequence[str],
    retain: bool,
) -> list[dict[str, Any]]:
    """The ACK resources of one endpoint, with the guardrails of the CloudFormation path: the pinned
    package, the platform's subnets and the namespaces' security group, network isolation, volumes and
    captures under the data key (in the capture bucket, where the Serving stack's endpoints write), and a
    blue/green rollout rolled back by the endpoint's alarms."""
    endpoint = served.endpoint
    instances = endpoint.capacity
    assert isinstance(instances, InstancesConfig)  # serverless endpoints are refused at load
    capture = endpoint.capture
    return k8s_manifests.ack_endpoint(
        namespace_name=served.namespace,
        endpoint_name=endpoint.name,
        model_name=naming.k8s_model_name(served.namespace, endpoint),
        config_name=naming.k8s_endpoint_config_name(served.namespace, endpoint),
        model_package_arn=served.model_package_arn,
        execution_role_arn=serving_role_arn,
        subnet_ids=subnet_ids,
        security_group_ids=[security_group_id],
        variant_name=VARIANT_NAME,
        instance_type=instances.instance_type,
        initial_instance_count=instances.initial_instance_count,
        volume_key_arn=data_key_arn,
        capture=k8s_manifests.EndpointCapture(
            destination_s3_uri=f"s3://{capture_bucket_name}/{CAPTURE_PREFIX}/{endpoint.name}",
            key_arn=data_key_arn,
            sampling_percentage=capture.sampling_percentage,
            csv_content_types=CAPTURE_CSV_CONTENT_TYPES,
            json_content_types=CAPTURE_JSON_CONTENT_TYPES,
        )
        if capture is not None
        else None,
        rollout=k8s_manifests.EndpointRollout(
            baking_seconds=BAKING_SECONDS, rollback_alarm_names=rollback_alarm_names
        ),
        retain=retain,
    )


class KubernetesStack(Stack):
    """The ACK SageMaker controller installed in an existing cluster, a role per namespace with its
    persona's guardrails, and the namespaces' manifests (namespace, RBAC, IAMRoleSelector, ACK pipelines
    with the Pipelines stack's bodies, the endpoints of serving they serve), applied through CDK's kubectl
    handler as the configured kubectl role. For those endpoints it also holds what CloudFormation keeps of
    them: the pinned package's read (the approval gate, before their manifests) and their alarms.
    Replaceable: it holds no data; in an environment that retains its stateful resources the SageMaker
    objects of the ACK resources are retained when the resources are deleted.

    Exposes `controller`, `namespace_roles`, `manifests` (by namespace) and `endpoint_alarms` (by name).
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
        served_endpoints: Sequence[ServedEndpoint] = (),
        endpoint_serving: EndpointServing | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if served_endpoints and endpoint_serving is None:
            raise ValueError("KubernetesStack: endpoints served from namespaces need endpoint_serving")
        served_by_namespace: dict[str, list[ServedEndpoint]] = {}
        for served in served_endpoints:
            served_by_namespace.setdefault(served.namespace, []).append(served)
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
            own_endpoints = served_by_namespace.get(namespace.name, [])
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
                endpoint_names=[served.endpoint.name for served in own_endpoints],
                serving_role_arn=endpoint_serving.serving_role_arn if endpoint_serving else None,
                model_package_arns=[served.model_package_arn for served in own_endpoints],
            )
        self.endpoint_alarms: dict[str, EndpointAlarms] = {}
        gates: dict[str, Construct] = {}
        endpoints: dict[str, dict[str, list[dict[str, Any]]]] = {}
        if served_endpoints:
            assert endpoint_serving is not None
            gates = self._package_gates(
                served_endpoints, endpoint_serving, vpc=vpc, subnets=subnets, logs_key=logs_key, retain=retain
            )
            for served in served_endpoints:
                name = served.endpoint.name
                self.endpoint_alarms[name] = EndpointAlarms(
                    self,
                    f"Alarms-{name}",
                    endpoint_name=name,
                    variant_name=VARIANT_NAME,
                    alarm_name_prefix=naming.endpoint_alarm_prefix(environment_name, name),
                    thresholds=endpoint_thresholds(served.endpoint.alarms),
                    topic=endpoint_serving.alarm_topic,
                    on_instances=True,
                )
                endpoints.setdefault(served.namespace, {})[name] = endpoint_manifests(
                    served,
                    serving_role_arn=endpoint_serving.serving_role_arn,
                    capture_bucket_name=endpoint_serving.capture_bucket_name,
                    subnet_ids=[subnet.subnet_id for subnet in subnets],
                    security_group_id=security_group.security_group_id,
                    data_key_arn=data_key.key_arn,
                    rollback_alarm_names=self.endpoint_alarms[name].rollback_alarm_names,
                    retain=retain,
                )
        self.manifests = namespace_manifests(
            kubernetes=kubernetes,
            namespace_role_arns=role_arn_of,
            pipelines={pipeline.name: pipeline for pipeline in pipelines},
            definition_bodies=definition_bodies,
            pipeline_role_arn=pipeline_role_arn,
            retain=retain,
            endpoints=endpoints,
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
            for endpoint_name, documents in manifests.endpoints.items():
                applied = eks.KubernetesManifest(
                    self, f"Endpoint-{name}-{endpoint_name}", cluster=cluster, manifest=documents
                )
                # As the pipelines, and after the gate (the pinned package is Approved) and the alarms
                # the endpoint's rollout names.
                applied.node.add_dependency(
                    setup,
                    self.namespace_roles[name],
                    gates[endpoint_name],
                    *self.endpoint_alarms[endpoint_name].alarms_by_name.values(),
                )

    def _package_gates(
        self,
        served_endpoints: Sequence[ServedEndpoint],
        endpoint_serving: EndpointServing,
        *,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        logs_key: kms.IKey,
        retain: bool,
    ) -> dict[str, Construct]:
        """The Serving stack's gate for each served endpoint: a read of its pinned package that fails the
        deployment unless it is Approved, by a reader of this stack's own (a role of its own name)."""
        reader = ModelPackageReader(
            self,
            "PackageReader",
            role_name=endpoint_serving.package_reader_role_name,
            model_package_arns=[served.model_package_arn for served in served_endpoints],
            vpc=vpc,
            subnets=subnets,
            logs_key=logs_key,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        return {
            served.endpoint.name: reader.read(
                f"Package-{served.endpoint.name}", model_package_arn=served.model_package_arn
            )
            for served in served_endpoints
        }
