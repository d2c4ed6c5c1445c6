"""A serving environment's endpoints: approved models, monitored and alarmed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.observability.endpoint_alarms import EndpointAlarms, EndpointThresholds
from constructs_lib.serving.data_quality_monitor import DataQualityMonitor
from constructs_lib.serving.endpoint_autoscaling import EndpointAutoscaling
from constructs_lib.serving.endpoint_runtime_access import EndpointRuntimeAccess
from constructs_lib.serving.model_endpoint import (
    VARIANT_NAME,
    DataCapture,
    InstanceCapacity,
    ModelEndpoint,
    ServerlessCapacity,
)
from constructs_lib.serving.model_package_reader import ModelPackageReader
from constructs_lib.serving.promotion_notifier import PinnedEndpoint, PromotionNotifier
from constructs_lib.shared.job_security_group import JobSecurityGroup
from platform_config import naming
from platform_config.models import (
    EndpointAlarmsConfig,
    EndpointConfig,
    InstancesConfig,
    ServerlessConfig,
)

CAPTURE_PREFIX = "data-capture"
MONITORING_PREFIX = "monitoring/data-quality"


@dataclass(frozen=True)
class PackageSource:
    """Where an endpoint's pinned package lives: its ARN, and the environment and account it comes from."""

    model_package_arn: str
    environment: str
    account_id: str


