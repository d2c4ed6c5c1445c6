"""Destroying a disposable environment leaves nothing behind: every resource type of its Stage is listed
with how it goes, and what CloudFormation alone cannot delete has the resource that clears it first."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import aws_cdk as cdk
import pytest

from platform_config import PlatformConfig
from tests.conftest import SynthesizedApp

Resource = tuple[str, str, Mapping[str, Any]]  # stack path, logical id, resource

# How each resource type of a disposable Stage is deleted. CLOUDFORMATION: its delete handler succeeds as
# the resource is, once what depends on it is gone.
CLOUDFORMATION = "deleted by CloudFormation"
TEARDOWN: Mapping[str, str] = {
    "AWS::S3::Bucket": "emptied of every version by CDK's auto-delete provider, then deleted",
    "AWS::ECR::Repository": "EmptyOnDelete: CloudFormation deletes its images with it",
    "AWS::SageMaker::ModelPackageGroup": "its versions deleted by the disposable cleanup resource first",
    "AWS::SageMaker::Pipeline": "its running executions stopped by the disposable cleanup resource first",
    "AWS::KMS::Key": "scheduled for deletion after its pending window",
    **dict.fromkeys(
        ("AWS::SageMaker::Domain", "AWS::SageMaker::UserProfile", "AWS::SageMaker::Space"),
        "their apps (and what users made in Studio) deleted by the Studio teardown resource first",
    ),
    "Custom::DisposableCleanup": "its Delete clears the resource it depends on",
    "Custom::StudioTeardown": "its Delete removes apps, spaces and profiles, or SageMaker's leftovers",
    "Custom::S3AutoDeleteObjects": "its Delete empties its bucket",
    "Custom::VpcRestrictDefaultSG": "its Delete restores nothing and succeeds",
    # The Kubernetes stack: manifests depend on the chart, so they are deleted while the controller runs.
    "Custom::AWSCDK-EKS-KubernetesResource": (
        "kubectl delete: ACK deletes the SageMaker objects first (deletion policy delete in a disposable "
        "environment), then the Kubernetes resources go"
    ),
    "Custom::AWSCDK-EKS-HelmChart": "helm uninstall of the controller, after the manifests that depend on it",
    **dict.fromkeys(
        (
            "AWS::CloudWatch::Alarm",
            "AWS::CloudWatch::Dashboard",
            "AWS::CodeBuild::Project",
            "AWS::EC2::FlowLog",
            "AWS::EC2::RouteTable",
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::SecurityGroupEgress",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::EC2::Subnet",
            "AWS::EC2::SubnetRouteTableAssociation",
            "AWS::EC2::VPC",
            "AWS::EC2::VPCEndpoint",
            # Team file systems: the profiles and spaces that mount them are deleted first.
            "AWS::EFS::FileSystem",
            "AWS::EFS::MountTarget",
            "AWS::EKS::PodIdentityAssociation",
            "AWS::Events::Rule",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::Policy",
            "AWS::IAM::Role",
            "AWS::KMS::Alias",
            "AWS::Lambda::Function",
            # The kubectl handler's layers: RemovalPolicy.DESTROY (a function keeps its own copy).
            "AWS::Lambda::LayerVersion",
            "AWS::Lambda::Permission",
            "AWS::Logs::LogGroup",
            "AWS::RAM::ResourceShare",
            "AWS::S3::BucketPolicy",
            "AWS::SNS::Subscription",
            "AWS::SNS::Topic",
            "AWS::SNS::TopicPolicy",
            "AWS::SQS::Queue",
            "AWS::SQS::QueuePolicy",
            "AWS::SSM::Parameter",
            "AWS::SageMaker::AppImageConfig",
            "AWS::SageMaker::Image",
            "AWS::SageMaker::ImageVersion",
            "AWS::SageMaker::MlflowTrackingServer",
            "AWS::SageMaker::StudioLifecycleConfig",
            "AWS::StepFunctions::StateMachine",
        ),
        CLOUDFORMATION,
    ),
}


def resources(synthesized: SynthesizedApp, environment: str) -> Iterator[Resource]:
    for stack in synthesized.stages[environment].node.children:
        if isinstance(stack, cdk.Stack):
            template = synthesized.assembly.get_stack_artifact(stack.artifact_id).template
            for logical_id, resource in template["Resources"].items():
                yield f"{environment}/{stack.node.id}", logical_id, resource


def disposable(platform: PlatformConfig) -> list[str]:
    return [name for name, env in platform.environments.items() if not env.retain_stateful_resources]


def retained(platform: PlatformConfig) -> list[str]:
    return [name for name, env in platform.environments.items() if env.retain_stateful_resources]


def test_every_resource_type_of_a_disposable_stage_has_a_way_to_go(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    names = disposable(sample_platform)
    assert names, "the sample has a disposable environment"
    types = {resource["Type"] for name in names for _, _, resource in resources(synthesized, name)}

    assert sorted(types - set(TEARDOWN)) == [], "add each new type to TEARDOWN, with how it is deleted"


def test_nothing_of_a_disposable_stage_is_retained_on_delete_or_replacement(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    kept = [
        f"{stack}/{logical_id}: {resource.get('DeletionPolicy')}, {resource.get('UpdateReplacePolicy')}"
        for name in disposable(sample_platform)
        for stack, logical_id, resource in resources(synthesized, name)
        if {resource.get("DeletionPolicy", "Delete"), resource.get("UpdateReplacePolicy", "Delete")}
        != {"Delete"}
    ]

    assert kept == []


def _refers_to(value: Any, logical_id: str) -> bool:
    if isinstance(value, dict):
        if value.get("Ref") == logical_id or (value.get("Fn::GetAtt") or [None])[0] == logical_id:
            return True
        return any(_refers_to(item, logical_id) for item in value.values())
    if isinstance(value, list):
        return any(_refers_to(item, logical_id) for item in value)
    return False


def _depends_on(resource: Mapping[str, Any], logical_id: str) -> bool:
    depends = resource.get("DependsOn", [])
    return logical_id in ([depends] if isinstance(depends, str) else depends)


def _cleared_by(
    stack_resources: list[Resource], predicate: Callable[[Mapping[str, Any]], bool], logical_id: str
) -> bool:
    """A resource of the stack that refers to or depends on `logical_id` (deleted first) and matches."""
    return any(
        predicate(resource)
        and (_depends_on(resource, logical_id) or _refers_to(resource.get("Properties"), logical_id))
        for _, _, resource in stack_resources
    )


@pytest.mark.parametrize(
    ("resource_type", "clears"),
    [
        ("AWS::S3::Bucket", lambda r: r["Type"] == "Custom::S3AutoDeleteObjects"),
        (
            "AWS::SageMaker::ModelPackageGroup",
            lambda r: (
                r["Type"] == "Custom::DisposableCleanup" and r["Properties"]["Kind"] == "ModelPackageVersions"
            ),
        ),
        *(
            (kind, lambda r: r["Type"] == "Custom::StudioTeardown" and r["Properties"]["Phase"] == "Contents")
            for kind in ("AWS::SageMaker::Domain", "AWS::SageMaker::UserProfile", "AWS::SageMaker::Space")
        ),
        (
            "AWS::SageMaker::Pipeline",
            lambda r: (
                r["Type"] == "Custom::DisposableCleanup" and r["Properties"]["Kind"] == "PipelineExecutions"
            ),
        ),
    ],
)
def test_what_cloudformation_cannot_delete_as_it_is_is_cleared_first(
    resource_type: str,
    clears: Callable[[Mapping[str, Any]], bool],
    synthesized: SynthesizedApp,
    sample_platform: PlatformConfig,
) -> None:
    found = 0
    for name in disposable(sample_platform):
        all_resources = list(resources(synthesized, name))
        for stack, logical_id, resource in all_resources:
            if resource["Type"] != resource_type:
                continue
            found += 1
            same_stack = [item for item in all_resources if item[0] == stack]
            assert _cleared_by(same_stack, clears, logical_id), f"{stack}/{logical_id} is not cleared first"
    assert found > 0


def test_a_disposable_stage_s_repositories_are_emptied_on_delete(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    repositories = [
        (f"{stack}/{logical_id}", resource["Properties"].get("EmptyOnDelete"))
        for name in disposable(sample_platform)
        for stack, logical_id, resource in resources(synthesized, name)
        if resource["Type"] == "AWS::ECR::Repository"
    ]

    assert repositories
    assert {empty for _, empty in repositories} == {True}


def test_retained_environments_get_no_cleanup_and_keep_their_data(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    names = retained(sample_platform)
    assert names
    all_resources = [item for name in names for item in resources(synthesized, name)]

    assert [
        r["Type"]
        for _, _, r in all_resources
        if r["Type"] in {"Custom::DisposableCleanup", "Custom::S3AutoDeleteObjects"}
    ] == []
    buckets = [r for _, _, r in all_resources if r["Type"] == "AWS::S3::Bucket"]
    assert buckets
    assert {r.get("DeletionPolicy") for r in buckets} == {"Retain"}
