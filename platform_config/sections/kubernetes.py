"""`kubernetes`: an existing EKS cluster whose namespaces drive SageMaker through the ACK controller."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, StrictStr, field_validator

from platform_config.problems import FieldError
from platform_config.sections.shared import FrozenModel, unique

# Kubernetes namespaces are DNS labels (RFC 1123). A namespace's name also prefixes the SageMaker names of
# what it creates (`<namespace>-<name>`), which is how its role is kept to its own resources.
K8S_NAMESPACE_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# SageMaker's job and model names are at most 63 characters: `<namespace>-` leaves room for a name of 32.
MAX_K8S_NAMESPACE_LENGTH = 30
EKS_CLUSTER_NAME_PATTERN = re.compile(r"[0-9A-Za-z][A-Za-z0-9\-_]{0,99}")
IAM_ROLE_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>[0-9]{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}"
)
OIDC_PROVIDER_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>[0-9]{12}):oidc-provider/"
    r"(?P<issuer>oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/id/[0-9A-Fa-f]+)"
)


class KubernetesNamespaceConfig(FrozenModel):
    """A namespace of the cluster whose service accounts may drive SageMaker, as one persona."""

    name: StrictStr = Field(description="The Kubernetes namespace (created if missing)")
    persona: StrictStr = Field(
        description="A persona of studio.personas: its job instance types and network isolation are the "
        "namespace's guardrails; it needs the `jobs` capability"
    )
    pipelines: tuple[StrictStr, ...] = Field(
        default=(), description="Pipelines of `pipelines` applied in this namespace as ACK Pipeline resources"
    )
    endpoints: tuple[StrictStr, ...] = Field(
        default=(),
        description="Endpoints of `serving.endpoints` this namespace serves as ACK Model, EndpointConfig and "
        "Endpoint resources instead of CloudFormation; its persona needs the `endpoints` capability",
    )

    @field_validator("name")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not K8S_NAMESPACE_PATTERN.fullmatch(value) or len(value) > MAX_K8S_NAMESPACE_LENGTH:
            raise FieldError(
                f"'{value}' is not a namespace the platform can use (it prefixes SageMaker job names, which "
                "stop at 63)",
                "use lower-case letters, digits and hyphens, starting and ending with a letter or digit, at "
                f"most {MAX_K8S_NAMESPACE_LENGTH}",
            )
        if value.startswith("kube-") or value in ("default", "kube-system"):
            raise FieldError(
                f"'{value}' is a namespace Kubernetes keeps for itself", "use a team's namespace"
            )
        return value

    @field_validator("pipelines")
    @classmethod
    def _unique_pipelines(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique(value, "pipelines")

    @field_validator("endpoints")
    @classmethod
    def _unique_endpoints(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique(value, "endpoints")


class KubernetesConfig(FrozenModel):
    """An existing EKS cluster that drives SageMaker through the ACK SageMaker controller (ADR 0017)."""

    cluster_name: StrictStr = Field(description="The existing EKS cluster, in this account and region")
    pod_credentials: Literal["pod_identity", "irsa"] = Field(
        default="pod_identity",
        description="How the controller's pod gets its role: an EKS Pod Identity association (the cluster "
        "runs the eks-pod-identity-agent add-on) or IRSA with the cluster's OIDC provider",
    )
    oidc_provider_arn: StrictStr | None = Field(
        default=None, description="The cluster's IAM OIDC provider (pod_credentials: irsa only)"
    )
    kubectl_role_arn: StrictStr = Field(
        description="A role of this account that is a cluster administrator (an EKS access entry or the "
        "aws-auth map): CloudFormation's kubectl handler assumes it to apply the manifests and the chart"
    )
    controller_namespace: StrictStr = Field(
        default="ack-system", description="Where the controller runs (created by the chart)"
    )
    namespaces: tuple[KubernetesNamespaceConfig, ...] = Field(min_length=1)

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, value: str) -> str:
        if not EKS_CLUSTER_NAME_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not an EKS cluster name",
                "use letters, digits, hyphens and underscores, starting with a letter or digit, at most 100",
            )
        return value

    @field_validator("kubectl_role_arn")
    @classmethod
    def _kubectl_role(cls, value: str) -> str:
        if not IAM_ROLE_ARN_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not an IAM role ARN", "give one as arn:aws:iam::<account>:role/<name>"
            )
        return value

    @field_validator("oidc_provider_arn")
    @classmethod
    def _oidc_provider(cls, value: str | None) -> str | None:
        if value is not None and not OIDC_PROVIDER_ARN_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not an EKS OIDC provider ARN",
                "give one as arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>",
            )
        return value

    @field_validator("controller_namespace")
    @classmethod
    def _controller_namespace(cls, value: str) -> str:
        if not K8S_NAMESPACE_PATTERN.fullmatch(value) or len(value) > 63:
            raise FieldError(
                f"'{value}' is not a Kubernetes namespace name", "use a DNS label (lower-case), at most 63"
            )
        return value

    @field_validator("namespaces")
    @classmethod
    def _unique_namespaces(
        cls, value: tuple[KubernetesNamespaceConfig, ...]
    ) -> tuple[KubernetesNamespaceConfig, ...]:
        unique(tuple(namespace.name for namespace in value), "namespaces")
        return value

    @property
    def endpoint_namespaces(self) -> dict[str, str]:
        """The namespace serving each endpoint a namespace names (one each: checked at load)."""
        return {endpoint: ns.name for ns in self.namespaces for endpoint in ns.endpoints}

    @property
    def oidc_issuer(self) -> str | None:
        """The provider's issuer host and path, as IRSA's trust conditions name it."""
        if self.oidc_provider_arn is None:
            return None
        match = OIDC_PROVIDER_ARN_PATTERN.fullmatch(self.oidc_provider_arn)
        assert match is not None  # validated above
        return match.group("issuer")
