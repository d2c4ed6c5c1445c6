"""Scheduled notebooks in dev's sample: a pipeline of one notebook job, its notebook shipped as an asset,
run in the platform's network under the data key, scheduled, listed in Studio, failures published."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk.assertions import Template

from pipeline_defs.notebook_job import UNPACK_SCRIPT
from platform_config import PlatformConfig, naming
from platform_config.models import NotebookJobConfig
from platform_config.sagemaker_images import sagemaker_distribution_image_uri
from stacks.notebook_jobs_stack import NotebookJobsStack
from tests.conftest import SynthesizedApp


def _readable(value: Any) -> str:
    """A definition body with each CloudFormation reference written as <what it refers to>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            return str(argument[0]).join(_readable(part) for part in argument[1])
        if function == "Ref":
            return f"<Ref {argument}>"
        if function == "Fn::GetAtt":
            return f"<GetAtt {'.'.join(argument)}>"
        if function == "Fn::GetStackOutput":
            return f"<{argument['StackName']}:{argument['OutputName']}>"
    raise AssertionError(f"unexpected intrinsic in a definition body: {value}")


@pytest.fixture(scope="module")
def stack(synthesized: SynthesizedApp) -> NotebookJobsStack:
    notebook_jobs = synthesized.stages["dev"].notebook_jobs
    assert notebook_jobs is not None
    return notebook_jobs


@pytest.fixture(scope="module")
def template(stack: NotebookJobsStack) -> Template:
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def job(sample_platform: PlatformConfig) -> NotebookJobConfig:
    (configured,) = sample_platform.environments["dev"].notebook_jobs
    return configured


@pytest.fixture(scope="module")
def pipeline(template: Template, job: NotebookJobConfig) -> dict[str, Any]:
    pipelines = [
        resource["Properties"] for resource in template.find_resources("AWS::SageMaker::Pipeline").values()
    ]
    assert [properties["PipelineName"] for properties in pipelines] == [job.name]
    properties: dict[str, Any] = pipelines[0]
    return properties


@pytest.fixture(scope="module")
def arguments(pipeline: dict[str, Any]) -> dict[str, Any]:
    definition = json.loads(_readable(pipeline["PipelineDefinition"]["PipelineDefinitionBody"]))
    (step,) = definition["Steps"]
    assert (step["Name"], step["Type"]) == ("Notebook", "Training")
    step_arguments: dict[str, Any] = step["Arguments"]
    return step_arguments


