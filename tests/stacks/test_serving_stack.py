"""The serving environments' endpoints, as the sample configures them: pinned package, capacity, capture,
autoscaling, monitoring and alarms. Every expected value is read from the configuration, not repeated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from platform_config import PlatformConfig, naming
from platform_config.models import EndpointConfig
from tests.config.conftest import EditConfig, delete, set_value
from tests.conftest import SynthesizedApp, build_platform

SERVING = ("staging", "prod")


def _resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: dict(resource) for logical_id, resource in template.find_resources(resource_type).items()
    }


def _one(template: Template, resource_type: str, **properties: Any) -> tuple[str, dict[str, Any]]:
    matches = [
        (logical_id, resource)
        for logical_id, resource in _resources(template, resource_type).items()
        if all(resource["Properties"].get(key) == value for key, value in properties.items())
    ]
    assert len(matches) == 1, f"{resource_type} {properties}: {len(matches)} matches"
    return matches[0]


def _endpoints(platform: PlatformConfig, environment: str) -> tuple[EndpointConfig, ...]:
    serving = platform.environments[environment].serving
    assert serving is not None, f"the sample's {environment} serves no endpoint"
    return serving.endpoints


def _serving(synthesized: SynthesizedApp, environment: str) -> Template:
    return synthesized.template(f"{environment}/Serving")


@pytest.mark.parametrize("environment", SERVING)
def test_each_endpoint_serves_its_pinned_package_version(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = _serving(synthesized, environment)
    models = _resources(template, "AWS::SageMaker::Model")
    endpoints = _endpoints(sample_platform, environment)
    assert len(models) == len(endpoints)
    for endpoint in endpoints:
        source = sample_platform.environments[endpoint.model_package.source]
        arn = naming.model_package_arn(source, endpoint.model_package.group, endpoint.model_package.version)
        assert arn.endswith(
            f":model-package/{endpoint.model_package.group.lower()}/{endpoint.model_package.version}"
        )
        (model,) = [
            m for m in models.values() if m["Properties"]["Containers"] == [{"ModelPackageName": arn}]
        ]
        assert model["Properties"]["EnableNetworkIsolation"] is True
        assert set(model["Properties"]["VpcConfig"]) == {"Subnets", "SecurityGroupIds"}
        # The deploy-time reader must have found the package Approved before the model is created.
        _, package = _one(template, "Custom::ModelPackage", ModelPackageArn=arn, RequireApproved="true")
        assert package["DeletionPolicy"] == "Delete"
        # The execution role is the ServingAccess stack's serving role.
        assert "ServingAccess" in json.dumps(model["Properties"]["ExecutionRoleArn"])


@pytest.mark.parametrize("environment", SERVING)
def test_endpoint_configs_carry_capacity_kms_and_data_capture(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = _serving(synthesized, environment)
    configs = list(_resources(template, "AWS::SageMaker::EndpointConfig").values())
    capture_bucket = naming.capture_bucket_name(sample_platform.environments[environment])
    for endpoint in _endpoints(sample_platform, environment):
        assert endpoint.instances is not None and endpoint.capture is not None
        (config,) = [
            c
            for c in configs
            if f"/{endpoint.name}" in json.dumps(c["Properties"]["DataCaptureConfig"]["DestinationS3Uri"])
        ]
        properties = config["Properties"]
        (variant,) = properties["ProductionVariants"]
        assert variant["VariantName"] == "AllTraffic"
        assert variant["InstanceType"] == endpoint.instances.instance_type
        assert variant["InitialInstanceCount"] == endpoint.instances.initial_instance_count
        assert "DataKey" in json.dumps(properties["KmsKeyId"])
        capture = properties["DataCaptureConfig"]
        assert capture["EnableCapture"] is True
        assert capture["InitialSamplingPercentage"] == endpoint.capture.sampling_percentage
        assert capture["DestinationS3Uri"] == f"s3://{capture_bucket}/data-capture/{endpoint.name}"
        assert "DataKey" in json.dumps(capture["KmsKeyId"])
        assert sorted(o["CaptureMode"] for o in capture["CaptureOptions"]) == ["Input", "Output"]


@pytest.mark.parametrize("environment", SERVING)
def test_endpoints_update_blue_green_and_roll_back_on_their_alarms(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = _serving(synthesized, environment)
    alarm_names = {
        alarm["Properties"]["AlarmName"] for alarm in _resources(template, "AWS::CloudWatch::Alarm").values()
    }
    for endpoint in _endpoints(sample_platform, environment):
        _, resource = _one(template, "AWS::SageMaker::Endpoint", EndpointName=endpoint.name)
        deployment = resource["Properties"]["DeploymentConfig"]
        assert deployment["BlueGreenUpdatePolicy"]["TerminationWaitInSeconds"] > 0
        rollback = [a["AlarmName"] for a in deployment["AutoRollbackConfiguration"]["Alarms"]]
        assert rollback == [
            f"{environment}-{endpoint.name}-model-latency-p99",
            f"{environment}-{endpoint.name}-5xx-error-rate",
        ]
        assert set(rollback) <= alarm_names
        # The alarms exist before the endpoint names them.
        assert len(resource["DependsOn"]) >= len(rollback)


@pytest.mark.parametrize("environment", SERVING)
def test_autoscaling_bounds_and_target_come_from_configuration(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = _serving(synthesized, environment)
    policies = list(_resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values())
    for endpoint in _endpoints(sample_platform, environment):
        scaling = endpoint.autoscaling
        assert scaling is not None
        target_id, target = _one(
            template,
            "AWS::ApplicationAutoScaling::ScalableTarget",
            ResourceId=f"endpoint/{endpoint.name}/variant/AllTraffic",
        )
        assert target["Properties"]["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        assert target["Properties"]["MinCapacity"] == scaling.min_instances
        assert target["Properties"]["MaxCapacity"] == scaling.max_instances
        assert target["DependsOn"], "registered before the endpoint exists"
        (policy,) = [p for p in policies if p["Properties"]["ScalingTargetId"] == {"Ref": target_id}]
        tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        assert tracking["PredefinedMetricSpecification"] == {
            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
        }
        assert tracking["TargetValue"] == scaling.target_invocations_per_instance
        assert tracking["ScaleInCooldown"] == scaling.scale_in_cooldown_seconds
        assert tracking["ScaleOutCooldown"] == scaling.scale_out_cooldown_seconds


@pytest.mark.parametrize("environment", SERVING)
def test_data_quality_schedule_watches_its_endpoint_against_the_package_baseline(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = _serving(synthesized, environment)
    definitions = _resources(template, "AWS::SageMaker::DataQualityJobDefinition")
    capture_bucket = naming.capture_bucket_name(sample_platform.environments[environment])
    for endpoint in _endpoints(sample_platform, environment):
        monitoring = endpoint.data_quality
        assert monitoring is not None
        _, schedule = _one(
            template,
            "AWS::SageMaker::MonitoringSchedule",
            MonitoringScheduleName=naming.monitoring_schedule_name(endpoint.name),
        )
        config = schedule["Properties"]["MonitoringScheduleConfig"]
        assert schedule["Properties"]["EndpointName"] == endpoint.name
        assert config["MonitoringType"] == "DataQuality"
        assert config["ScheduleConfig"]["ScheduleExpression"] == monitoring.schedule_expression
        (definition_id,) = [
            logical_id
            for logical_id in definitions
            if logical_id in json.dumps(config["MonitoringJobDefinitionName"])
        ]
        definition = definitions[definition_id]["Properties"]
        assert definition["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == endpoint.name
        # The baseline is what the pinned package carries, read at deploy time.
        source = sample_platform.environments[endpoint.model_package.source]
        arn = naming.model_package_arn(source, endpoint.model_package.group, endpoint.model_package.version)
        package_id, _ = _one(template, "Custom::ModelPackage", ModelPackageArn=arn)
        baseline = definition["DataQualityBaselineConfig"]
        assert baseline["ConstraintsResource"]["S3Uri"] == {"Fn::GetAtt": [package_id, "ConstraintsUri"]}
        assert baseline["StatisticsResource"]["S3Uri"] == {"Fn::GetAtt": [package_id, "StatisticsUri"]}
        (output,) = definition["DataQualityJobOutputConfig"]["MonitoringOutputs"]
        assert output["S3Output"]["S3Uri"] == f"s3://{capture_bucket}/monitoring/data-quality/{endpoint.name}"
        cluster = definition["JobResources"]["ClusterConfig"]
        assert cluster["InstanceType"] == monitoring.instance_type
        assert "VolumeKmsKeyId" in cluster
        assert definition["NetworkConfig"]["EnableNetworkIsolation"] is True
        assert definition["StoppingCondition"]["MaxRuntimeInSeconds"] == monitoring.max_runtime_minutes * 60
        assert definition["DataQualityAppSpecification"]["ImageUri"].endswith(
            f".dkr.ecr.{source.region}.amazonaws.com/sagemaker-model-monitor-analyzer:latest"
        )


@pytest.mark.parametrize("environment", SERVING)
def test_alarms_watch_each_endpoint_with_the_configured_thresholds(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = _serving(synthesized, environment)
    alarms = {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in _resources(template, "AWS::CloudWatch::Alarm").values()
    }
    for endpoint in _endpoints(sample_platform, environment):
        prefix = f"{environment}-{endpoint.name}"
        thresholds = endpoint.alarms
        latency = alarms[f"{prefix}-model-latency-p99"]
        assert (latency["Namespace"], latency["MetricName"], latency["ExtendedStatistic"]) == (
            "AWS/SageMaker",
            "ModelLatency",
            "p99",
        )
        assert latency["Threshold"] == thresholds.model_latency_p99_ms * 1000  # microseconds
        assert {d["Name"]: d["Value"] for d in latency["Dimensions"]} == {
            "EndpointName": endpoint.name,
            "VariantName": "AllTraffic",
        }
        for kind, threshold in (
            ("5xx", thresholds.error_5xx_rate_percent),
            ("4xx", thresholds.error_4xx_rate_percent),
        ):
            rate = alarms[f"{prefix}-{kind}-error-rate"]
            assert rate["Threshold"] == threshold
            expressions = {m["Id"]: m for m in rate["Metrics"]}
            assert "100 * errors / invocations" in json.dumps([m.get("Expression") for m in rate["Metrics"]])
            assert (
                expressions["errors"]["MetricStat"]["Metric"]["MetricName"]
                == f"Invocation{kind.upper()}Errors"
            )
        for metric, what, threshold in (
            ("CPUUtilization", "cpu-utilization", thresholds.cpu_utilization_percent),
            ("MemoryUtilization", "memory-utilization", thresholds.memory_utilization_percent),
        ):
            alarm = alarms[f"{prefix}-{what}"]
            assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == (
                "/aws/sagemaker/Endpoints",
                metric,
                threshold,
            )
        silent = alarms.get(f"{prefix}-no-invocations")
        if thresholds.no_invocations_minutes is None:
            assert silent is None
        else:
            assert silent is not None
            assert silent["ComparisonOperator"] == "LessThanThreshold"
            assert silent["TreatMissingData"] == "breaching"
            assert silent["Period"] >= thresholds.no_invocations_minutes * 60
        violations = alarms[f"{prefix}-monitoring-violations"]
        assert (violations["Namespace"], violations["MetricName"]) == ("AWS/Events", "TriggeredRules")
        assert violations["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    # Every alarm notifies the environment's encrypted alarm topic (the Monitoring stack's), both ways.
    for name, alarm in alarms.items():
        assert len(alarm["AlarmActions"]) == 1 and "Monitoring" in json.dumps(alarm["AlarmActions"]), name
        assert alarm["OKActions"] == alarm["AlarmActions"], name


@pytest.mark.parametrize("environment", SERVING)
def test_monitoring_violations_rule_matches_the_schedule_and_notifies(
    synthesized: SynthesizedApp, environment: str
) -> None:
    template = _serving(synthesized, environment)
    rules = [
        rule["Properties"]
        for rule in _resources(template, "AWS::Events::Rule").values()
        if rule["Properties"]["EventPattern"].get("detail-type") == ["SageMaker Processing Job State Change"]
    ]
    assert rules
    for rule in rules:
        detail = rule["EventPattern"]["detail"]
        assert detail["ExitMessage"] == [{"prefix": "CompletedWithViolations"}]
        assert "MonitoringScheduleArn" in json.dumps(detail["MonitoringScheduleArn"])
        (target,) = rule["Targets"]
        assert "Monitoring" in json.dumps(target["Arn"])
        assert "found violations" in json.dumps(target["InputTransformer"])


@pytest.mark.parametrize("environment", SERVING)
def test_the_promotion_notifier_knows_every_pinned_version(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = _serving(synthesized, environment)
    functions = [
        f["Properties"]
        for f in _resources(template, "AWS::Lambda::Function").values()
        if "ENDPOINTS" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    (function,) = functions
    variables = function["Environment"]["Variables"]
    assert variables["ENVIRONMENT_NAME"] == environment
    assert variables["CONFIG_FILE"] == f"config/{environment}.yaml"
    pinned = json.loads(variables["ENDPOINTS"])
    expected = [
        {
            "endpoint": endpoint.name,
            "source": endpoint.model_package.source,
            "source_account": sample_platform.environments[endpoint.model_package.source].account_id,
            "group": endpoint.model_package.group,
            "version": endpoint.model_package.version,
        }
        for endpoint in _endpoints(sample_platform, environment)
    ]
    assert pinned == expected
    (rule,) = [
        r["Properties"]
        for r in _resources(template, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("detail-type") == ["SageMaker Model Package State Change"]
    ]
    assert rule["EventPattern"]["account"] == sorted({str(e["source_account"]) for e in expected})
    assert rule["EventPattern"]["detail"]["ModelApprovalStatus"] == ["Approved"]


@pytest.mark.parametrize("environment", SERVING)
def test_capture_bucket_is_stateful_encrypted_and_expires_captures(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    config = sample_platform.environments[environment]
    assert config.serving is not None
    template = synthesized.template(f"{environment}/Data")
    _, bucket = _one(template, "AWS::S3::Bucket", BucketName=naming.capture_bucket_name(config))
    assert bucket["DeletionPolicy"] == ("Retain" if config.retain_stateful_resources else "Delete")
    encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == config.serving.capture_retention_days


def test_dev_serves_no_endpoint(synthesized: SynthesizedApp) -> None:
    assert "dev/Serving" not in synthesized.stack_paths()
    assert "dev/Network" in synthesized.stack_paths()


def test_a_serverless_endpoint_has_no_vpc_capture_monitor_or_instance_alarms(
    config_copy: EditConfig, cdk_context: dict[str, Any]
) -> None:
    endpoint = ("serving", "endpoints", 0)
    config_copy("staging", delete(*endpoint, "instances"))
    config_copy("staging", delete(*endpoint, "autoscaling"))
    config_copy("staging", delete(*endpoint, "data_capture"))
    config_copy("staging", delete(*endpoint, "monitoring"))
    config_dir: Path = config_copy(
        "staging", set_value(*endpoint, "serverless", value={"memory_size_mb": 2048, "max_concurrency": 10})
    )
    stages = build_platform(config_dir, cdk_context, environments=["dev", "staging"])
    serving = stages["staging"].serving
    assert serving is not None
    template = Template.from_stack(serving)
    (model,) = _resources(template, "AWS::SageMaker::Model").values()
    assert "VpcConfig" not in model["Properties"]
    (config,) = _resources(template, "AWS::SageMaker::EndpointConfig").values()
    assert config["Properties"]["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 10,
    }
    assert "DataCaptureConfig" not in config["Properties"]
    assert "KmsKeyId" not in config["Properties"]
    assert not _resources(template, "AWS::SageMaker::MonitoringSchedule")
    assert not _resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    names = {a["Properties"]["AlarmName"] for a in _resources(template, "AWS::CloudWatch::Alarm").values()}
    assert "staging-churn-model-model-latency-p99" in names
    assert not {n for n in names if n.endswith(("cpu-utilization", "memory-utilization"))}
