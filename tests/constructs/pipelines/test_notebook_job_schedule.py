"""NotebookJobSchedule: one rule on the schedule starts one pipeline, through a role that may do only that."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.pipelines.notebook_job_schedule import NotebookJobSchedule
from tests.constructs.support import ACCOUNT, REGION, bare_stack, synth

PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/churn-report"
SCHEDULE = "cron(0 6 * * ? *)"


def test_the_rule_starts_the_pipeline_on_the_schedule(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    NotebookJobSchedule(
        stack, "Schedule", pipeline_name="churn-report", pipeline_arn=PIPELINE_ARN, schedule=SCHEDULE
    )
    synth(stack)  # cdk-nag's packs raise on any finding
    template = Template.from_stack(stack)
    ((role_id, _),) = template.find_resources("AWS::IAM::Role").items()
    ((policy_id, policy),) = template.find_resources("AWS::IAM::ManagedPolicy").items()
    ((_, rule),) = template.find_resources("AWS::Events::Rule").items()
    assert rule["Properties"]["ScheduleExpression"] == SCHEDULE
    assert rule["Properties"]["Targets"] == [
        {"Id": "Pipeline", "Arn": PIPELINE_ARN, "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]}}
    ]
    assert policy_id in rule["DependsOn"]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "sagemaker:StartPipelineExecution", "Effect": "Allow", "Resource": PIPELINE_ARN}
    ]
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]


@pytest.mark.parametrize("schedule", ["daily", "every(1 day)", ""])
def test_a_schedule_that_is_not_rate_or_cron_is_refused(cdk_context: dict[str, Any], schedule: str) -> None:
    with pytest.raises(ValueError, match="is not rate"):
        NotebookJobSchedule(
            bare_stack(cdk_context),
            "Schedule",
            pipeline_name="churn-report",
            pipeline_arn=PIPELINE_ARN,
            schedule=schedule,
        )
