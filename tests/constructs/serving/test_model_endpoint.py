"""ModelEndpoint: model (from a package ARN), endpoint configuration and endpoint with a fixed name. On
instances: in the VPC, network-isolated, volume encrypted, data capture of inputs and outputs. Serverless:
none of those. Updates are blue/green with a baking period, rolled back by the given alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.serving import model_endpoint
from constructs_lib.serving.model_endpoint import (
    BAKING_SECONDS,
    VARIANT_NAME,
    DataCapture,
    InstanceCapacity,
    ModelEndpoint,
    ServerlessCapacity,
)
from platform_config.sections import serving as serving_config
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

PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:110000000001:model-package/churn-model/3"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/staging-sagemaker-serving"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1a1a1a1a-1a1a-1a1a-1a1a-1a1a1a1a1a1a"
CAPTURE_BUCKET = "staging-capture-bucket"
ROLLBACK_ALARMS = ("staging-churn-model-model-latency-p99", "staging-churn-model-5xx-error-rate")


@dataclass(frozen=True)
class Endpoints:
    template: Template
    nag_errors: list[str]
    instances: ModelEndpoint  # on two instances, capturing 20 %, rolled back by two alarms
    plain: ModelEndpoint  # on one instance, no capture, no rollback alarm
    serverless: ModelEndpoint  # serverless with provisioned concurrency
    lean: ModelEndpoint  # serverless without provisioned concurrency
    nvme: ModelEndpoint  # on an instance type with local NVMe storage, which SageMaker encrypts itself

    def properties(self, endpoint: str, child: str) -> dict[str, Any]:
        construct = getattr(self, endpoint).node.find_child(child)
        written: dict[str, Any] = resource(self.template, logical_id(construct))["Properties"]
        return written


@pytest.fixture(scope="module")
def endpoints(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Endpoints:
    outdir = tmp_path_factory.mktemp("endpoint")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    role = iam.Role.from_role_arn(stack, "ServingRole", ROLE_ARN, mutable=False)
    key = kms.Key.from_key_arn(stack, "DataKey", KEY_ARN)
    bucket = s3.Bucket.from_bucket_name(stack, "CaptureBucket", CAPTURE_BUCKET)
    subnets = imported_subnets(stack)
    group = ec2.SecurityGroup.from_security_group_id(stack, "EndpointGroup", SECURITY_GROUP_ID)

    def on_instances(
        construct_id: str, name: str, count: int, instance_type: str = "ml.m5.xlarge", **kwargs: Any
    ) -> ModelEndpoint:
        return ModelEndpoint(
            stack,
            construct_id,
            endpoint_name=name,
            model_package_arn=PACKAGE_ARN,
            execution_role=role,
            capacity=InstanceCapacity(
                instance_type=instance_type,
                initial_instance_count=count,
                subnets=subnets,
                security_groups=[group],
                volume_key=key,
            ),
            **kwargs,
        )

    def serverless(construct_id: str, name: str, capacity: ServerlessCapacity) -> ModelEndpoint:
        return ModelEndpoint(
            stack,
            construct_id,
            endpoint_name=name,
            model_package_arn=PACKAGE_ARN,
            execution_role=role,
            capacity=capacity,
        )

    instances = on_instances(
        "Churn",
        "churn-model",
        2,
        data_capture=DataCapture(bucket=bucket, prefix="data-capture", key=key, sampling_percentage=20),
        rollback_alarm_names=ROLLBACK_ALARMS,
    )
    plain = on_instances("Plain", "churn-plain", 1)
    nvme = on_instances("Nvme", "churn-nvme", 1, instance_type="ml.g5.xlarge")
    sls = serverless(
        "Serverless",
        "churn-serverless",
        ServerlessCapacity(memory_size_mb=2048, max_concurrency=10, provisioned_concurrency=2),
    )
    lean = serverless("Lean", "churn-lean", ServerlessCapacity(memory_size_mb=1024, max_concurrency=5))
    synthesized = synthesize(stack, outdir)
    return Endpoints(
        synthesized.template,
        synthesized.nag_errors,
        instances=instances,
        plain=plain,
        serverless=sls,
        lean=lean,
        nvme=nvme,
    )


def test_one_model_configuration_and_endpoint_each(endpoints: Endpoints) -> None:
    for resource_type in (
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
    ):
        endpoints.template.resource_count_is(resource_type, 5)


def test_exposes_the_fixed_names(endpoints: Endpoints) -> None:
    assert endpoints.instances.endpoint_name == "churn-model"
    assert endpoints.instances.variant_name == VARIANT_NAME == "AllTraffic"
    assert endpoints.serverless.endpoint_name == "churn-serverless"
    assert logical_id(endpoints.instances.endpoint) == logical_id(
        endpoints.instances.node.find_child("Endpoint")
    )
    assert logical_id(endpoints.instances.endpoint_config) == logical_id(
        endpoints.instances.node.find_child("Config")
    )


# --- the model --------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["instances", "plain", "serverless", "lean"])
def test_the_model_serves_the_package_with_the_execution_role(endpoints: Endpoints, endpoint: str) -> None:
    model = endpoints.properties(endpoint, "Model")
    assert model["Containers"] == [{"ModelPackageName": PACKAGE_ARN}]
    assert model["ExecutionRoleArn"] == ROLE_ARN
    # Named by CloudFormation: a new package version replaces the model, not the endpoint.
    assert "ModelName" not in model


@pytest.mark.parametrize("endpoint", ["instances", "plain"])
def test_a_model_on_instances_is_isolated_in_the_given_subnets(endpoints: Endpoints, endpoint: str) -> None:
    model = endpoints.properties(endpoint, "Model")
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"] == {"Subnets": list(SUBNET_IDS), "SecurityGroupIds": [SECURITY_GROUP_ID]}


@pytest.mark.parametrize("endpoint", ["serverless", "lean"])
def test_a_serverless_model_has_no_vpc_and_no_isolation(endpoints: Endpoints, endpoint: str) -> None:
    model = endpoints.properties(endpoint, "Model")
    assert "VpcConfig" not in model
    assert model["EnableNetworkIsolation"] is False


# --- the endpoint configuration ---------------------------------------------------------------------


def test_instances_variant_and_volume_key(endpoints: Endpoints) -> None:
    config = endpoints.properties("instances", "Config")
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": {
                "Fn::GetAtt": [logical_id(endpoints.instances.node.find_child("Model")), "ModelName"]
            },
            "InitialVariantWeight": 1,
            "InstanceType": "ml.m5.xlarge",
            "InitialInstanceCount": 2,
        }
    ]
    assert config["KmsKeyId"] == KEY_ARN
    assert "EndpointConfigName" not in config  # named by CloudFormation, replaced with the model


def test_data_capture_of_inputs_and_outputs_under_the_endpoints_prefix(endpoints: Endpoints) -> None:
    assert endpoints.properties("instances", "Config")["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 20,
        "DestinationS3Uri": f"s3://{CAPTURE_BUCKET}/data-capture/churn-model",
        "KmsKeyId": KEY_ARN,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json"],
        },
    }


def test_no_data_capture_unless_given(endpoints: Endpoints) -> None:
    config = endpoints.properties("plain", "Config")
    assert "DataCaptureConfig" not in config
    assert config["KmsKeyId"] == KEY_ARN
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 1


def test_serverless_variant_has_memory_and_concurrency(endpoints: Endpoints) -> None:
    (variant,) = endpoints.properties("serverless", "Config")["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 10,
        "ProvisionedConcurrency": 2,
    }
    assert "InstanceType" not in variant
    assert "InitialInstanceCount" not in variant


def test_serverless_without_provisioned_concurrency_omits_it(endpoints: Endpoints) -> None:
    (variant,) = endpoints.properties("lean", "Config")["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 1024, "MaxConcurrency": 5}


def test_instances_with_local_storage_have_no_volume_key_but_stay_in_the_vpc(endpoints: Endpoints) -> None:
    assert "KmsKeyId" not in endpoints.properties("nvme", "Config")  # SageMaker refuses one for NVMe
    model = endpoints.properties("nvme", "Model")
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"]["SecurityGroupIds"] == [SECURITY_GROUP_ID]


@pytest.mark.parametrize("endpoint", ["serverless", "lean"])
def test_serverless_has_no_volume_key_and_no_capture(endpoints: Endpoints, endpoint: str) -> None:
    config = endpoints.properties(endpoint, "Config")
    assert "KmsKeyId" not in config  # SageMaker refuses a volume key for serverless
    assert "DataCaptureConfig" not in config


# --- the endpoint ------------------------------------------------------------------------------------


def test_the_endpoint_has_its_fixed_name_and_its_configuration(endpoints: Endpoints) -> None:
    endpoint = endpoints.properties("instances", "Endpoint")
    assert endpoint["EndpointName"] == "churn-model"
    assert endpoint["EndpointConfigName"] == {
        "Fn::GetAtt": [logical_id(endpoints.instances.endpoint_config), "EndpointConfigName"]
    }


def test_blue_green_updates_roll_back_on_the_given_alarms(endpoints: Endpoints) -> None:
    assert endpoints.properties("instances", "Endpoint")["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": BAKING_SECONDS,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in ROLLBACK_ALARMS]},
    }
    assert BAKING_SECONDS == 600


@pytest.mark.parametrize("endpoint", ["plain", "serverless", "lean"])
def test_no_rollback_configuration_without_alarms(endpoints: Endpoints, endpoint: str) -> None:
    deployment = endpoints.properties(endpoint, "Endpoint")["DeploymentConfig"]
    assert "AutoRollbackConfiguration" not in deployment
    assert deployment["BlueGreenUpdatePolicy"]["TerminationWaitInSeconds"] == BAKING_SECONDS


# --- refusals and compliance ---------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["subnets", "security_groups"])
def test_an_endpoint_on_instances_needs_subnets_and_groups(cdk_context: dict[str, Any], missing: str) -> None:
    stack = bare_stack(cdk_context)
    subnets = [] if missing == "subnets" else imported_subnets(stack)
    groups = (
        []
        if missing == "security_groups"
        else [ec2.SecurityGroup.from_security_group_id(stack, "Group", SECURITY_GROUP_ID)]
    )
    with pytest.raises(ValueError, match="churn-model: an endpoint on instances needs subnets and security"):
        ModelEndpoint(
            stack,
            "Endpoint",
            endpoint_name="churn-model",
            model_package_arn=PACKAGE_ARN,
            execution_role=iam.Role.from_role_arn(stack, "Role", ROLE_ARN),
            capacity=InstanceCapacity(
                instance_type="ml.m5.large",
                initial_instance_count=1,
                subnets=subnets,
                security_groups=groups,
                volume_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
            ),
        )


def test_a_serverless_endpoint_refuses_data_capture(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    with pytest.raises(ValueError, match="churn-serverless: serverless endpoints support no data capture"):
        ModelEndpoint(
            stack,
            "Endpoint",
            endpoint_name="churn-serverless",
            model_package_arn=PACKAGE_ARN,
            execution_role=iam.Role.from_role_arn(stack, "Role", ROLE_ARN),
            capacity=ServerlessCapacity(memory_size_mb=2048, max_concurrency=10),
            data_capture=DataCapture(
                bucket=s3.Bucket.from_bucket_name(stack, "Bucket", CAPTURE_BUCKET),
                prefix="data-capture",
                key=key,
                sampling_percentage=100,
            ),
        )


def test_passes_the_compliance_packs(endpoints: Endpoints) -> None:
    # Both kinds of capacity, synthesized with both cdk-nag packs (the serverless one acknowledges its key).
    assert endpoints.nag_errors == []


def test_the_configuration_knows_the_same_local_storage_families() -> None:
    # Constructs import no configuration, which refuses these families for endpoints served from Kubernetes:
    # the two patterns are kept equal here.
    assert serving_config.INSTANCE_STORAGE_FAMILY.pattern == model_endpoint.INSTANCE_STORAGE_FAMILY.pattern
