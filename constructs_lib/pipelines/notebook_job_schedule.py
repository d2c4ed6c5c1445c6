"""What starts a scheduled notebook: an EventBridge schedule that starts its pipeline."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct


class NotebookJobSchedule(Construct):
    """An EventBridge rule on `schedule` (rate(...) or cron(...)) that starts an execution of one pipeline
    with its parameters' defaults, through a role that may start executions of that pipeline only.
    Exposes `rule`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        pipeline_arn: str,
        schedule: str,
    ) -> None:
        super().__init__(scope, construct_id)
        if not schedule.startswith(("rate(", "cron(")):
            raise ValueError(f"schedule {schedule!r} is not rate(...) or cron(...)")
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"Starts scheduled executions of the notebook job pipeline {pipeline_name}",
        )
        policy = iam.ManagedPolicy(self, "Policy", roles=[role])
        policy.add_statements(
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn])
        )
        self.rule = events.CfnRule(
            self,
            "OnSchedule",
            description=f"The notebook job {pipeline_name} on {schedule}",
            schedule_expression=schedule,
            targets=[events.CfnRule.TargetProperty(id="Pipeline", arn=pipeline_arn, role_arn=role.role_arn)],
        )
        # EventBridge assumes the role when the rule fires: its permission must exist by then.
        self.rule.node.add_dependency(policy)
