"""The notebook job role, evaluated offline: its pipeline's rendered step (a training job) is allowed as
rendered and denied with any guardrail broken; it passes itself to SageMaker and nothing else."""

from __future__ import annotations

import pytest

from platform_config import PlatformConfig, naming
from tests.conftest import SynthesizedApp
from tests.iam.accounts import Accounts
from tests.iam.evaluator import Evaluator, Request, Verdict
from tests.iam.matrix import Matrix
from tests.iam.templates import ResolvedTemplates, stack_templates

SAGEMAKER = "sagemaker.amazonaws.com"


@pytest.fixture(scope="module")
def verdicts(synthesized: SynthesizedApp, sample_platform: PlatformConfig) -> list[Verdict]:
    environment = sample_platform.environments["dev"]
    (job,) = environment.notebook_jobs
    accounts = Accounts.from_templates(ResolvedTemplates(stack_templates(synthesized.assembly)))
    steps = [
        request
        for request in Matrix(sample_platform, accounts).requests()
        if request.group == f"pipeline steps dev/{job.name}"
        or (request.group.startswith("persona dev/") and request.description.endswith(f"pipeline {job.name}"))
    ]
    role = naming.role_arn(environment, naming.notebook_job_role_name("dev"))
    other_role = naming.role_arn(environment, naming.pipeline_role_name("dev"))

    def passes(description: str, passed: str, service: str) -> Request:
        return Request(
            group="notebook job role dev",
            description=description,
            principal=role,
            action="iam:PassRole",
            resource=passed,
            resource_account=environment.account_id,
            expect_allowed=False,
            context={"iam:PassedToService": service},
        )

    extra = [
        passes("passes the pipelines' role", other_role, SAGEMAKER),
        passes("passes itself to another service", role, "lambda.amazonaws.com"),
    ]
    return Evaluator(accounts).evaluate([*steps, *extra])


def test_every_verdict_is_the_expected_one(verdicts: list[Verdict]) -> None:
    unexpected = [verdict for verdict in verdicts if not verdict.expected]
    assert not unexpected, "\n".join(verdict.explain() for verdict in unexpected)


def test_the_rendered_training_job_is_allowed_and_each_broken_guardrail_denied(
    verdicts: list[Verdict],
) -> None:
    training = [v for v in verdicts if v.request.action == "sagemaker:CreateTrainingJob"]
    allowed = [v for v in training if v.allowed]
    denied = {v.request.description for v in training if not v.allowed}
    assert len(allowed) == 1, [v.explain() for v in training]
    context = allowed[0].request.context
    assert context["sagemaker:VpcSubnets"] and context["sagemaker:VpcSecurityGroupIds"]
    assert context["sagemaker:VolumeKmsKeyArn"] == context["sagemaker:OutputKmsKeyArn"]
    assert {
        "step Notebook in a subnet outside the platform's",
        "step Notebook with another security group",
        "step Notebook outside any VPC",
        "step Notebook with volumes under another key",
        "step Notebook with unencrypted volumes",
        "step Notebook with output under another key",
        "step Notebook with unencrypted output",
    } <= denied


def test_the_role_passes_itself_to_sagemaker_only(verdicts: list[Verdict]) -> None:
    passing = {v.request.description: v.allowed for v in verdicts if v.request.action == "iam:PassRole"}
    assert passing == {
        "step Notebook passes its role": True,
        "passes the pipelines' role": False,
        "passes itself to another service": False,
    }


def test_personas_with_the_pipelines_capability_run_the_notebook_on_demand(
    verdicts: list[Verdict], sample_platform: PlatformConfig
) -> None:
    """A run started from Studio executes as the notebook job role, under its guardrails; who may start
    one is the `pipelines` capability."""
    environment = sample_platform.environments["dev"]
    assert environment.studio is not None
    starts = {
        (v.request.group, v.allowed)
        for v in verdicts
        if v.request.action == "sagemaker:StartPipelineExecution"
    }
    personas = environment.studio.personas
    expected = {
        (f"persona dev/{domain.name}/{user.persona}", "pipelines" in personas[user.persona].capabilities)
        for domain in environment.studio.domains
        for user in domain.users
    }
    assert expected <= starts
    assert {allowed for _, allowed in starts} == {True, False}
