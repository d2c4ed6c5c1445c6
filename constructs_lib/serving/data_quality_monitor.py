"""A Model Monitor data-quality schedule on one endpoint's captured requests."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IDependable

PROCESSING_ROOT = "/opt/ml/processing"


class DataQualityMonitor(Construct):
    """A data-quality job definition (the analyzer image, in the VPC, KMS on volume and output, CloudWatch
    metrics per feature) and its schedule on `endpoint_name`, compared with the baseline's constraints and
    statistics. Reports go to `s3://<output bucket>/<output_prefix>/<endpoint>/`. Violations raise an
    EventBridge event (`violations_pattern`), since Model Monitor publishes no aggregate metric.
    Exposes `schedule`, `schedule_name`, `violations_pattern`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        endpoint: IDependable,
        schedule_name: str,
        schedule_expression: str,
        image_uri: str,
        role: iam.IRole,
        baseline_constraints_uri: str,
        baseline_statistics_uri: str,
        output_bucket: s3.IBucket,
        output_prefix: str,
        key: kms.IKey,
        instance_type: str,
        volume_size_gb: int,
        max_runtime_seconds: int,
        subnets: Sequence[ec2.ISubnet],
        security_groups: Sequence[ec2.ISecurityGroup],
    ) -> None:
        super().__init__(scope, construct_id)
        self.schedule_name = schedule_name
        definition = sagemaker.CfnDataQualityJobDefinition(
            self,
            "JobDefinition",
            role_arn=role.role_arn,
            data_quality_app_specification=sagemaker.CfnDataQualityJobDefinition.DataQualityAppSpecificationProperty(
                image_uri=image_uri,
                environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            data_quality_baseline_config=sagemaker.CfnDataQualityJobDefinition.DataQualityBaselineConfigProperty(
                constraints_resource=sagemaker.CfnDataQualityJobDefinition.ConstraintsResourceProperty(
                    s3_uri=baseline_constraints_uri
                ),
                statistics_resource=sagemaker.CfnDataQualityJobDefinition.StatisticsResourceProperty(
                    s3_uri=baseline_statistics_uri
                ),
            ),
            data_quality_job_input=sagemaker.CfnDataQualityJobDefinition.DataQualityJobInputProperty(
                endpoint_input=sagemaker.CfnDataQualityJobDefinition.EndpointInputProperty(
                    endpoint_name=endpoint_name,
                    local_path=f"{PROCESSING_ROOT}/input/endpoint",
                    s3_input_mode="File",
                    s3_data_distribution_type="FullyReplicated",
                )
            ),
            data_quality_job_output_config=sagemaker.CfnDataQualityJobDefinition.MonitoringOutputConfigProperty(
                kms_key_id=key.key_arn,
                monitoring_outputs=[
                    sagemaker.CfnDataQualityJobDefinition.MonitoringOutputProperty(
                        s3_output=sagemaker.CfnDataQualityJobDefinition.S3OutputProperty(
                            local_path=f"{PROCESSING_ROOT}/output",
                            s3_uri=output_bucket.s3_url_for_object(f"{output_prefix}/{endpoint_name}"),
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
            ),
            job_resources=sagemaker.CfnDataQualityJobDefinition.MonitoringResourcesProperty(
                cluster_config=sagemaker.CfnDataQualityJobDefinition.ClusterConfigProperty(
                    instance_count=1,
                    instance_type=instance_type,
                    volume_size_in_gb=volume_size_gb,
                    volume_kms_key_id=key.key_arn,
                )
            ),
            network_config=sagemaker.CfnDataQualityJobDefinition.NetworkConfigProperty(
                enable_inter_container_traffic_encryption=True,
                enable_network_isolation=True,
                vpc_config=sagemaker.CfnDataQualityJobDefinition.VpcConfigProperty(
                    subnets=[subnet.subnet_id for subnet in subnets],
                    security_group_ids=[group.security_group_id for group in security_groups],
                ),
            ),
            stopping_condition=sagemaker.CfnDataQualityJobDefinition.StoppingConditionProperty(
                max_runtime_in_seconds=max_runtime_seconds
            ),
        )
        self.schedule = sagemaker.CfnMonitoringSchedule(
            self,
            "Schedule",
            monitoring_schedule_name=schedule_name,
            endpoint_name=endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                # Named by CloudFormation (a changed definition is replaced); its ARN ends in the name.
                monitoring_job_definition_name=Fn.select(
                    1, Fn.split("/", definition.attr_job_definition_arn)
                ),
                monitoring_type="DataQuality",
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=schedule_expression
                ),
            ),
        )
        # The job definition and the schedule name the endpoint, and SageMaker checks that it exists.
        definition.node.add_dependency(endpoint)
        self.schedule.node.add_dependency(endpoint)
        # A monitoring execution is a processing job carrying its schedule's ARN; one with violations
        # completes with an exit message saying so.
        self.violations_pattern = events.EventPattern(
            source=["aws.sagemaker"],
            detail_type=["SageMaker Processing Job State Change"],
            detail={
                "MonitoringScheduleArn": [self.schedule.attr_monitoring_schedule_arn],
                "ExitMessage": [{"prefix": "CompletedWithViolations"}],
            },
        )
