"""The ACK SageMaker controller's chart values and the resources the platform applies for a namespace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

# The controller's public OCI chart, pinned: tools/ack_crd_index.py reads the CRDs of the same release and
# a test checks that the committed index names this version.
CHART_REPOSITORY: Final = "oci://public.ecr.aws/aws-controllers-k8s/sagemaker-chart"
CHART_NAME: Final = "sagemaker-chart"
CHART_VERSION: Final = "1.9.1"
CONTROLLER_SERVICE_ACCOUNT: Final = "ack-sagemaker-controller"
ACK_API_VERSION: Final = "sagemaker.services.k8s.aws/v1alpha1"
ROLE_SELECTOR_API_VERSION: Final = "services.k8s.aws/v1alpha1"
# Without it ACK deletes the SageMaker resource when its Kubernetes resource is deleted.
DELETION_POLICY_ANNOTATION: Final = "services.k8s.aws/deletion-policy"
# What a namespace's service accounts may manage (resource names of the CRDs, plural) and the kinds the
# controller reconciles: nothing else of SageMaker is reachable from the cluster.
NAMESPACE_KINDS: Final = {
    "Pipeline": "pipelines",
    "PipelineExecution": "pipelineexecutions",
    "TrainingJob": "trainingjobs",
    "ProcessingJob": "processingjobs",
    "TransformJob": "transformjobs",
    "Model": "models",
    "EndpointConfig": "endpointconfigs",
    "Endpoint": "endpoints",
}
# Labels on what the platform applies, so `kubectl get -l` finds it.
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "sagemaker-mlops-platform"}
RBAC_ROLE_NAME: Final = "sagemaker-platform-ack"


def controller_values(
    *, region: str, deletion_policy: str, irsa_role_arn: str | None = None
) -> dict[str, Any]:
    """Helm values: the region, the role per namespace (IAMRoleSelector), only the kinds the namespaces
    use, and the environment's deletion policy. With IRSA the service account carries the role's ARN;
    with Pod Identity the association names the service account instead."""
    annotations = {"eks.amazonaws.com/role-arn": irsa_role_arn} if irsa_role_arn is not None else {}
    return {
        "aws": {"region": region},
        "serviceAccount": {"create": True, "name": CONTROLLER_SERVICE_ACCOUNT, "annotations": annotations},
        "deletionPolicy": deletion_policy,
        # Roles are chosen per namespace by IAMRoleSelector resources; CARM's account map is not used.
        "enableCARM": False,
        "featureGates": {"IAMRoleSelector": True},
        "reconcile": {"resources": sorted(NAMESPACE_KINDS)},
    }


def namespace(name: str) -> dict[str, Any]:
    """A team's namespace (applying an existing one only adds the label)."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(MANAGED_BY)}}


def namespace_rbac(name: str) -> list[dict[str, Any]]:
    """A Role on the SageMaker kinds in this namespace only, bound to every service account of it: a
    namespaced Role grants nothing in another namespace."""
    metadata = {"name": RBAC_ROLE_NAME, "namespace": name, "labels": dict(MANAGED_BY)}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata,
            "rules": [
                {
                    "apiGroups": [ACK_API_VERSION.split("/", 1)[0]],
                    "resources": sorted(NAMESPACE_KINDS.values()),
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": RBAC_ROLE_NAME},
            "subjects": [
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Group",
                    "name": f"system:serviceaccounts:{name}",
                }
            ],
        },
    ]


def iam_role_selector(name: str, role_arn: str) -> dict[str, Any]:
    """The controller assumes `role_arn` for every resource of namespace `name` (cluster-scoped)."""
    return {
        "apiVersion": ROLE_SELECTOR_API_VERSION,
        "kind": "IAMRoleSelector",
        "metadata": {"name": f"sagemaker-platform-{name}", "labels": dict(MANAGED_BY)},
        "spec": {"arn": role_arn, "namespaceSelector": {"names": [name]}},
    }


def _metadata(namespace_name: str, name: str, retain: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace_name, "labels": dict(MANAGED_BY)}
    if retain:
        metadata["annotations"] = {DELETION_POLICY_ANNOTATION: "retain"}
    return metadata