def test_only_environments_with_notebook_jobs_have_the_stack(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    for name, stage in synthesized.stages.items():
        assert (stage.notebook_jobs is not None) == bool(sample_platform.environments[name].notebook_jobs)


def test_the_notebook_ships_as_a_content_hashed_asset_the_job_reads(
    stack: NotebookJobsStack, arguments: dict[str, Any], job: NotebookJobConfig, synthesized: SynthesizedApp
) -> None:
    asset = _assets(stack)[f"{job.name}-notebook"]
    key = stack.resolve(asset.s3_object_key)
    assert key.endswith(".ipynb")
    channel, *_ = arguments["InputDataConfig"]
    assert channel["ChannelName"] == "sagemaker_headless_execution_pipelinestep"
    uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
    assert uri == f"s3://cdk-hnb659fds-assets-110000000001-eu-west-1/{key}"
    assert arguments["Environment"]["SM_INPUT_NOTEBOOK_NAME"] == key
    # The staged file is the repository's notebook, byte for byte.
    (staged,) = Path(synthesized.outdir).rglob(f"asset.{key}")
    assert (
        hashlib.sha256(staged.read_bytes()).digest()
        == hashlib.sha256(job.notebook_path.read_bytes()).digest()
    )


def _assets(stack: NotebookJobsStack) -> dict[str, s3_assets.Asset]:
    return {
        c.node.id: c
        for c in stack.node.find_all()
        if isinstance(c, s3_assets.Asset) and "/Cleanup/" not in c.node.path
    }


def test_the_notebooks_folder_ships_as_a_zip_asset_unpacked_next_to_it_by_the_init_script(
    stack: NotebookJobsStack, arguments: dict[str, Any], job: NotebookJobConfig, template: Template
) -> None:
    assets = _assets(stack)
    assert sorted(assets) == sorted(f"{job.name}-{what}" for what in ("notebook", "files", "unpack"))
    files, unpack = assets[f"{job.name}-files"], assets[f"{job.name}-unpack"]
    channels = {
        channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"]
        for channel in arguments["InputDataConfig"]
    }
    bucket = "s3://cdk-hnb659fds-assets-110000000001-eu-west-1"
    files_key, unpack_key = stack.resolve(files.s3_object_key), stack.resolve(unpack.s3_object_key)
    assert files_key.endswith(".zip") and unpack_key.endswith(".sh")
    assert channels["notebook_files"] == f"{bucket}/{files_key}"
    assert channels["notebook_files_init"] == f"{bucket}/{unpack_key}"
    assert arguments["Environment"]["SM_INIT_SCRIPT"] == f"../notebook_files_init/{unpack_key}"
    assert arguments["Environment"]["PLATFORM_NOTEBOOK_FILES_ARCHIVE"] == f"../notebook_files/{files_key}"
    # What CDK staged (and zips at publish) is exactly the folder's files the configuration names: the
    # notebook itself, hidden files and caches stay out.
    staged: Any = files.node.find_child("Stage")
    folder = Path(staged.absolute_staged_path)
    shipped = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert shipped == sorted(p.relative_to(job.notebook_path.parent) for p in job.notebook_files)
    assert shipped and job.notebook_path.name not in {p.name for p in shipped}
    unpack_stage: Any = unpack.node.find_child("Stage")
    assert Path(unpack_stage.absolute_staged_path).read_bytes() == UNPACK_SCRIPT.read_bytes()
    # The job's role reads the three objects.
    policy = json.dumps(template.find_resources("AWS::IAM::ManagedPolicy"))
    for key in (stack.resolve(assets[f"{job.name}-notebook"].s3_object_key), files_key, unpack_key):
        assert f"/{key}" in policy


def test_run_by_the_notebook_scheduler_on_the_configured_image(
    arguments: dict[str, Any], job: NotebookJobConfig
) -> None:
    assert job.image.sagemaker_distribution is not None
    assert arguments["AlgorithmSpecification"] == {
        "TrainingImage": sagemaker_distribution_image_uri("eu-west-1", job.image.sagemaker_distribution),
        "TrainingInputMode": "File",
        "ContainerEntrypoint": ["amazon_sagemaker_scheduler"],
    }
    assert arguments["Environment"]["SM_KERNEL_NAME"] == job.image.kernel_name
    assert arguments["ResourceConfig"]["InstanceType"] == job.instance_type
    assert arguments["StoppingCondition"] == {"MaxRuntimeInSeconds": job.max_runtime_minutes * 60}
    assert arguments["HyperParameters"] == {name: {"Get": f"Parameters.{name}"} for name in job.parameters}


def test_runs_as_its_role_in_the_platform_network_under_the_data_key(
    arguments: dict[str, Any], pipeline: dict[str, Any], template: Template
) -> None:
    (role_id,) = template.find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": naming.notebook_job_role_name("dev")}}
    )
    assert arguments["RoleArn"] == f"<GetAtt {role_id}.Arn>"
    assert pipeline["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    data_key = arguments["ResourceConfig"]["VolumeKmsKeyId"]
    assert data_key.startswith("<dev-Data:") and "DataKey" in data_key
    assert arguments["OutputDataConfig"]["KmsKeyId"] == data_key
    subnets = arguments["VpcConfig"]["Subnets"]
    assert len(subnets) == 3 and all(s.startswith("<dev-Network:") and "isolated" in s for s in subnets)
    (security_group,) = template.find_resources("AWS::EC2::SecurityGroup")
    assert arguments["VpcConfig"]["SecurityGroupIds"] == [f"<GetAtt {security_group}.GroupId>"]
    assert arguments["EnableInterContainerTrafficEncryption"] is True


def test_the_executed_notebook_lands_in_the_artifact_bucket(
    arguments: dict[str, Any], job: NotebookJobConfig, sample_platform: PlatformConfig
) -> None:
    bucket = naming.artifact_bucket_name(sample_platform.environments["dev"])
    assert arguments["OutputDataConfig"]["S3OutputPath"]["Std:Join"]["Values"] == [
        f"s3://{bucket}/notebook-jobs",
        job.name,
        {"Get": "Execution.PipelineExecutionId"},
        "Notebook",
    ]
    assert arguments["Environment"]["SM_OUTPUT_NOTEBOOK_NAME"] == f"{job.name}-notebook.ipynb"


def test_tagged_for_studios_notebook_jobs_view(arguments: dict[str, Any], job: NotebookJobConfig) -> None:
    assert job.studio_view is not None
    tags = {tag["Key"]: tag["Value"] for tag in arguments["Tags"]}
    domain_arn = tags.pop("sagemaker:domain-arn")
    assert domain_arn.startswith(f"<dev-Studio-{job.studio_view.domain}:") and "DomainArn" in domain_arn
    assert tags == {
        "sagemaker:user-profile-name": job.studio_view.user_profile,
        "sagemaker:name": f"{job.name}-notebook",
        "sagemaker:notebook-name": job.notebook_path.name,
        "sagemaker:notebook-job-origin": "PIPELINE_STEP",
        "sagemaker:is-studio-archived": "false",
    }


def test_the_schedule_starts_the_pipeline(template: Template, job: NotebookJobConfig) -> None:
    rules = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]
    (scheduled,) = [r for r in rules if "ScheduleExpression" in r]
    assert scheduled["ScheduleExpression"] == job.schedule
    (target,) = scheduled["Targets"]
    assert f":pipeline/{job.name}" in json.dumps(target["Arn"])
    # Its role may start this pipeline and nothing else.
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    starters = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in policies.values()
        if "sagemaker:StartPipelineExecution" in json.dumps(p["Properties"]["PolicyDocument"])
    ]
    (statements,) = starters
    assert [s["Action"] for s in statements] == ["sagemaker:StartPipelineExecution"]


def test_failed_runs_are_published(template: Template, job: NotebookJobConfig) -> None:
    rules = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]
    (failures,) = [r for r in rules if "currentPipelineExecutionStatus" in json.dumps(r.get("EventPattern"))]
    assert failures["EventPattern"]["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    assert f":pipeline/{job.name}" in json.dumps(failures["EventPattern"]["detail"]["pipelineArn"])


def test_a_failed_run_alarms_to_the_environments_alarm_topic_and_shows_on_the_dashboard(
    synthesized: SynthesizedApp, job: NotebookJobConfig
) -> None:
    monitoring = synthesized.template("dev/Monitoring")
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in monitoring.find_resources("AWS::CloudWatch::Alarm").values()
    }
    alarm = alarms[f"dev-{job.name}-failed"]
    assert (alarm["MetricName"], alarm["Dimensions"]) == (
        "ExecutionFailed",
        [{"Name": "PipelineName", "Value": job.name}],
    )
    assert alarm["AlarmActions"] == [{"Ref": next(iter(monitoring.find_resources("AWS::SNS::Topic")))}]
    (dashboard,) = monitoring.find_resources("AWS::CloudWatch::Dashboard").values()
    assert f"{job.name}: executions" in json.dumps(dashboard["Properties"]["DashboardBody"])
