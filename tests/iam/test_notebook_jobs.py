"""The notebook job role, evaluated offline: its pipeline's rendered step (a training job) is allowed as
rendered and denied with any guardrail broken; it passes itself to SageMaker and nothing else. A job run as
a persona's role (the generated configuration) is allowed as that role, under the persona's guardrails."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from platform_config import EnvironmentConfig, PlatformConfig, naming
from platform_config.models import NotebookJobConfig
from tests.conftest import SynthesizedApp
from tests.iam.accounts import Accounts
from tests.iam.conftest import Evaluation
from tests.iam.evaluator import Evaluator, Request, Verdict
from tests.iam.matrix import Matrix
from tests.iam.matrix.base import DOMAIN_ARN_TAG as DOMAIN_TAG
from tests.iam.matrix.base import Asker, unlisted
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
    (properties,) = [
        p
        for _, _, p in accounts.templates.resources("AWS::SageMaker::Pipeline")
        if p["PipelineName"] == job.name
    ]
    (step,) = json.loads(properties["PipelineDefinition"]["PipelineDefinitionBody"])["Steps"]
    for channel in step["Arguments"]["InputDataConfig"]:
        uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
        extra.append(
            Request(
                group="notebook job role dev",
                description=f"reads its input {channel['ChannelName']}",
                principal=role,
                action="s3:GetObject",
                resource=f"arn:aws:s3:::{uri.removeprefix('s3://')}",
                resource_account=environment.account_id,
                expect_allowed=True,
                positive_control=True,
            )
        )
    return Evaluator(accounts).evaluate([*steps, *extra])


def test_the_role_reads_each_of_its_input_channels(verdicts: list[Verdict]) -> None:
    reads = {v.request.description: v.allowed for v in verdicts if v.request.action == "s3:GetObject"}
    assert reads == {
        "reads its input sagemaker_headless_execution_pipelinestep": True,
        "reads its input notebook_files": True,
        "reads its input notebook_files_init": True,
    }


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


# --- a notebook job run as a persona's role (the generated configuration) ---------------------------


@dataclass(frozen=True)
class PersonaRun:
    """The generated configuration's notebook job run as a persona: what its deployed pipeline names."""

    environment: EnvironmentConfig
    job: NotebookJobConfig
    role: str  # the pipeline's RoleArn, resolved
    notebook_object: str  # the S3 object ARN of its input channel (the notebook asset)
    verdicts: list[Verdict]


@pytest.fixture(scope="module")
def persona_run(generated_evaluation: Evaluation) -> PersonaRun:
    platform = generated_evaluation.platform
    environment = next(env for env in platform.environments.values() if env.notebook_jobs)
    job = next(job for job in environment.notebook_jobs if job.run_as is not None)
    assert job.run_as is not None
    templates = generated_evaluation.accounts.templates
    (properties,) = [
        properties
        for _, _, properties in templates.resources("AWS::SageMaker::Pipeline")
        if properties["PipelineName"] == job.name
    ]
    (step,) = json.loads(properties["PipelineDefinition"]["PipelineDefinitionBody"])["Steps"]
    inputs = {
        channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"]
        for channel in step["Arguments"]["InputDataConfig"]
    }
    # The notebook, its folder's zip and the script that unpacks it (the sample notebook has a helper).
    assert len(inputs) == 3, inputs
    assert all(uri.startswith("s3://") and "__" not in uri for uri in inputs.values()), inputs
    uri = inputs["sagemaker_headless_execution_pipelinestep"]
    matrix = Matrix(platform, generated_evaluation.accounts)
    (domain,) = [d for d in matrix.domains(environment) if d.name == job.run_as.domain]
    assert properties["RoleArn"] == domain.persona_roles[job.run_as.persona]
    role = properties["RoleArn"]
    notebook_object = f"arn:aws:s3:::{uri.removeprefix('s3://')}"
    request = Asker(group=f"notebook job {job.name}", principal=role, account=environment.account_id)
    scratch = naming.persona_scratch_prefix(job.run_as.domain, job.run_as.persona)
    output = f"{job.name}/an-execution/Notebook/a-job/output/output.tar.gz"
    artifact = naming.artifact_bucket_name(environment)
    # The job writes where the persona may: its scratch prefix.
    assert f"s3://{artifact}/{scratch}/notebook-jobs" in json.dumps(step["Arguments"]["OutputDataConfig"])
    # Persona roles that run no notebook job here (those that do read the same notebook: one asset).
    runners = {(j.run_as.domain, j.run_as.persona) for j in environment.notebook_jobs if j.run_as}
    others = {
        (d.name, persona): arn
        for d in matrix.domains(environment)
        for persona, arn in d.persona_roles.items()
        if (d.name, persona) not in runners
    }
    extra = [
        request("reads its notebook", "s3:GetObject", notebook_object, allowed=True),
        *(
            request(
                f"reads its input {channel}",
                "s3:GetObject",
                f"arn:aws:s3:::{channel_uri.removeprefix('s3://')}",
                allowed=True,
            )
            for channel, channel_uri in sorted(inputs.items())
        ),
        request(
            "writes the executed notebook under the persona's scratch prefix",
            "s3:PutObject",
            f"arn:aws:s3:::{artifact}/{scratch}/notebook-jobs/{output}",
            allowed=True,
        ),
        request(
            "cannot write where the notebook job role writes",
            "s3:PutObject",
            f"arn:aws:s3:::{artifact}/notebook-jobs/{output}",
            allowed=False,
        ),
        *(
            request(
                f"persona {persona} of {domain_name} cannot read the notebook",
                "s3:GetObject",
                notebook_object,
                allowed=False,
                principal=arn,
            )
            for (domain_name, persona), arn in sorted(others.items())
        ),
    ]
    steps = [
        request
        for request in Matrix(platform, generated_evaluation.accounts).requests()
        if request.group == f"pipeline steps {environment.name}/{job.name}"
    ]
    training = next(r for r in steps if r.action == "sagemaker:CreateTrainingJob" and r.expect_allowed)
    persona = environment.studio.personas[job.run_as.persona] if environment.studio else None
    assert persona is not None
    extra.append(
        request(
            "cannot start the job on an instance type the persona does not have",
            training.action,
            training.resource,
            allowed=False,
            context={**training.context, "sagemaker:InstanceTypes": [unlisted(persona.job_instance_types)]},
        )
    )
    other_domain = f"{domain.arn[: domain.arn.rindex('/')]}/d-0f0f0f0f0f0f"
    for tagged, allowed in ((domain.arn, True), (other_domain, False)):
        extra.append(
            request(
                f"{'tags' if allowed else 'cannot tag'} the job for "
                f"{'its own' if allowed else 'another'} domain's notebook-jobs view",
                training.action,
                training.resource,
                allowed=allowed,
                context={
                    **training.context,
                    f"aws:RequestTag/{DOMAIN_TAG}": tagged,
                    "aws:TagKeys": [DOMAIN_TAG],
                },
            )
        )
    verdicts = Evaluator(generated_evaluation.accounts).evaluate([*steps, *extra])
    return PersonaRun(environment, job, role, notebook_object, verdicts)


