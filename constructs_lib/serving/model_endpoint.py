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
# The configuration holds the same pattern (constructs import no configuration): a test keeps them equal.
INSTANCE_STORAGE_FAMILY = re.compile(r"[a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|p5en|trn1|trn1n|trn2")
# Why an endpoint configuration has no volume key (the cdk-nag acknowledgement).
LOCAL_STORAGE_NO_VOLUME_KEY = (
    "Instance types with local NVMe storage are encrypted by SageMaker itself, which refuses a KmsKeyId "
    "for them."
)
SERVERLESS_NO_VOLUME = (
    "A serverless endpoint has no storage volume to encrypt: SageMaker refuses KmsKeyId for it."
)
# How long the new fleet takes traffic while the old one stands by, so a rollback alarm can still act.
BAKING_SECONDS = 600
# Captured bodies of these types are stored as text, which Model Monitor reads as CSV or JSON.
CAPTURE_CSV_CONTENT_TYPES = ("text/csv",)
CAPTURE_JSON_CONTENT_TYPES = ("application/json",)


@dataclass(frozen=True)
class InstanceCapacity:
    """Real-time instances, which run in the VPC: the subnets and security groups of the model, and the key
    of the instances' storage volumes."""

    instance_type: str
    initial_instance_count: int
    subnets: Sequence[ec2.ISubnet]
    security_groups: Sequence[ec2.ISecurityGroup]
    volume_key: kms.IKey


@dataclass(frozen=True)
class ServerlessCapacity:
    """Serverless: SageMaker places and scales it, outside the VPC, with no storage volume to encrypt."""

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

    On instances (`InstanceCapacity`): in its subnets, storage volume encrypted with its volume key, network
    isolation, data capture of inputs and outputs. Serverless: none of those exist for serverless endpoints.
    Updates are blue/green with a baking period, rolled back by `rollback_alarm_names`. The endpoint name is
    fixed (applications call it); the model and configuration are named by CloudFormation, so a new package
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
        data_capture: DataCapture | None = None,
        rollback_alarm_names: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.endpoint_name = endpoint_name
        self.variant_name = VARIANT_NAME
        # What differs between the two kinds of capacity, decided once.
        vpc_config: sagemaker.CfnModel.VpcConfigProperty | None = None
        volume_key: kms.IKey | None = None
        no_volume_key_reason: str | None = None
        match capacity:
            case InstanceCapacity():
                if not (capacity.subnets and capacity.security_groups):
                    raise ValueError(
                        f"endpoint {endpoint_name}: an endpoint on instances needs subnets and security "
                        "groups"
                    )
                vpc_config = sagemaker.CfnModel.VpcConfigProperty(
                    subnets=[subnet.subnet_id for subnet in capacity.subnets],
                    security_group_ids=[group.security_group_id for group in capacity.security_groups],
                )
                if INSTANCE_STORAGE_FAMILY.fullmatch(capacity.instance_type.split(".")[1]):
                    no_volume_key_reason = LOCAL_STORAGE_NO_VOLUME_KEY
                else:
                    volume_key = capacity.volume_key
            case ServerlessCapacity():
                if data_capture is not None:
                    raise ValueError(
                        f"endpoint {endpoint_name}: serverless endpoints support no data capture"
                    )
                no_volume_key_reason = SERVERLESS_NO_VOLUME
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=execution_role.role_arn,
            containers=[sagemaker.CfnModel.ContainerDefinitionProperty(model_package_name=model_package_arn)],
            # Network isolation needs the VPC: only on instances.
            enable_network_isolation=vpc_config is not None,
            vpc_config=vpc_config,
        )
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[_production_variant(capacity, model.attr_model_name)],
            kms_key_id=volume_key.key_arn if volume_key is not None else None,
            data_capture_config=_capture_config(endpoint_name, data_capture) if data_capture else None,
        )
        if no_volume_key_reason is not None:
            acknowledge(
                self.endpoint_config,
                "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
                no_volume_key_reason,
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


def _production_variant(
    capacity: InstanceCapacity | ServerlessCapacity, model_name: str
) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
    if isinstance(capacity, InstanceCapacity):
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT_NAME,
            model_name=model_name,
            initial_variant_weight=1.0,
            instance_type=capacity.instance_type,
            initial_instance_count=capacity.initial_instance_count,
        )
    return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=VARIANT_NAME,
        model_name=model_name,
        initial_variant_weight=1.0,
        serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
            memory_size_in_mb=capacity.memory_size_mb,
            max_concurrency=capacity.max_concurrency,
            provisioned_concurrency=capacity.provisioned_concurrency,
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
            csv_content_types=list(CAPTURE_CSV_CONTENT_TYPES),
            json_content_types=list(CAPTURE_JSON_CONTENT_TYPES),
        ),
    )
