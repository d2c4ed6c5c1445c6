"""What starts a pipeline: new source data under a prefix, a schedule; and where its failures go."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct


def pipeline_starter_role(
    scope: Construct, *, pipeline_arn: str, description: str
) -> tuple[iam.Role, iam.ManagedPolicy]:
    """The role EventBridge rules start one pipeline through (`Role` and its `Policy`, in scope): it may
    start executions of that pipeline only."""
    role = iam.Role(
        scope, "Role", assumed_by=iam.ServicePrincipal("events.amazonaws.com"), description=description
    )
    policy = iam.ManagedPolicy(scope, "Policy", roles=[role])
    policy.add_statements(
        iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn])
    )
    return role, policy


class PipelineTriggers(Construct):
    """EventBridge rules that start one pipeline: on an object created under `data_prefix` of the data
    bucket, passing `event_parameters` (pipeline parameter name -> JSON path in the S3 "Object Created"
    event: the object's bucket, key, version id and ETag), and on a schedule, with the definition's
    defaults. The rules' role may start executions of that pipeline only.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        pipeline_arn: str,
        data_bucket: s3.IBucket,
        data_prefix: str | None,
        schedule: str | None,
        event_parameters: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        if data_prefix is None and schedule is None:
            raise ValueError("PipelineTriggers needs a data_prefix, a schedule or both")
        role, _ = pipeline_starter_role(
            self, pipeline_arn=pipeline_arn, description=f"Starts executions of the pipeline {pipeline_name}"
        )
        if data_prefix is not None:
            events.CfnRule(
                self,
                "OnNewData",
                description=f"New data under {data_prefix} starts {pipeline_name}",
                event_pattern={
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {
                        "bucket": {"name": [data_bucket.bucket_name]},
                        "object": {"key": [{"prefix": data_prefix}]},
                    },
                },
                targets=[
                    events.CfnRule.TargetProperty(
                        id="Pipeline",
                        arn=pipeline_arn,
                        role_arn=role.role_arn,
                        sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(
                            pipeline_parameter_list=[
                                events.CfnRule.SageMakerPipelineParameterProperty(name=name, value=path)
                                for name, path in event_parameters.items()
                            ]
                        ),
                    )
                ],
            )
        if schedule is not None:
            events.CfnRule(
                self,
                "OnSchedule",
                description=f"{pipeline_name} on {schedule}",
                schedule_expression=schedule,
                targets=[
                    events.CfnRule.TargetProperty(id="Pipeline", arn=pipeline_arn, role_arn=role.role_arn)
                ],
            )
