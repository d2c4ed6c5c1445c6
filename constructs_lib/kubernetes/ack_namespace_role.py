"""The role the ACK SageMaker controller acts as for one Kubernetes namespace, with a persona's guardrails."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.shared.job_guardrails import pass_role_to_sagemaker
from constructs_lib.studio.persona_execution_role import (
    PersonaCapability,
    PersonaExecutionRole,
    capability_actions,
    tag_isolation,
)

# The tag the controller puts on every SageMaker resource it creates (the chart's default resourceTags),
# with the Kubernetes namespace of the resource as its value.
NAMESPACE_TAG = "services.k8s.aws/namespace"

# What the namespace may do to models, endpoint configs and endpoints: what the persona's `endpoints`
# capability grants (CreateModel and CreateEndpointConfig apart, under conditions), only on its own (below).
# Tagging is left out: the same action tags the namespace's jobs.
_ENDPOINT_ACTIONS = (
    "sagemaker:CreateModel",
    "sagemaker:CreateEndpointConfig",
    *(action for action in capability_actions(PersonaCapability.ENDPOINTS) if action != "sagemaker:AddTags"),
)

_PIPELINE_ACTIONS = (
    "sagemaker:CreatePipeline",
    "sagemaker:UpdatePipeline",
    "sagemaker:DeletePipeline",
    "sagemaker:DescribePipeline",
    "sagemaker:AddTags",
    "sagemaker:DeleteTags",
    "sagemaker:ListTags",
)


class AckNamespaceRole(Construct):
    """A persona execution role for one namespace: the controller assumes it (an IAMRoleSelector names it)
    for every resource of the namespace, and the namespace's jobs run as it. Its grants are the persona's
    `jobs` capability (subnets, security group, instance types, data key, network isolation when the
    persona requires it; ADR 0004), plus `pipelines` and the exact ACK pipelines of the namespace when it has
    any. With `endpoint_names` (the endpoints of serving it serves), also the persona's `endpoints`
    capability (models in the VPC and isolated, endpoint configs on the persona's instance types under the
    data key), passing `serving_role_arn` (the role models run as) and reading the pinned
    `model_package_arns`, and it denies itself every other model, config and endpoint than its own: models
    and configs named `<namespace>-*`, the endpoints by name. It denies itself every SageMaker call on a
    resource tagged for another namespace, and writes only under `scratch_prefix`.

    Exposes `role` and `persona_role` (the underlying PersonaExecutionRole).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namespace: str,
        role_name: str,
        description: str,
        controller_role: iam.IRole,
        artifact_bucket: s3.IBucket,
        scratch_prefix: str,
        data_key: kms.IKey,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        job_instance_types: Sequence[str],
        network_isolation: bool,
        pipeline_names: Sequence[str] = (),
        pipeline_role_arn: str | None = None,
        endpoint_names: Sequence[str] = (),
        serving_role_arn: str | None = None,
        model_package_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if pipeline_names and pipeline_role_arn is None:
            raise ValueError(f"namespace {namespace}: ACK pipelines need the role they run as")
        if endpoint_names and (serving_role_arn is None or not model_package_arns):
            raise ValueError(f"namespace {namespace}: ACK endpoints need the serving role and their packages")
        capabilities = [PersonaCapability.JOBS]
        if pipeline_names:
            capabilities.append(PersonaCapability.PIPELINES)
        if endpoint_names:
            capabilities.append(PersonaCapability.ENDPOINTS)
        self.persona_role = PersonaExecutionRole(
            self,
            "Persona",
            persona_name=namespace,
            description=description,
            capabilities=capabilities,
            artifact_bucket=artifact_bucket,
            scratch_prefix=scratch_prefix,
            data_key=data_key,
            studio_key=None,
            subnets=subnets,
            security_group=security_group,
            job_instance_types=job_instance_types,
            app_instance_types=(),
            network_isolation=network_isolation,
            role_name=role_name,
        )
        self.role = self.persona_role.role
        # The controller's own role assumes this one; ACK's runtime calls AssumeRole without session tags.
        self.role.assume_role_policy.add_statements(  # type: ignore[union-attr]
            iam.PolicyStatement(actions=["sts:AssumeRole"], principals=[controller_role])
        )
        isolation = iam.ManagedPolicy(self, "NamespaceIsolation", roles=[self.role])
        # As the domain isolation of Studio personas: a resource the controller created for another
        # namespace carries that namespace in its tag; untagged resources and list calls are unaffected.
        isolation.add_statements(*tag_isolation(NAMESPACE_TAG, namespace, owners="Namespaces"))
        if pipeline_names:
            assert pipeline_role_arn is not None
            stack = Stack.of(self)
            pipelines = iam.ManagedPolicy(self, "Pipelines", roles=[self.role])
            pipelines.add_statements(
                iam.PolicyStatement(
                    sid="ManageOwnPipelines",
                    actions=sorted(_PIPELINE_ACTIONS),
                    # SageMaker lower-cases pipeline names in their ARNs.
                    resources=[
                        stack.format_arn(service="sagemaker", resource="pipeline", resource_name=name.lower())
                        for name in pipeline_names
                    ],
                ),
                # The pipelines' steps run as the environment's pipeline role, as the CloudFormation ones do.
                pass_role_to_sagemaker("PassPipelineRole", pipeline_role_arn),
            )
        if endpoint_names:
            assert serving_role_arn is not None
            self._allow_endpoints(namespace, endpoint_names, serving_role_arn, model_package_arns)

    def _allow_endpoints(
        self,
        namespace: str,
        endpoint_names: Sequence[str],
        serving_role_arn: str,
        model_package_arns: Sequence[str],
    ) -> None:
        stack = Stack.of(self)
        policy = iam.ManagedPolicy(self, "Endpoints", roles=[self.role])
        # SageMaker lower-cases the names in these ARNs.
        own = [
            stack.format_arn(service="sagemaker", resource=kind, resource_name=f"{namespace}-*")
            for kind in ("model", "endpoint-config")
        ] + [
            stack.format_arn(service="sagemaker", resource="endpoint", resource_name=name.lower())
            for name in endpoint_names
        ]
        policy.add_statements(
            # The persona's capability grants these on every name; the namespace keeps to its own, so it
            # reaches neither CloudFormation's endpoints nor another namespace's untagged ones.
            iam.PolicyStatement(
                sid="DenyOtherEndpoints",
                effect=iam.Effect.DENY,
                actions=sorted(_ENDPOINT_ACTIONS),
                not_resources=own,
            ),
            # Models run as the serving environment's role, which reads the trusted registries' artifacts.
            pass_role_to_sagemaker("PassServingRole", serving_role_arn),
            # CreateModel from a package of another account reads it as the caller.
            iam.PolicyStatement(
                sid="ReadPinnedPackages",
                actions=["sagemaker:DescribeModelPackage"],
                resources=sorted(set(model_package_arns)),
            ),
        )
