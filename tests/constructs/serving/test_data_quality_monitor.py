"""DataQualityMonitor: a data-quality job definition (the analyzer image, in the VPC, isolated, KMS on volume
and output) and its schedule on one endpoint, after the endpoint; violations are an EventBridge pattern."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Template

from constructs_lib.serving.data_quality_monitor import DataQualityMonitor
from tests.constructs.support import (
    ACCOUNT,
    REGION,
    SECURITY_GROUP_ID,
    SUBNET_IDS,
    bare_stack,
    imported_subnets,
    logical_id,
    resource,
    synthesize,
)

IMAGE = "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/staging-sagemaker-serving"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1a1a1a1a-1a1a-1a1a-1a1a-1a1a1a1a1a1a"
BUCKET = "staging-capture-bucket"
CONSTRAINTS = "s3://dev-artifacts/baselines/churn-model/3/constraints.json"
STATISTICS = "s3://dev-artifacts/baselines/churn-model/3/statistics.json"


@dataclass(frozen=True)
class Monitor:
    template: Template
    nag_errors: list[str]
    monitor: DataQualityMonitor
    stack: cdk.Stack
    endpoint: str
    definition: str
    schedule: str

    def definition_properties(self) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.definition)["Properties"]
        return written

    def schedule_properties(self) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.schedule)["Properties"]
        return written


@pytest.fixture(scope="module")
def monitor(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Monitor:
    outdir = tmp_path_factory.mktemp("monitor")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    endpoint = sagemaker.CfnEndpoint(
        stack, "Endpoint", endpoint_name="churn-model", endpoint_config_name="churn-config"
    )
    construct = DataQualityMonitor(
        stack,
        "DataQuality",
        endpoint_name="churn-model",
        endpoint=endpoint,
        schedule_name="churn-model-data-quality",
        schedule_expression="cron(0 * ? * * *)",
        image_uri=IMAGE,
        role=iam.Role.from_role_arn(stack, "ServingRole", ROLE_ARN, mutable=False),
        baseline_constraints_uri=CONSTRAINTS,
        baseline_statistics_uri=STATISTICS,
        output_bucket=s3.Bucket.from_bucket_name(stack, "CaptureBucket", BUCKET),
        output_prefix="monitoring/data-quality",
        key=kms.Key.from_key_arn(stack, "DataKey", KEY_ARN),
        instance_type="ml.m5.xlarge",
        volume_size_gb=30,
        max_runtime_seconds=3000,
        subnets=imported_subnets(stack),
        security_groups=[ec2.SecurityGroup.from_security_group_id(stack, "Group", SECURITY_GROUP_ID)],
    )
    synthesized = synthesize(stack, outdir)
    return Monitor(
        synthesized.template,
        synthesized.nag_errors,
        construct,
        stack,
        endpoint=logical_id(endpoint),
        definition=logical_id(construct.node.find_child("JobDefinition")),
        schedule=logical_id(construct.schedule),
    )


def test_one_definition_and_one_schedule(monitor: Monitor) -> None:
    monitor.template.resource_count_is("AWS::SageMaker::DataQualityJobDefinition", 1)
    monitor.template.resource_count_is("AWS::SageMaker::MonitoringSchedule", 1)


# --- the job definition --------------------------------------------------------------------------------


def test_runs_the_analyzer_image_and_publishes_cloudwatch_metrics(monitor: Monitor) -> None:
    definition = monitor.definition_properties()
    assert definition["DataQualityAppSpecification"] == {
        "ImageUri": IMAGE,
        "Environment": {"publish_cloudwatch_metrics": "Enabled"},
    }
    assert definition["RoleArn"] == ROLE_ARN
    assert "JobDefinitionName" not in definition  # named by CloudFormation: a change replaces it


def test_compares_with_the_baselines_constraints_and_statistics(monitor: Monitor) -> None:
    assert monitor.definition_properties()["DataQualityBaselineConfig"] == {
        "ConstraintsResource": {"S3Uri": CONSTRAINTS},
        "StatisticsResource": {"S3Uri": STATISTICS},
    }


def test_reads_the_endpoints_captured_requests(monitor: Monitor) -> None:
    assert monitor.definition_properties()["DataQualityJobInput"] == {
        "EndpointInput": {
            "EndpointName": "churn-model",
            "LocalPath": "/opt/ml/processing/input/endpoint",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        }
    }


def test_writes_reports_under_the_endpoints_prefix_encrypted(monitor: Monitor) -> None:
    assert monitor.definition_properties()["DataQualityJobOutputConfig"] == {
        "KmsKeyId": KEY_ARN,
        "MonitoringOutputs": [
            {
                "S3Output": {
                    "LocalPath": "/opt/ml/processing/output",
                    "S3Uri": f"s3://{BUCKET}/monitoring/data-quality/churn-model",
                    "S3UploadMode": "EndOfJob",
                }
            }
        ],
    }


def test_one_instance_with_an_encrypted_volume(monitor: Monitor) -> None:
    assert monitor.definition_properties()["JobResources"] == {
        "ClusterConfig": {
            "InstanceCount": 1,
            "InstanceType": "ml.m5.xlarge",
            "VolumeSizeInGB": 30,
            "VolumeKmsKeyId": KEY_ARN,
        }
    }


def test_runs_isolated_in_the_vpc_with_encrypted_traffic(monitor: Monitor) -> None:
    assert monitor.definition_properties()["NetworkConfig"] == {
        "EnableInterContainerTrafficEncryption": True,
        "EnableNetworkIsolation": True,
        "VpcConfig": {"Subnets": list(SUBNET_IDS), "SecurityGroupIds": [SECURITY_GROUP_ID]},
    }


def test_stops_after_the_maximum_runtime(monitor: Monitor) -> None:
    assert monitor.definition_properties()["StoppingCondition"] == {"MaxRuntimeInSeconds": 3000}


# --- the schedule -----------------------------------------------------------------------------------


def test_the_schedule_is_named_and_watches_the_endpoint(monitor: Monitor) -> None:
    schedule = monitor.schedule_properties()
    assert schedule["MonitoringScheduleName"] == "churn-model-data-quality"
    assert schedule["EndpointName"] == "churn-model"
    assert monitor.monitor.schedule_name == "churn-model-data-quality"


def test_the_schedule_runs_the_definition_on_the_expression(monitor: Monitor) -> None:
    assert monitor.schedule_properties()["MonitoringScheduleConfig"] == {
        # The definition's name is the last part of its ARN (…:data-quality-job-definition/<name>).
        "MonitoringJobDefinitionName": {
            "Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": [monitor.definition, "JobDefinitionArn"]}]}]
        },
        "MonitoringType": "DataQuality",
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
    }


def test_the_definition_and_the_schedule_are_created_after_the_endpoint(monitor: Monitor) -> None:
    # Both name the endpoint by a literal, which CloudFormation does not order by (the creation-order
    # check at synth requires the dependency).
    assert resource(monitor.template, monitor.schedule)["DependsOn"] == [monitor.endpoint]
    assert resource(monitor.template, monitor.definition)["DependsOn"] == [monitor.endpoint]


def test_violations_pattern_matches_executions_of_this_schedule_with_violations(monitor: Monitor) -> None:
    pattern = monitor.monitor.violations_pattern
    assert pattern.source == ["aws.sagemaker"]
    assert pattern.detail_type == ["SageMaker Processing Job State Change"]
    assert monitor.stack.resolve(pattern.detail) == {
        "MonitoringScheduleArn": [{"Fn::GetAtt": [monitor.schedule, "MonitoringScheduleArn"]}],
        "ExitMessage": [{"prefix": "CompletedWithViolations"}],
    }


def test_passes_the_compliance_packs(monitor: Monitor) -> None:
    assert monitor.nag_errors == []