def ack_pipeline(
    *,
    namespace_name: str,
    name: str,
    sagemaker_name: str,
    definition_body: str,
    role_arn: str,
    description: str,
    max_parallel_steps: int,
    retain: bool,
) -> dict[str, Any]:
    """An ACK Pipeline whose definition is `definition_body` as given (the CloudFormation pipeline's)."""
    metadata = _metadata(namespace_name, name, retain)
    spec: dict[str, Any] = {
        "pipelineName": sagemaker_name,
        "pipelineDefinition": definition_body,
        "roleARN": role_arn,
        "parallelismConfiguration": {"maxParallelExecutionSteps": max_parallel_steps},
    }
    if description:
        spec["pipelineDescription"] = description
    return {"apiVersion": ACK_API_VERSION, "kind": "Pipeline", "metadata": metadata, "spec": spec}


@dataclass(frozen=True)
class EndpointCapture:
    """Data capture of an endpoint config: requests and responses under `destination`, with `key_arn`."""

    destination_s3_uri: str
    key_arn: str
    sampling_percentage: int
    csv_content_types: Sequence[str]
    json_content_types: Sequence[str]


@dataclass(frozen=True)
class EndpointRollout:
    """How the endpoint moves to a new config: blue/green, all at once, the old fleet kept for
    `baking_seconds` while `rollback_alarm_names` may roll it back."""

    baking_seconds: int
    rollback_alarm_names: Sequence[str]


def ack_endpoint(
    *,
    namespace_name: str,
    endpoint_name: str,
    model_name: str,
    config_name: str,
    model_package_arn: str,
    execution_role_arn: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    variant_name: str,
    instance_type: str,
    initial_instance_count: int,
    volume_key_arn: str,
    capture: EndpointCapture | None,
    rollout: EndpointRollout,
    retain: bool,
) -> list[dict[str, Any]]:
    """An endpoint as ACK `Model`, `EndpointConfig` and `Endpoint`, in that order, each Kubernetes object
    named by its SageMaker name (lower-cased). They refer to each other by SageMaker name: ACK retries an
    EndpointConfig until its model exists and an Endpoint until its config does. The model comes from a
    model package, in the VPC and isolated from the network; the config's volumes are under
    `volume_key_arn`."""
    model: dict[str, Any] = {
        "apiVersion": ACK_API_VERSION,
        "kind": "Model",
        "metadata": _metadata(namespace_name, model_name.lower(), retain),
        "spec": {
            "modelName": model_name,
            "executionRoleARN": execution_role_arn,
            "containers": [{"modelPackageName": model_package_arn}],
            "enableNetworkIsolation": True,
            "vpcConfig": {"subnets": list(subnet_ids), "securityGroupIDs": list(security_group_ids)},
        },
    }
    config_spec: dict[str, Any] = {
        "endpointConfigName": config_name,
        "productionVariants": [
            {
                "variantName": variant_name,
                "modelName": model_name,
                "initialVariantWeight": 1.0,
                "instanceType": instance_type,
                "initialInstanceCount": initial_instance_count,
            }
        ],
        "kmsKeyID": volume_key_arn,
    }
    if capture is not None:
        config_spec["dataCaptureConfig"] = {
            "enableCapture": True,
            "initialSamplingPercentage": capture.sampling_percentage,
            "destinationS3URI": capture.destination_s3_uri,
            "kmsKeyID": capture.key_arn,
            "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
            "captureContentTypeHeader": {
                "csvContentTypes": list(capture.csv_content_types),
                "jsonContentTypes": list(capture.json_content_types),
            },
        }
    deployment: dict[str, Any] = {
        "blueGreenUpdatePolicy": {
            # ACK renames the API's `Type` to `type_` (the CRD field index says so).
            "trafficRoutingConfiguration": {"type_": "ALL_AT_ONCE", "waitIntervalInSeconds": 0},
            "terminationWaitInSeconds": rollout.baking_seconds,
        }
    }
    if rollout.rollback_alarm_names:
        deployment["autoRollbackConfiguration"] = {
            "alarms": [{"alarmName": name} for name in rollout.rollback_alarm_names]
        }
    return [
        model,
        {
            "apiVersion": ACK_API_VERSION,
            "kind": "EndpointConfig",
            "metadata": _metadata(namespace_name, config_name.lower(), retain),
            "spec": config_spec,
        },
        {
            "apiVersion": ACK_API_VERSION,
            "kind": "Endpoint",
            "metadata": _metadata(namespace_name, endpoint_name.lower(), retain),
            "spec": {
                "endpointName": endpoint_name,
                "endpointConfigName": config_name,
                "deploymentConfig": deployment,
            },
        },
    ]
