"""EndpointAutoscaling: a scalable target on the variant's instance count, target tracking on invocations
per instance, registered after the endpoint exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Template

from constructs_lib.serving.endpoint_autoscaling import EndpointAutoscaling
from tests.constructs.support import bare_stack, logical_id, resource, synthesize


@dataclass(frozen=True)
class Scaling:
    template: Template
    nag_errors: list[str]
    autoscaling: EndpointAutoscaling
    endpoint: str
    target: str
    policy: str


def endpoint_in(stack: cdk.Stack, name: str = "churn-model") -> sagemaker.CfnEndpoint:
    return sagemaker.CfnEndpoint(stack, "Endpoint", endpoint_name=name, endpoint_config_name="churn-config")


@pytest.fixture(scope="module")
def scaling(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Scaling:
    outdir = tmp_path_factory.mktemp("autoscaling")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    endpoint = endpoint_in(stack)
    autoscaling = EndpointAutoscaling(
        stack,
        "Autoscaling",
        endpoint_name="churn-model",
        variant_name="AllTraffic",
        endpoint=endpoint,
        min_instances=2,
        max_instances=6,
        target_invocations_per_instance=750,
        scale_in_cooldown_seconds=300,
        scale_out_cooldown_seconds=60,
    )
    synthesized = synthesize(stack, outdir)
    template = synthesized.template
    (policy,) = template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    return Scaling(
        template,
        synthesized.nag_errors,
        autoscaling,
        endpoint=logical_id(endpoint),
        target=logical_id(autoscaling.target),
        policy=policy,
    )


def test_one_target_and_one_policy(scaling: Scaling) -> None:
    scaling.template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 1)
    scaling.template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 1)


def test_the_target_is_the_variants_instance_count_within_bounds(scaling: Scaling) -> None:
    target = resource(scaling.template, scaling.target)["Properties"]
    assert target["ServiceNamespace"] == "sagemaker"
    assert target["ResourceId"] == "endpoint/churn-model/variant/AllTraffic"
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)


def test_target_tracking_on_invocations_per_instance(scaling: Scaling) -> None:
    policy = resource(scaling.template, scaling.policy)["Properties"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["ScalingTargetId"] == {"Ref": scaling.target}
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        "TargetValue": 750,
        "ScaleInCooldown": 300,
        "ScaleOutCooldown": 60,
    }


def test_registered_after_the_endpoint_exists(scaling: Scaling) -> None:
    # Application Auto Scaling refuses a target whose endpoint does not exist yet.
    assert scaling.endpoint in resource(scaling.template, scaling.target)["DependsOn"]
    assert scaling.endpoint in resource(scaling.template, scaling.policy)["DependsOn"]


def test_exposes_the_target(scaling: Scaling) -> None:
    assert logical_id(scaling.autoscaling.target) == logical_id(scaling.autoscaling.node.find_child("Target"))
    assert scaling.target == logical_id(scaling.autoscaling.target)


def test_passes_the_compliance_packs(scaling: Scaling) -> None:
    assert scaling.nag_errors == []


@pytest.mark.parametrize(("low", "high"), [(3, 2), (0, 2)])
def test_bounds_out_of_order_are_refused(cdk_context: dict[str, Any], low: int, high: int) -> None:
    stack = bare_stack(cdk_context)
    with pytest.raises(
        ValueError,
        match=rf"churn-model: autoscaling needs 1 <= min_instances \({low}\) <= max_instances \({high}\)",
    ):
        EndpointAutoscaling(
            stack,
            "Autoscaling",
            endpoint_name="churn-model",
            variant_name="AllTraffic",
            endpoint=endpoint_in(stack),
            min_instances=low,
            max_instances=high,
            target_invocations_per_instance=500,
            scale_in_cooldown_seconds=300,
            scale_out_cooldown_seconds=60,
        )


def test_equal_bounds_are_accepted(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    EndpointAutoscaling(
        stack,
        "Autoscaling",
        endpoint_name="churn-model",
        variant_name="AllTraffic",
        endpoint=endpoint_in(stack),
        min_instances=2,
        max_instances=2,
        target_invocations_per_instance=500,
        scale_in_cooldown_seconds=0,
        scale_out_cooldown_seconds=0,
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 2}
    )
