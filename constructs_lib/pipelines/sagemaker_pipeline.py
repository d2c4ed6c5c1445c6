"""A SageMaker pipeline deployed by CloudFormation from a rendered definition."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


class SageMakerPipeline(Construct):
    """`AWS::SageMaker::Pipeline` with its definition body (CDK tokens already spliced in) and parallelism.

    The definition and parallelism properties are untyped in CDK: they are passed as plain dicts with
    CloudFormation's keys (the generated property classes would emit camelCase keys). Exposes `name`, `arn`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        description: str,
        definition_body: str,
        role: iam.IRole,
        max_parallel_steps: int,
    ) -> None:
        super().__init__(scope, construct_id)
        if len(definition_body) > 1_000_000:
            raise ValueError(
                f"the definition of {pipeline_name} is {len(definition_body)} characters: too large"
            )
        self.resource = sagemaker.CfnPipeline(
            self,
            "Resource",
            pipeline_name=pipeline_name,
            pipeline_description=description or None,
            role_arn=role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": definition_body},
            parallelism_configuration={"MaxParallelExecutionSteps": max_parallel_steps},
        )
        self.name = pipeline_name
        # SageMaker lower-cases the name in the pipeline's ARN.
        self.arn = Stack.of(self).format_arn(
            service="sagemaker", resource="pipeline", resource_name=pipeline_name.lower()
        )