class ServingStack(Stack):
    """Per endpoint: the pinned package read at deploy time (it must be Approved; its data-quality baseline),
    model, endpoint configuration and endpoint (blue/green, rolled back by its latency and 5XX alarms),
    autoscaling, data capture, a data-quality monitoring schedule and alarms to the environment's topic.
    Plus the promotion notifier. Replaceable: captures and reports live in the Data stack's bucket.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment_name: str,
        config_file: str,
        endpoints: Sequence[EndpointConfig],
        package_sources: Mapping[str, PackageSource],
        execution_role: iam.IRole,
        package_reader_role_name: str,
        monitor_image_uri: str,
        monitor_repository_arn: str,
        capture_bucket_name: str,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        topic: sns.ITopic,
        removal_policy: RemovalPolicy,
        cloudformation_endpoints: Sequence[EndpointConfig] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if not endpoints:
            raise ValueError("ServingStack: no endpoints to deploy (every pinned version is pending?)")
        missing = [endpoint.name for endpoint in endpoints if endpoint.name not in package_sources]
        if missing:
            raise ValueError(f"ServingStack: no package source for endpoint(s) {', '.join(missing)}")
        self.endpoints: dict[str, ModelEndpoint] = {}
        # By name: the Data stack owns the bucket, and grants name it without a cross-stack reference.
        capture_bucket = s3.Bucket.from_bucket_name(self, "CaptureBucket", capture_bucket_name)
        security_group = JobSecurityGroup(
            self, "EndpointSecurityGroup", vpc=vpc, description="Endpoints and their monitors: HTTPS out"
        ).security_group
        EndpointRuntimeAccess(
            self,
            "RuntimeAccess",
            role=execution_role,
            capture_bucket=capture_bucket,
            capture_key=data_key,
            monitor_repository_arn=monitor_repository_arn,
        )
        reader = ModelPackageReader(
            self,
            "PackageReader",
            role_name=package_reader_role_name,
            model_package_arns=[source.model_package_arn for source in package_sources.values()],
            vpc=vpc,
            subnets=subnets,
            logs_key=logs_key,
            removal_policy=removal_policy,
        )
        # What a Kubernetes namespace serves is the Kubernetes stack's (ADR 0017): read, notified, not made.
        for endpoint in endpoints if cloudformation_endpoints is None else cloudformation_endpoints:
            source = package_sources[endpoint.name]
            self.endpoints[endpoint.name] = self._endpoint(
                endpoint,
                source=source,
                reader=reader,
                execution_role=execution_role,
                monitor_image_uri=monitor_image_uri,
                capture_bucket=capture_bucket,
                data_key=data_key,
                subnets=subnets,
                security_group=security_group,
                topic=topic,
                alarm_name_prefix=naming.endpoint_alarm_prefix(environment_name, endpoint.name),
            )
        PromotionNotifier(
            self,
            "PromotionNotifier",
            environment_name=environment_name,
            config_file=config_file,
            endpoints=[
                PinnedEndpoint(
                    endpoint=endpoint.name,
                    source=package_sources[endpoint.name].environment,
                    source_account=package_sources[endpoint.name].account_id,
                    group=endpoint.model_package.group,
                    version=endpoint.model_package.version,
                )
                for endpoint in endpoints
            ],
            topic=topic,
            vpc=vpc,
            subnets=subnets,
            logs_key=logs_key,
            removal_policy=removal_policy,
        )

    def _endpoint(
        self,
        endpoint: EndpointConfig,
        *,
        source: PackageSource,
        reader: ModelPackageReader,
        execution_role: iam.IRole,
        monitor_image_uri: str,
        capture_bucket: s3.IBucket,
        data_key: kms.IKey,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        topic: sns.ITopic,
        alarm_name_prefix: str,
    ) -> ModelEndpoint:
        name = endpoint.name
        capacity = _capacity(
            endpoint.capacity, subnets=subnets, security_group=security_group, volume_key=data_key
        )
        # Baseline files given in the configuration override those the package carries.
        baseline = endpoint.monitoring.baseline if endpoint.monitoring is not None else None
        package = reader.read(
            f"Package-{name}",
            model_package_arn=source.model_package_arn,
            constraints_uri=baseline.constraints_uri if baseline is not None else None,
            statistics_uri=baseline.statistics_uri if baseline is not None else None,
        )
        alarms = EndpointAlarms(
            self,
            f"Alarms-{name}",
            endpoint_name=name,
            variant_name=VARIANT_NAME,
            alarm_name_prefix=alarm_name_prefix,
            thresholds=endpoint_thresholds(endpoint.alarms),
            topic=topic,
            on_instances=isinstance(capacity, InstanceCapacity),
        )
        capture = endpoint.capture
        model_endpoint = ModelEndpoint(
            self,
            f"Endpoint-{name}",
            endpoint_name=name,
            model_package_arn=source.model_package_arn,
            execution_role=execution_role,
            capacity=capacity,
            data_capture=DataCapture(
                bucket=capture_bucket,
                prefix=CAPTURE_PREFIX,
                key=data_key,
                sampling_percentage=capture.sampling_percentage,
            )
            if capture is not None
            else None,
            rollback_alarm_names=alarms.rollback_alarm_names,
        )
        # The model is created only from an approved package (the reader fails the deployment otherwise),
        # and the deployment configuration names alarms that must exist.
        model_endpoint.node.add_dependency(package)
        for alarm_name in alarms.rollback_alarm_names:
            model_endpoint.endpoint.node.add_dependency(alarms.alarms_by_name[alarm_name])
        if endpoint.autoscaling is not None:
            EndpointAutoscaling(
                self,
                f"Autoscaling-{name}",
                endpoint_name=name,
                variant_name=model_endpoint.variant_name,
                endpoint=model_endpoint.endpoint,
                min_instances=endpoint.autoscaling.min_instances,
                max_instances=endpoint.autoscaling.max_instances,
                target_invocations_per_instance=endpoint.autoscaling.target_invocations_per_instance,
                scale_in_cooldown_seconds=endpoint.autoscaling.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds=endpoint.autoscaling.scale_out_cooldown_seconds,
            )
        monitoring = endpoint.data_quality
        if monitoring is not None:
            monitor = DataQualityMonitor(
                self,
                f"DataQuality-{name}",
                endpoint_name=name,
                endpoint=model_endpoint.endpoint,
                schedule_name=naming.monitoring_schedule_name(name),
                schedule_expression=monitoring.schedule_expression,
                image_uri=monitor_image_uri,
                role=execution_role,
                baseline_constraints_uri=package.get_att_string("ConstraintsUri"),
                baseline_statistics_uri=package.get_att_string("StatisticsUri"),
                output_bucket=capture_bucket,
                output_prefix=MONITORING_PREFIX,
                key=data_key,
                instance_type=monitoring.instance_type,
                volume_size_gb=monitoring.volume_size_gb,
                max_runtime_seconds=monitoring.max_runtime_minutes * 60,
                subnets=subnets,
                security_groups=[security_group],
            )
            alarms.add_violations_alarm(monitor.violations_pattern)
        return model_endpoint


def _capacity(
    capacity: InstancesConfig | ServerlessConfig,
    *,
    subnets: Sequence[ec2.ISubnet],
    security_group: ec2.ISecurityGroup,
    volume_key: kms.IKey,
) -> InstanceCapacity | ServerlessCapacity:
    """The endpoint's capacity as the construct takes it: instances run in the VPC with an encrypted volume;
    serverless has neither."""
    match capacity:
        case InstancesConfig():
            return InstanceCapacity(
                instance_type=capacity.instance_type,
                initial_instance_count=capacity.initial_instance_count,
                subnets=tuple(subnets),
                security_groups=(security_group,),
                volume_key=volume_key,
            )
        case ServerlessConfig():
            return ServerlessCapacity(
                memory_size_mb=capacity.memory_size_mb,
                max_concurrency=capacity.max_concurrency,
                provisioned_concurrency=capacity.provisioned_concurrency,
            )


def endpoint_thresholds(alarms: EndpointAlarmsConfig) -> EndpointThresholds:
    """An endpoint's alarm thresholds, field by field (the Kubernetes stack alarms its endpoints too)."""
    return EndpointThresholds(
        model_latency_p99_ms=alarms.model_latency_p99_ms,
        error_5xx_rate_percent=alarms.error_5xx_rate_percent,
        error_4xx_rate_percent=alarms.error_4xx_rate_percent,
        no_invocations_minutes=alarms.no_invocations_minutes,
        cpu_utilization_percent=alarms.cpu_utilization_percent,
        memory_utilization_percent=alarms.memory_utilization_percent,
    )
