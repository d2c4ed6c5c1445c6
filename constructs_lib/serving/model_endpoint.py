"""A SageMaker endpoint serving one model package version, under CloudFormation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge

VARIANT_NAME = "AllTraffic"
# Families with local NVMe instance storage: SageMaker encrypts it itself and refuses a KmsKeyId for them.
INSTANCE_STORAGE_FAMILY = re.compile(r"[a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|p5en|trn1|trn1n|trn2")
# How long the new fleet takes traffic while the old one stands by, so a rollback alarm can still act.
BAKING_SECONDS = 600


@dataclass(frozen=True)
class InstanceCapacity:
    instance_type: str
    initial_instance_count: int


@dataclass(frozen=True)
class ServerlessCapacity:
    memory_size_mb: int
    max_concurrency: int
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class DataCapture:
    """Where requests and responses are captured: `s3://<bucket>/<prefix>/<endpoint>/...`."""

    bucket: s3.IBucket
    prefix: str
    key: kms.IKey
    sampling_percentage: int


class ModelEndpoint(Construct):
    """Model (from a model package ARN, possibly of another account), endpoint configuration and endpoint.

    On instances: in the VPC's subnets, storage volume encrypted with `volume_key`, network isolation, data
    capture of inputs and outputs. Serverless: none of those exist for serverless endpoints. Updates are
    blue/green with a baking period, rolled back by `rollback_alarm_names`. The endpoint name is fixed
    (applications call it); the model and configuration are named by CloudFormation, so a new package
    version replaces them and updates the endpoint in place. Exposes `endpoint`, `endpoint_name`,
    `variant_name`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        model_package_arn: str,
        execution_role: iam.IRole,
        capacity: InstanceCapacity | ServerlessCapacity,
        subnets: Sequence[ec2.ISubnet] = (),
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        volume_key: kms.IKey | None = None,
        data_capture: DataCapture | None = None,
        rollback_alarm_names: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        on_instances = isinstance(capacity, InstanceCapacity)
        if on_instances and not (subnets and security_groups and volume_key):
            raise ValueError(
                f"endpoint {endpoint_name}: an endpoint on instances needs subnets, security "
                "groups and a volume key"
            )
        if not on_instances and data_capture is not None:
            raise ValueError(f"endpoint {endpoint_name}: serverless endpoints support no data capture")
        self.endpoint_name = endpoint_name
        self.variant_name = VARIANT_NAME
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=execution_role.role_arn,
            containers=[sagemaker.CfnModel.ContainerDefinitionProperty(model_package_name=model_package_arn)],
            enable_network_isolation=on_instances,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=[subnet.subnet_id for subnet in subnets],
                security_group_ids=[group.security_group_id for group in security_groups],
            )
            if on_instances
            else None,
        )
        local_storage = isinstance(capacity, InstanceCapacity) and bool(
            INSTANCE_STORAGE_FAMILY.fullmatch(capacity.instance_type.split(".")[1])
        )
        if isinstance(capacity, InstanceCapacity):
            variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                model_name=model.attr_model_name,
                initial_variant_weight=1.0,
                instance_type=capacity.instance_type,
                initial_instance_count=capacity.initial_instance_count,
            )
        else:
            variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                model_name=model.attr_model_name,
                initial_variant_weight=1.0,
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    memory_size_in_mb=capacity.memory_size_mb,
                    max_concurrency=capacity.max_concurrency,
                    provisioned_concurrency=capacity.provisioned_concurrency,
                ),
            )
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[variant],
            kms_key_id=volume_key.key_arn if on_instances and volume_key and not local_storage else None,
            data_capture_config=_capture_config(endpoint_name, data_capture) if data_capture else None,
        )
        if not on_instances:
            acknowledge(
                self.endpoint_config,
                "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
                "A serverless endpoint has no storage volume to encrypt: SageMaker refuses KmsKeyId for it.",
            )
        elif local_storage:
            acknowledge(
                self.endpoint_config,
                "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
                "Instance types with local NVMe storage are encrypted by SageMaker itself, which refuses a "
                "KmsKeyId for them.",
            )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=sagemaker.CfnEndpoint.DeploymentConfigProperty(
                blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                    traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                        type="ALL_AT_ONCE", wait_interval_in_seconds=0
                    ),
                    termination_wait_in_seconds=BAKING_SECONDS,
                ),
                auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[
                        sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in rollback_alarm_names
                    ]
                )
                if rollback_alarm_names
                else None,
            ),
        )


def _capture_config(
    endpoint_name: str, capture: DataCapture
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True,
        initial_sampling_percentage=capture.sampling_percentage,
        destination_s3_uri=capture.bucket.s3_url_for_object(f"{capture.prefix}/{endpoint_name}"),
        kms_key_id=capture.key.key_arn,
        capture_options=[
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
        ],
        # Model Monitor reads captured CSV and JSON as such (not base64) when the types are declared.
        capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
            csv_content_types=["text/csv"], json_content_types=["application/json"]
        ),
    )
