"""Stateful data: customer keys with rotation, the artifact bucket hardened and retained outside dev."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from platform_config import PlatformConfig, naming
from platform_config.naming import artifact_bucket_name
from tests.conftest import SynthesizedApp


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_rotating_customer_keys_per_purpose(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    template = synthesized.template(f"{environment}/Data")
    keys = template.find_resources("AWS::KMS::Key")
    assert all(key["Properties"]["EnableKeyRotation"] is True for key in keys.values())
    aliases = sorted(
        a["Properties"]["AliasName"] for a in template.find_resources("AWS::KMS::Alias").values()
    )
    # A Studio key only where Studio is hosted: no idle key to pay for or to guard.
    hosts_studio = sample_platform.environments[environment].studio is not None
    purposes = ["data", "logs", "studio"] if hosts_studio else ["data", "logs"]
    assert aliases == [f"alias/{environment}/sagemaker-platform/{purpose}" for purpose in purposes]
    assert len(keys) == len(purposes)


def test_artifact_bucket_is_versioned_kms_tls_only_private_and_logged(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    template = synthesized.template("staging/Data")
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": artifact_bucket_name(sample_platform.environments["staging"]),
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": Match.object_like(
                                {"Fn::GetAtt": [Match.string_like_regexp("DataKey"), "Arn"]}
                            ),
                        },
                    }
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": {
                "DestinationBucketName": Match.any_value(),
                "LogFilePrefix": "artifact-bucket/",
            },
        },
    )
    policies = template.find_resources("AWS::S3::BucketPolicy")
    denies_plain_http = [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    # Every bucket of the stack (artifacts, access logs, and pipeline source data where configured).
    assert len(denies_plain_http) == len(template.find_resources("AWS::S3::Bucket")) >= 2


@pytest.mark.parametrize(("environment", "retained"), [("dev", False), ("staging", True), ("prod", True)])
def test_keys_and_buckets_retained_and_protected_outside_dev(
    synthesized: SynthesizedApp, environment: str, retained: bool
) -> None:
    stack = synthesized.stages[environment].data
    assert stack.termination_protection is retained
    template = Template.from_stack(stack)
    expected = "Retain" if retained else "Delete"
    for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket"):
        resources = template.find_resources(resource_type)
        assert resources
        assert {r["DeletionPolicy"] for r in resources.values()} == {expected}
        assert {r["UpdateReplacePolicy"] for r in resources.values()} == {expected}


def _models_deny(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Sid") == "OnlyNamedRolesWriteModels"
    ]


def test_only_the_pipeline_role_writes_model_artifacts_in_dev(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    dev = sample_platform.environments["dev"]
    (deny,) = _models_deny(synthesized.template("dev/Data"))
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"AWS": "*"}
    assert {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(deny["Action"])
    (bucket,) = synthesized.template("dev/Data").find_resources(
        "AWS::S3::Bucket", {"Properties": {"BucketName": artifact_bucket_name(dev)}}
    )
    assert deny["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{naming.MODEL_ARTIFACT_PREFIX}/*"]]
    }
    # Named through naming.role_arn, as the Pipelines stack names its role: no cross-stack reference.
    pipeline_role = naming.role_arn(dev, naming.pipeline_role_name("dev"))
    # dev is disposable: CDK's auto-delete provider may empty the bucket when it is deleted, nobody else.
    assert deny["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [pipeline_role, _auto_delete_role(synthesized.template("dev/Data"))]
        }
    }
    roles = synthesized.template("dev/Pipelines").find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": naming.pipeline_role_name("dev")}}
    )
    assert len(roles) == 1


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_model_artifacts_are_written_by_the_pipeline_role_or_nobody(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    config = sample_platform.environments[environment]
    (deny,) = _models_deny(synthesized.template(f"{environment}/Data"))
    assert deny["Effect"] == "Deny"
    writers: list[Any] = (
        [naming.role_arn(config, naming.pipeline_role_name(environment))] if config.pipelines else []
    )
    if not config.retain_stateful_resources:
        writers.append(_auto_delete_role(synthesized.template(f"{environment}/Data")))
    if writers:
        assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": writers}}
    else:
        # No pipeline role and a retained bucket: nobody may write there.
        assert "Condition" not in deny


def _auto_delete_role(template: Template) -> dict[str, Any]:
    """The ARN of CDK's auto-delete provider role: it empties a disposable environment's buckets."""
    (role,) = [
        logical
        for logical in template.to_json()["Resources"]
        if logical.startswith("CustomS3AutoDeleteObjectsCustomResourceProviderRole")
    ]
    return {"Fn::GetAtt": [role, "Arn"]}


def test_model_artifacts_stay_readable_by_the_served_environments(synthesized: SynthesizedApp) -> None:
    # The deny names writes only: the serving roles' read grant is untouched.
    (deny,) = _models_deny(synthesized.template("dev/Data"))
    assert not [action for action in deny["Action"] if action.startswith("s3:Get")]
