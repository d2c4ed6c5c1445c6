"""An existing EKS cluster, and CDK's kubectl handler that applies charts and manifests to it."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge
from constructs_lib.shared.provider_framework import acknowledge_provider_framework


class ExistingCluster(Construct):
    """The cluster by name, with a kubectl provider that runs as `kubectl_role_arn` (an existing cluster
    administrator role, imported immutable: the platform writes no policy on it). The handler runs outside
    the VPC: it reaches the cluster's API endpoint and the charts' public registry (public.ecr.aws), neither
    of which the platform's isolated subnets can reach (ADR 0017). Its logs are under `logs_key` and go
    with the stack, as do its layers.

    Exposes `cluster` (charts and manifests are applied through it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        kubectl_role_arn: str,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        kubectl_layer = KubectlV35Layer(self, "KubectlLayer")
        provider = eks.KubectlProvider(
            self,
            "KubectlProvider",
            # An imported cluster takes a provider, not provider options: the provider needs only its ARN.
            cluster=eks.Cluster.from_cluster_attributes(self, "ClusterArn", cluster_name=cluster_name),
            kubectl_layer=kubectl_layer,
            role=iam.Role.from_role_arn(self, "KubectlRole", kubectl_role_arn, mutable=False),
        )
        self.cluster = eks.Cluster.from_cluster_attributes(
            self, "Cluster", cluster_name=cluster_name, kubectl_provider=provider
        )
        handler = provider.node.find_child("Handler")
        framework = provider.node.find_child("Provider")
        # Lambda keeps a function's copy of its layers: a deleted layer version breaks nothing, and a
        # retained one (CDK's default for layers) would outlive a disposable environment.
        for layer in (kubectl_layer, provider.node.find_child("AwsCliLayer")):
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
                "which the platform's isolated subnets cannot reach (ADR 0017).",
            ),
        ):
            acknowledge(handler, rule, reason)
