"""The image build path: a privileged CodeBuild project from S3 sources, pushing only to the platform's
repositories, its names published for `mlplatform build-image`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

from platform_config import PlatformConfig, naming
from tests.conftest import SynthesizedApp, build_platform

PUSH = {"ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"}


def _project(template: Template) -> dict[str, Any]:
    ((_, project),) = template.find_resources("AWS::CodeBuild::Project").items()
    properties: dict[str, Any] = project["Properties"]
    return properties


def _statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_project_builds_privileged_from_s3_sources_with_configured_size(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    images = sample_platform.environments["dev"].images
    assert images is not None
    project = _project(synthesized.template("dev/ImageBuild"))
    assert project["Name"] == naming.image_build_project_name("dev")
    assert project["Environment"]["PrivilegedMode"] is True
    assert project["Environment"]["ComputeType"] == images.build.compute_type
    assert project["TimeoutInMinutes"] == images.build.timeout_minutes
    assert project["Source"]["Type"] == "S3"
    assert json.dumps(project["Source"]["Location"]).endswith(f'"/{naming.BUILD_SOURCE_PREFIX}/"]]}}')
    assert "DataKey" in json.dumps(project["EncryptionKey"])
    assert "VpcConfig" not in project  # in_vpc is false in the sample


def test_buildspec_logs_in_builds_pushes_and_exports_the_digest(synthesized: SynthesizedApp) -> None:
    buildspec = json.loads(_project(synthesized.template("dev/ImageBuild"))["Source"]["BuildSpec"])
    assert buildspec["env"]["exported-variables"] == [
        naming.BUILD_EXPORTED_IMAGE_URI,
        naming.BUILD_EXPORTED_IMAGE_DIGEST,
    ]
    pre_build = "\n".join(buildspec["phases"]["pre_build"]["commands"])
    assert "aws ecr get-login-password" in pre_build
    assert f"${{{naming.BUILD_VARIABLE_REPOSITORY_URI}%%/*}}" in pre_build  # the platform's own registry
    assert "763104351884.dkr.ecr.eu-west-1.amazonaws.com" in pre_build  # FROM an AWS base image works
    (build,) = buildspec["phases"]["build"]["commands"]
    image = f"${{{naming.BUILD_VARIABLE_REPOSITORY_URI}}}:${{{naming.BUILD_VARIABLE_IMAGE_TAG}}}"
    assert build.endswith(f'--tag "{image}" .')
    # The options mlplatform build-image starts the build with, under the names it sets (naming).
    assert f'--file "${{{naming.BUILD_VARIABLE_DOCKERFILE}:-Dockerfile}}"' in build
    assert f'<<< "${{{naming.BUILD_VARIABLE_BUILD_ARGS}:-}}"' in build
    assert f"${{{naming.BUILD_VARIABLE_PLATFORM}:+--platform" in build
    post_build = "\n".join(buildspec["phases"]["post_build"]["commands"])
    assert "docker push" in post_build and f"{naming.BUILD_EXPORTED_IMAGE_DIGEST}=" in post_build


def test_build_role_pushes_only_to_the_platforms_repositories_and_reads_only_build_sources(
    synthesized: SynthesizedApp,
) -> None:
    stage = synthesized.stages["dev"]
    assert stage.images is not None and stage.image_build is not None
    template = Template.from_stack(stage.image_build)
    statements = _statements(template)
    push = [s for s in statements if PUSH & _actions(s)]
    assert push and all(_actions(s) >= PUSH for s in push)
    pushed_to = [
        r for s in push for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert len(pushed_to) == len(stage.images.repositories)
    assert all("Fn::GetStackOutput" in json.dumps(r) or "Images" in json.dumps(r) for r in pushed_to)
    reads = [s for s in statements if "s3:GetObject*" in _actions(s)]
    (read,) = reads
    object_resources = [r for r in read["Resource"] if "/sources/*" in json.dumps(r)]
    assert len(object_resources) == 1
    assert not [
        r for r in read["Resource"] if json.dumps(r).endswith('/*"]]}') and "/sources/" not in json.dumps(r)
    ]


def test_logs_go_to_a_kms_encrypted_group_with_retention(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    images = sample_platform.environments["dev"].images
    assert images is not None
    template = synthesized.template("dev/ImageBuild")
    ((log_group_id, log_group),) = template.find_resources("AWS::Logs::LogGroup").items()
    assert log_group["Properties"]["RetentionInDays"] == images.build.log_retention_days
    assert "LogsKey" in json.dumps(log_group["Properties"]["KmsKeyId"])
    logs = _project(template)["LogsConfig"]["CloudWatchLogs"]
    assert logs == {"GroupName": {"Ref": log_group_id}, "Status": "ENABLED"}


def test_build_sources_bucket_is_encrypted_tls_only_and_expires_objects(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    images = sample_platform.environments["dev"].images
    assert images is not None
    template = synthesized.template("dev/ImageBuild")
    ((_, bucket),) = template.find_resources("AWS::S3::Bucket").items()
    properties = bucket["Properties"]
    encryption = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == images.build.source_retention_days
    policy = json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policy


def test_names_are_published_for_the_build_command(synthesized: SynthesizedApp) -> None:
    parameters = {
        p["Properties"]["Name"]: p["Properties"]["Value"]
        for p in synthesized.template("dev/ImageBuild").find_resources("AWS::SSM::Parameter").values()
    }
    assert sorted(parameters) == sorted(
        naming.image_build_parameter("dev", key) for key in ("project-name", "source-bucket")
    )
    assert parameters[naming.image_build_parameter("dev", "project-name")] == {
        "Ref": next(iter(synthesized.template("dev/ImageBuild").find_resources("AWS::CodeBuild::Project")))
    }


def test_builds_can_run_in_the_isolated_subnets(
    config_copy: Callable[..., Path], cdk_context: dict[str, Any]
) -> None:
    def in_vpc(data: dict[str, Any]) -> None:
        data["images"]["build"]["in_vpc"] = True

    stages = build_platform(config_copy("dev", in_vpc), cdk_context, environments=["dev"])
    stage = stages["dev"]
    assert isinstance(stage.image_build, Stack)
    template = Template.from_stack(stage.image_build)
    vpc_config = _project(template)["VpcConfig"]
    assert len(vpc_config["Subnets"]) == len(stage.network.subnets)
    ((_, group),) = template.find_resources("AWS::EC2::SecurityGroup").items()
    egress = group["Properties"]["SecurityGroupEgress"]
    assert [(r["CidrIp"], r["IpProtocol"], r["FromPort"]) for r in egress] == [("0.0.0.0/0", "tcp", 443)]


def test_studio_builders_are_granted_the_names_the_build_stack_really_uses(
    synthesized: SynthesizedApp,
) -> None:
    # Both sides derive the names from configuration; here they are checked against each other.
    build = synthesized.template("dev/ImageBuild")
    ((_, bucket),) = build.find_resources("AWS::S3::Bucket").items()
    ((_, log_group),) = build.find_resources("AWS::Logs::LogGroup").items()
    project_name = _project(build)["Name"]
    statements = {
        statement["Sid"]: statement
        for policy in synthesized.template("dev/Studio-ml-research")
        .find_resources("AWS::IAM::ManagedPolicy")
        .values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Sid") in {"UploadBuildSources", "RunImageBuilds", "FollowImageBuildLogs"}
    }
    assert statements["UploadBuildSources"]["Resource"].endswith(
        f":::{bucket['Properties']['BucketName']}/{naming.BUILD_SOURCE_PREFIX}/*"
    )
    assert statements["RunImageBuilds"]["Resource"].endswith(f":project/{project_name}")
    assert (
        f":log-group:{log_group['Properties']['LogGroupName']}:log-stream:*"
        in statements["FollowImageBuildLogs"]["Resource"]
    )