def test_a_notebook_job_run_as_a_persona_gets_the_expected_verdicts(persona_run: PersonaRun) -> None:
    unexpected = [verdict for verdict in persona_run.verdicts if not verdict.expected]
    assert not unexpected, "\n".join(verdict.explain() for verdict in unexpected)


def test_the_persona_role_runs_the_rendered_job_under_the_persona_guardrails(persona_run: PersonaRun) -> None:
    training = [v for v in persona_run.verdicts if v.request.action == "sagemaker:CreateTrainingJob"]
    assert {v.request.principal for v in training} == {persona_run.role}
    assert [v.request.description for v in training if v.allowed] == [
        "step Notebook (Training)",
        "tags the job for its own domain's notebook-jobs view",
    ]
    denied = {v.request.description for v in training if not v.allowed}
    assert {
        "step Notebook in a subnet outside the platform's",
        "step Notebook with another security group",
        "step Notebook outside any VPC",
        "step Notebook with volumes under another key",
        "step Notebook with output under another key",
        "cannot start the job on an instance type the persona does not have",
        "cannot tag the job for another domain's notebook-jobs view",
    } <= denied
    reads = {
        v.request.description: v.allowed for v in persona_run.verdicts if v.request.action == "s3:GetObject"
    }
    assert reads["reads its notebook"] is True
    assert [allowed for description, allowed in reads.items() if description.startswith("persona ")]
    assert not any(allowed for description, allowed in reads.items() if description.startswith("persona "))
    passes = [v for v in persona_run.verdicts if v.request.action == "iam:PassRole"]
    assert passes and all(v.allowed and v.request.resource == persona_run.role for v in passes)


def test_the_notebook_jobs_capability_runs_and_schedules_tagged_notebook_jobs_only(
    generated_evaluation: Evaluation,
) -> None:
    """Studio's scheduler with the user's role: allowed with the capability and the guardrails, denied
    without the capability, off the guardrails and on untagged (platform) resources."""
    platform = generated_evaluation.platform
    environment = next(env for env in platform.environments.values() if env.studio is not None)
    assert environment.studio is not None
    verdicts = {
        (v.request.group.rsplit("/", 1)[-1], v.request.description): v.allowed
        for v in generated_evaluation.verdicts
        if v.request.group.startswith(f"persona {environment.name}/")
    }
    personas = environment.studio.personas
    only = next(name for name, p in personas.items() if p.capabilities == ("notebook_jobs",))
    without = next(name for name, p in personas.items() if not p.capabilities)
    for description in (
        "runs a notebook job now",
        "CreatePipeline a notebook job pipeline",
        "PutRule a notebook job schedule",
        "PutTargets a schedule's target",
        "starts a notebook job pipeline",
        "passes its own role to notebook job schedules",
    ):
        assert verdicts[(only, description)] is True, description
    for description in (
        "cannot run a notebook job now",
        "cannot CreatePipeline a notebook job pipeline",
        "cannot PutRule a notebook job schedule",
        "cannot pass its own role to notebook job schedules",
    ):
        assert verdicts[(without, description)] is False, description
    for description in (
        "cannot run a notebook job in a subnet outside the domain",
        "cannot run a notebook job with another security group",
        "cannot run a notebook job outside any VPC",
        "cannot run a notebook job on an instance type the persona does not have",
        "cannot run a notebook job with volumes under another key",
        "cannot run a notebook job with unencrypted output",
        "cannot start an untagged training job",
        "cannot CreatePipeline an untagged pipeline",
        "cannot PutRule an untagged rule",
    ):
        assert verdicts[(only, description)] is False, description
    platform_pipelines = [k for k in verdicts if k[0] == only and k[1].startswith("cannot delete platform")]
    platform_rules = [k for k in verdicts if k[0] == only and k[1].startswith("cannot retarget")]
    assert platform_pipelines and platform_rules
    assert not any(verdicts[k] for k in [*platform_pipelines, *platform_rules])
