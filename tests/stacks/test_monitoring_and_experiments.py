"""What operators watch (alarm topic, pipeline alarms, dashboards) and the build environment's MLflow."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from pipeline_defs.model_build import TRAINING_METRICS
from platform_config import PlatformConfig, naming
from tests.conftest import SynthesizedApp


def _properties(template: Template, resource_type: str) -> list[dict[str, Any]]:
    return [resource["Properties"] for resource in template.find_resources(resource_type).values()]


def _dashboard_body(template: Template) -> str:
    """The dashboard's JSON with every CloudFormation reference replaced by a marker."""
    (dashboard,) = _properties(template, "AWS::CloudWatch::Dashboard")
    body = dashboard["DashboardBody"]
    if isinstance(body, dict):
        body = "".join(part if isinstance(part, str) else "<ref>" for part in body["Fn::Join"][1])
    return str(body)


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_alarm_topic_is_encrypted_and_subscribed(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = synthesized.template(f"{environment}/Monitoring")
    (topic,) = _properties(template, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic
    subscriptions = sorted(s["Endpoint"] for s in _properties(template, "AWS::SNS::Subscription"))
    assert subscriptions == sorted(sample_platform.environments[environment].alarms.emails)
    (key,) = _properties(template, "AWS::KMS::Key")
    assert key["EnableKeyRotation"] is True
    services = json.dumps(key["KeyPolicy"])
    assert "cloudwatch.amazonaws.com" in services and "events.amazonaws.com" in services


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_each_pipeline_has_a_failure_alarm(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = synthesized.template(f"{environment}/Monitoring")
    alarms = {a["AlarmName"]: a for a in _properties(template, "AWS::CloudWatch::Alarm")}
    for pipeline in sample_platform.environments[environment].pipelines:
        alarm = alarms[f"{environment}-{pipeline.name}-failed"]
        assert (alarm["Namespace"], alarm["MetricName"]) == (
            "AWS/Sagemaker/ModelBuildingPipeline",
            "ExecutionFailed",
        )
        assert alarm["Dimensions"] == [{"Name": "PipelineName", "Value": pipeline.name}]
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1
        assert alarm["AlarmActions"] == [{"Ref": next(iter(template.find_resources("AWS::SNS::Topic")))}]


def test_prod_without_pipelines_has_no_pipeline_alarm(synthesized: SynthesizedApp) -> None:
    template = synthesized.template("prod/Monitoring")
    assert not _properties(template, "AWS::CloudWatch::Alarm")


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_dashboard_shows_endpoints_pipelines_and_training_metrics(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    config = sample_platform.environments[environment]
    template = synthesized.template(f"{environment}/Monitoring")
    (dashboard,) = _properties(template, "AWS::CloudWatch::Dashboard")
    assert dashboard["DashboardName"] == f"{environment}-sagemaker-platform"
    body = _dashboard_body(template)
    for endpoint in config.serving.endpoints if config.serving else ():
        assert f"Endpoint {endpoint.name}" in body
        assert f'"EndpointName","{endpoint.name}"' in body
        assert "ModelLatency" in body and "Invocation5XXErrors" in body and "MemoryUtilization" in body
        assert f'EndpointName=\\"{endpoint.name}\\" feature_baseline_drift' in body
    for pipeline in config.pipelines:
        assert f"{pipeline.name}: executions" in body
        assert f'"PipelineName","{pipeline.name}"' in body
    builds_models = any(p.definition == "model_build" for p in config.pipelines)
    for metric in TRAINING_METRICS:
        assert (f'MetricName=\\"{metric}\\"' in body) is builds_models


def test_mlflow_tracking_server_in_dev(synthesized: SynthesizedApp, sample_platform: PlatformConfig) -> None:
    dev = sample_platform.environments["dev"]
    assert dev.experiments is not None
    template = synthesized.template("dev/Experiments")
    (server,) = _properties(template, "AWS::SageMaker::MlflowTrackingServer")
    assert server["TrackingServerName"] == naming.mlflow_tracking_server_name("dev")
    assert server["TrackingServerSize"] == dev.experiments.tracking_server_size
    assert server["ArtifactStoreUri"] == f"s3://{naming.artifact_bucket_name(dev)}/mlflow"
    assert server["AutomaticModelRegistration"] is dev.experiments.automatic_model_registration
    policy = json.dumps(_properties(template, "AWS::IAM::ManagedPolicy"))
    assert f"{naming.artifact_bucket_name(dev)}/mlflow/*" in policy
    assert "CreateModelPackage" not in policy  # automatic registration is off in the sample
    # The artifact bucket is encrypted with the data key: the server may use it.
    assert "kms:GenerateDataKey*" in policy and "DataKey" in policy
    for environment in ("staging", "prod"):
        assert f"{environment}/Experiments" not in synthesized.stack_paths()


def _mlflow_grants(template: Template) -> dict[str, list[str]]:
    """Managed policies (by logical id) that grant the MLflow actions, and on what."""
    grants: dict[str, list[str]] = {}
    for logical_id, policy in template.find_resources("AWS::IAM::ManagedPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "sagemaker-mlflow:*" in actions:
                grants[logical_id] = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
    return grants


def test_studio_personas_with_experiments_and_pipelines_reach_the_tracking_server(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    dev = sample_platform.environments["dev"]
    assert dev.studio is not None
    arn = naming.mlflow_tracking_server_arn(dev)
    template = synthesized.template("dev/Studio-ml-research")
    grants = _mlflow_grants(template)
    granted_personas = {logical_id.split("Persona", 1)[1].split("Experiments")[0] for logical_id in grants}
    expected = {
        name.replace("-", "")
        for name, persona in dev.studio.personas.items()
        if "experiments" in persona.capabilities
        and any(
            name in (user.persona, domain.default_persona)
            for domain in dev.studio.domains
            if domain.name == "ml-research"
            for user in domain.users
        )
    }
    assert granted_personas == expected
    assert all(resources == [arn] for resources in grants.values())
    pipelines = synthesized.template("dev/Pipelines")
    assert list(_mlflow_grants(pipelines).values()) == [[arn]]


def test_model_build_jobs_are_told_where_to_track(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    arn = naming.mlflow_tracking_server_arn(sample_platform.environments["dev"])
    (pipeline,) = _properties(synthesized.template("dev/Pipelines"), "AWS::SageMaker::Pipeline")
    body = json.dumps(pipeline["PipelineDefinition"])
    assert f'\\"MLFLOW_TRACKING_ARN\\": \\"{arn}\\"' in body


def test_dev_network_reaches_mlflow_and_serving_networks_do_not(synthesized: SynthesizedApp) -> None:
    for environment, expected in (("dev", True), ("staging", False), ("prod", False)):
        services = json.dumps(
            _properties(synthesized.template(f"{environment}/Network"), "AWS::EC2::VPCEndpoint")
        )
        assert ("aws.sagemaker.eu-west-1.experiments" in services) is expected, environment
