"""Autoscaling of an endpoint's instances on invocations per instance."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as autoscaling
from constructs import Construct, IDependable


class EndpointAutoscaling(Construct):
    """A scalable target on the variant's instance count (`min_instances`-`max_instances`) with target
    tracking on SageMakerVariantInvocationsPerInstance (requests per instance and minute). Registered after
    the endpoint exists (`endpoint`). Exposes `target`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant_name: str,
        endpoint: IDependable,
        min_instances: int,
        max_instances: int,
        target_invocations_per_instance: int,
        scale_in_cooldown_seconds: int,
        scale_out_cooldown_seconds: int,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 1 <= min_instances <= max_instances:
            raise ValueError(
                f"endpoint {endpoint_name}: autoscaling needs 1 <= min_instances ({min_instances}) <= "
                f"max_instances ({max_instances})"
            )
        self.target = autoscaling.ScalableTarget(
            self,
            "Target",
            service_namespace=autoscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=min_instances,
            max_capacity=max_instances,
        )
        self.target.node.add_dependency(endpoint)
        self.target.scale_to_track_metric(
            "InvocationsPerInstance",
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            target_value=target_invocations_per_instance,
            scale_in_cooldown=Duration.seconds(scale_in_cooldown_seconds),
            scale_out_cooldown=Duration.seconds(scale_out_cooldown_seconds),
        )
