"""What starts a scheduled notebook: an EventBridge schedule that starts its pipeline."""

from __future__ import annotations

from aws_cdk import aws_events as events
from constructs import Construct

from constructs_lib.pipelines.pipeline_triggers import pipeline_starter_role


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
        role, policy = pipeline_starter_role(
            self,
            pipeline_arn=pipeline_arn,
            description=f"Starts scheduled executions of the notebook job pipeline {pipeline_name}",
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
