"""SageMakerPipeline: PascalCase definition and parallelism, a lower-cased ARN, a size limit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Match, Template

from constructs_lib.pipelines.sagemaker_pipeline import SageMakerPipeline
from tests.constructs.support import ACCOUNT, REGION, bare_stack, logical_id, resource

BODY = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "Train"}]})


@dataclass(frozen=True)
class Pipeline:
    stack: cdk.Stack
    template: Template
    construct: SageMakerPipeline
    pipeline: str
    role: str


def build(stack: cdk.Stack, construct_id: str, *, description: str, name: str = "Churn-Training") -> Pipeline:
    role = iam.Role(stack, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    construct = SageMakerPipeline(
        stack,
        construct_id,
        pipeline_name=name,
        description=description,
        definition_body=BODY,
        role=role,
        max_parallel_steps=4,
    )
    return Pipeline(stack, Template.from_stack(stack), construct, logical_id(construct), logical_id(role))


@pytest.fixture(scope="module")
def pipeline(cdk_context: dict[str, Any]) -> Pipeline:
    return build(bare_stack(cdk_context), "Pipeline", description="Trains the churn model")


def test_writes_exactly_the_cloudformation_properties(pipeline: Pipeline) -> None:
    pipeline.template.resource_count_is("AWS::SageMaker::Pipeline", 1)
    assert resource(pipeline.template, pipeline.pipeline)["Properties"] == {
        "PipelineName": "Churn-Training",
        "PipelineDescription": "Trains the churn model",
        "RoleArn": {"Fn::GetAtt": [pipeline.role, "Arn"]},
        # PascalCase, as CloudFormation reads them (not the camelCase of the generated property classes).
        "PipelineDefinition": {"PipelineDefinitionBody": BODY},
        "ParallelismConfiguration": {"MaxParallelExecutionSteps": 4},
    }


def test_empty_description_is_omitted(cdk_context: dict[str, Any]) -> None:
    built = build(bare_stack(cdk_context), "Pipeline", description="")
    built.template.has_resource_properties(
        "AWS::SageMaker::Pipeline", {"PipelineName": "Churn-Training", "PipelineDescription": Match.absent()}
    )


def test_name_as_given_and_arn_lower_cased_in_the_stacks_account_and_region(pipeline: Pipeline) -> None:
    assert pipeline.construct.name == "Churn-Training"
    assert pipeline.stack.resolve(pipeline.construct.arn) == (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/churn-training"
    )


def test_a_definition_of_up_to_a_million_characters_is_accepted(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    construct = SageMakerPipeline(
        stack,
        "Pipeline",
        pipeline_name="Big",
        description="",
        definition_body="x" * 1_000_000,
        role=role,
        max_parallel_steps=1,
    )
    assert construct.resource.pipeline_definition == {"PipelineDefinitionBody": "x" * 1_000_000}


def test_a_definition_over_a_million_characters_is_rejected(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    with pytest.raises(ValueError, match="the definition of Big is 1000001 characters: too large"):
        SageMakerPipeline(
            stack,
            "Pipeline",
            pipeline_name="Big",
            description="",
            definition_body="x" * 1_000_001,
            role=role,
            max_parallel_steps=1,
        )
    assert not [child for child in stack.node.find_all() if isinstance(child, sagemaker.CfnPipeline)]
