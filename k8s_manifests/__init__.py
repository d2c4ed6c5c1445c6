"""Kubernetes manifests of the ACK SageMaker controller's resources, as plain dicts (ADR 0017).

One definition for both ways of applying them: the Kubernetes stack passes these dicts (with CDK tokens in
their values) to CloudFormation's kubectl handler, and `make k8s-manifests` writes the same dicts as YAML
for Argo CD or Flux. Imports neither `aws_cdk` nor the configuration: values come in as arguments.
"""

from k8s_manifests.ack import (
    ACK_API_VERSION,
    CHART_NAME,
    CHART_REPOSITORY,
    CHART_VERSION,
    CONTROLLER_SERVICE_ACCOUNT,
    DELETION_POLICY_ANNOTATION,
    NAMESPACE_KINDS,
    EndpointCapture,
    EndpointRollout,
    ack_endpoint,
    ack_pipeline,
    controller_values,
    iam_role_selector,
    namespace,
    namespace_rbac,
)

__all__ = [
    "ACK_API_VERSION",
    "CHART_NAME",
    "CHART_REPOSITORY",
    "CHART_VERSION",
    "CONTROLLER_SERVICE_ACCOUNT",
    "DELETION_POLICY_ANNOTATION",
    "NAMESPACE_KINDS",
    "EndpointCapture",
    "EndpointRollout",
    "ack_endpoint",
    "ack_pipeline",
    "controller_values",
    "iam_role_selector",
    "namespace",
    "namespace_rbac",
]
