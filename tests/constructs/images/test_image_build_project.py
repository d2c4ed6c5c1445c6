"""ImageBuildProject: a privileged Docker build from an uploaded folder, pushing only to the platform's
repositories, with its logs in a KMS-encrypted log group."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from constructs_lib.images.image_build_project import (
    COMPUTE_TYPES,
    BuildContract,
    BuildNetwork,
    ImageBuildProject,
)
from constructs_lib.shared.access_logs_bucket import AccessLogsBucket
from constructs_lib.shared.encrypted_bucket import EncryptedBucket
from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import (
    ACCOUNT,
    SUBNET_IDS,
    VPC_ID,
    bare_stack,
    imported_subnets,
    imported_vpc,
    logical_id,
    resource,
    synth,
    validation_errors,
)

ARTIFACTS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/44444444-4444-4444-4444-444444444444"
LOGS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/55555555-5555-5555-5555-555555555555"
SOURCE_BUCKET = "platform-build-sources-123456789012"
REPOSITORY_NAMES = ("models/decision-tree", "studio/jupyterlab")
EXTRA_BASE_IMAGE_ACCOUNT = "444455556666"
# Names of the contract with the command that starts builds; not the production ones, so that a name
# hard-coded in the construct shows.
CONTRACT = BuildContract(
    repository_uri_variable="TARGET_REPOSITORY_URI",
    image_tag_variable="TARGET_TAG",
    dockerfile_variable="TARGET_DOCKERFILE",
    build_args_variable="TARGET_BUILD_ARGS",
    platform_variable="TARGET_PLATFORM",
    exported_image_uri="PUSHED_IMAGE_URI",
    exported_image_digest="PUSHED_IMAGE_DIGEST",
    source_prefix="sources",
)
LOGIN = 'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin '
PUSH_ACTIONS = {"ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"}
PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def repository_arn(name: str, region: str = "eu-west-1") -> str:
    return f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{name}"


@dataclass(frozen=True)
class Build:
    template: Template
    project: str
    role: str
    log_group: str

    @property
    def properties(self) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.project)["Properties"]
        return written

    @property
    def buildspec(self) -> dict[str, Any]:
        parsed: dict[str, Any] = yaml.safe_load(self.properties["Source"]["BuildSpec"])
        return parsed

    def commands(self, phase: str) -> list[str]:
        commands: list[str] = self.buildspec["phases"][phase]["commands"]
        return commands

    @property
    def statements(self) -> list[dict[str, Any]]:
        """Every statement of every policy attached to the project's role."""
        return [
            statement
            for policy in self.template.find_resources(
                "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": self.role}]}}
            ).values()
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def statements_with(self, prefix: str) -> list[dict[str, Any]]:
        return [
            statement
            for statement in self.statements
            if any(a.startswith(prefix) for a in actions(statement))
        ]


def actions(statement: dict[str, Any]) -> list[str]:
    return as_list(statement["Action"])


def resources(statement: dict[str, Any]) -> list[Any]:
    return as_list(statement["Resource"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def image_build_project(
    stack: cdk.Stack,
    construct_id: str,
    *,
    compute_type: str = "BUILD_GENERAL1_MEDIUM",
    timeout_minutes: int = 60,
    log_retention_days: int = 90,
    log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    base_image_accounts: Sequence[str] = (),
    network: BuildNetwork | None = None,
) -> ImageBuildProject:
    """A project with imported bucket, repositories and keys: only what the construct writes is in the
    template, with literal ARNs."""
    return ImageBuildProject(
        stack,
        construct_id,
        project_name=f"{construct_id.lower()}-image-build",
        role_name=f"{construct_id.lower()}-sagemaker-platform-image-build",
        log_group_name=f"/sagemaker-platform/{construct_id.lower()}/image-build",
        source_bucket=s3.Bucket.from_bucket_name(stack, f"{construct_id}Sources", SOURCE_BUCKET),
        repositories=[
            ecr.Repository.from_repository_name(stack, f"{construct_id}Repository{index}", name)
            for index, name in enumerate(REPOSITORY_NAMES)
        ],
        contract=CONTRACT,
        compute_type=compute_type,
        timeout_minutes=timeout_minutes,
        artifacts_key=kms.Key.from_key_arn(stack, f"{construct_id}ArtifactsKey", ARTIFACTS_KEY_ARN),
        logs_key=kms.Key.from_key_arn(stack, f"{construct_id}LogsKey", LOGS_KEY_ARN),
        log_retention_days=log_retention_days,
        log_removal_policy=log_removal_policy,
        base_image_accounts=base_image_accounts,
        network=network,
    )


def build_of(template: Template, project: ImageBuildProject) -> Build:
    return Build(
        template, logical_id(project.project), logical_id(project.role), logical_id(project.log_group)
    )


@dataclass(frozen=True)
class Builds:
    template: Template
    in_vpc: Build  # medium, 45 minutes, logs kept 90 days and retained, an extra base-image account
    public: Build  # large, 60 minutes, logs kept 30 days and deleted, no extra account, no VPC


@pytest.fixture(scope="module")
def builds(cdk_context: dict[str, Any]) -> Builds:
    stack = bare_stack(cdk_context)
    in_vpc = image_build_project(
        stack,
        "Dev",
        timeout_minutes=45,
        base_image_accounts=[EXTRA_BASE_IMAGE_ACCOUNT, EXTRA_BASE_IMAGE_ACCOUNT],
        network=BuildNetwork(vpc=imported_vpc(stack), subnets=imported_subnets(stack)),
    )
    public = image_build_project(
        stack,
        "Test",
        compute_type="BUILD_GENERAL1_LARGE",
        log_retention_days=30,
        log_removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    template = Template.from_stack(stack)
    return Builds(template, build_of(template, in_vpc), build_of(template, public))


@pytest.fixture(scope="module")
def in_cape_town(cdk_context: dict[str, Any]) -> Build:
    """af-south-1 has its own Deep Learning Containers registry."""
    app = cdk.App(context=dict(cdk_context))
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account=ACCOUNT, region="af-south-1"))
    project = image_build_project(stack, "Dev")
    return build_of(Template.from_stack(stack), project)


@pytest.fixture(scope="module")
def sizes(cdk_context: dict[str, Any]) -> dict[str, Build]:
    """One project per compute type the construct accepts."""
    stack = bare_stack(cdk_context)
    projects = {
        compute_type: image_build_project(stack, f"Size{index}", compute_type=compute_type)
        for index, compute_type in enumerate(COMPUTE_TYPES)
    }
    template = Template.from_stack(stack)
    return {compute_type: build_of(template, project) for compute_type, project in projects.items()}


def test_project_name_and_its_fixed_name_role_only_codebuild_may_assume(builds: Builds) -> None:
    assert builds.in_vpc.properties["Name"] == "dev-image-build"
    assert builds.in_vpc.properties["ServiceRole"] == {"Fn::GetAtt": [builds.in_vpc.role, "Arn"]}
    role = resource(builds.template, builds.in_vpc.role)["Properties"]
    assert role["RoleName"] == "dev-sagemaker-platform-image-build"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}}
    ]


@pytest.mark.parametrize(("build", "compute_type"), [("in_vpc", "MEDIUM"), ("public", "LARGE")])
def test_docker_builds_in_privileged_mode_on_the_standard_7_image(
    builds: Builds, build: str, compute_type: str
) -> None:
    written: Build = getattr(builds, build)
    assert written.properties["Environment"] == {
        "ComputeType": f"BUILD_GENERAL1_{compute_type}",
        "Image": "aws/codebuild/standard:7.0",
        "ImagePullCredentialsType": "CODEBUILD",
        "PrivilegedMode": True,
        "Type": "LINUX_CONTAINER",
    }


@pytest.mark.parametrize("compute_type", list(COMPUTE_TYPES))
def test_each_compute_type_is_written_under_its_codebuild_name(
    sizes: dict[str, Build], compute_type: str
) -> None:
    assert sizes[compute_type].properties["Environment"]["ComputeType"] == compute_type


def test_the_five_general_purpose_sizes_are_accepted() -> None:
    assert sorted(COMPUTE_TYPES) == [
        "BUILD_GENERAL1_2XLARGE",
        "BUILD_GENERAL1_LARGE",
        "BUILD_GENERAL1_MEDIUM",
        "BUILD_GENERAL1_SMALL",
        "BUILD_GENERAL1_XLARGE",
    ]


def test_an_unknown_compute_type_is_refused(cdk_context: dict[str, Any]) -> None:
    # The configuration's Literal type rejects it first, with the field; the construct checks too.
    with pytest.raises(ValueError, match=r"compute_type must be one of .*got 'BUILD_GENERAL1_HUGE'"):
        image_build_project(bare_stack(cdk_context), "Dev", compute_type="BUILD_GENERAL1_HUGE")


def test_sources_are_read_from_the_prefix_of_the_bucket(builds: Builds) -> None:
    builds.template.has_resource_properties(
        "AWS::CodeBuild::Project",
        {
            "Name": "dev-image-build",
            "Source": {"Type": "S3", "Location": f"{SOURCE_BUCKET}/sources/", "BuildSpec": Match.any_value()},
            "Artifacts": {"Type": "NO_ARTIFACTS"},
        },
    )


@pytest.mark.parametrize(("build", "timeout"), [("in_vpc", 45), ("public", 60)])
def test_artifacts_encrypted_with_the_given_key_and_builds_time_out(
    builds: Builds, build: str, timeout: int
) -> None:
    written: Build = getattr(builds, build)
    assert written.properties["EncryptionKey"] == ARTIFACTS_KEY_ARN
    assert written.properties["TimeoutInMinutes"] == timeout
    assert written.properties["QueuedTimeoutInMinutes"] == 60


@pytest.mark.parametrize(("build", "days", "policy"), [("in_vpc", 90, "Retain"), ("public", 30, "Delete")])
def test_logs_go_to_its_kms_encrypted_log_group(builds: Builds, build: str, days: int, policy: str) -> None:
    written: Build = getattr(builds, build)
    assert written.properties["LogsConfig"] == {
        "CloudWatchLogs": {"GroupName": {"Ref": written.log_group}, "Status": "ENABLED"}
    }
    log_group = resource(builds.template, written.log_group)
    # A fixed name, so execution roles elsewhere may be granted to read build logs.
    assert log_group["Properties"] == {
        "LogGroupName": f"/sagemaker-platform/{'dev' if build == 'in_vpc' else 'test'}/image-build",
        "KmsKeyId": LOGS_KEY_ARN,
        "RetentionInDays": days,
    }
    assert (log_group["DeletionPolicy"], log_group["UpdateReplacePolicy"]) == (policy, policy)


def test_a_build_exports_exactly_the_contracts_image_uri_and_digest(builds: Builds) -> None:
    assert builds.in_vpc.buildspec["version"] == "0.2"
    assert builds.in_vpc.buildspec["env"] == {
        "shell": "bash",
        "exported-variables": ["PUSHED_IMAGE_URI", "PUSHED_IMAGE_DIGEST"],
    }


def test_a_build_fails_early_without_its_variables_or_a_dockerfile(builds: Builds) -> None:
    checks = [command for command in builds.in_vpc.commands("pre_build") if command.startswith("test ")]
    assert checks == [
        'test -n "${TARGET_REPOSITORY_URI}" || { echo "TARGET_REPOSITORY_URI is not set"; exit 1; }',
        'test -n "${TARGET_TAG}" || { echo "TARGET_TAG is not set"; exit 1; }',
        'test -f "${TARGET_DOCKERFILE:-Dockerfile}" || '
        "{ echo \"${TARGET_DOCKERFILE:-Dockerfile}\"' is not in the uploaded folder'; exit 1; }",
    ]


def logins(build: Build) -> list[str]:
    """The registries pre_build logs in to; every docker login is one of these ECR logins."""
    commands = build.commands("pre_build")
    assert all(command.startswith(LOGIN) for command in commands if "docker login" in command)
    return [command.removeprefix(LOGIN) for command in commands if command.startswith(LOGIN)]


def test_logs_in_to_the_repositories_registry_and_the_regions_base_image_registries(builds: Builds) -> None:
    assert logins(builds.in_vpc) == [
        # The registry part of the repository URI the build is started with.
        '"${TARGET_REPOSITORY_URI%%/*}"',
        f'"{EXTRA_BASE_IMAGE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"',
        '"763104351884.dkr.ecr.eu-west-1.amazonaws.com"',
    ]
    assert logins(builds.public) == [
        '"${TARGET_REPOSITORY_URI%%/*}"',
        '"763104351884.dkr.ecr.eu-west-1.amazonaws.com"',
    ]


def test_a_region_with_its_own_deep_learning_containers_account_uses_it(in_cape_town: Build) -> None:
    assert logins(in_cape_town) == [
        '"${TARGET_REPOSITORY_URI%%/*}"',
        '"626614931356.dkr.ecr.af-south-1.amazonaws.com"',
    ]
    assert "763104351884" not in in_cape_town.properties["Source"]["BuildSpec"]
    (base_images,) = [s for s in in_cape_town.statements if s.get("Sid") == "PullBaseImages"]
    assert resources(base_images) == ["arn:aws:ecr:af-south-1:626614931356:repository/*"]


def _run_build_command(build: Build, tmp_path: Path, **variables: str) -> list[str]:
    """The build phase's command run by bash as CodeBuild runs it, with a `docker` that prints its
    arguments one per line: what docker would be asked to do."""
    (command,) = build.commands("build")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    docker = fake_bin / "docker"
    docker.write_text('#!/bin/bash\nprintf "%s\\n" "$@"\n')
    docker.chmod(0o755)
    result = subprocess.run(
        ["bash", "-c", command],
        env={
            "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
            "TARGET_REPOSITORY_URI": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/models/decision-tree",
            "TARGET_TAG": "sha-0123",
            **variables,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/models/decision-tree:sha-0123"


def test_builds_the_uploaded_dockerfile_as_repository_and_tag(builds: Builds, tmp_path: Path) -> None:
    assert _run_build_command(builds.in_vpc, tmp_path) == [
        "build", "--pull", "--file", "Dockerfile", "--tag", IMAGE, ".",
    ]  # fmt: skip


def test_passes_the_dockerfile_build_arguments_and_platform_it_is_started_with(
    builds: Builds, tmp_path: Path
) -> None:
    arguments = _run_build_command(
        builds.in_vpc,
        tmp_path,
        TARGET_DOCKERFILE="docker/serve.Dockerfile",
        TARGET_BUILD_ARGS="BASE=python:3.11-slim\nGREETING=hello world\n",
        TARGET_PLATFORM="linux/arm64",
    )

    assert arguments == [
        "build", "--pull", "--file", "docker/serve.Dockerfile", "--platform", "linux/arm64",
        "--build-arg", "BASE=python:3.11-slim", "--build-arg", "GREETING=hello world",
        "--tag", IMAGE, ".",
    ]  # fmt: skip


def test_pushes_after_a_successful_build_and_exports_the_pushed_digest(builds: Builds) -> None:
    image = '"${TARGET_REPOSITORY_URI}:${TARGET_TAG}"'
    assert builds.in_vpc.commands("post_build") == [
        # post_build runs after a failed build too.
        'test "$CODEBUILD_BUILD_SUCCEEDING" = 1',
        f"docker push {image}",
        "PUSHED_IMAGE_DIGEST=$(set -o pipefail; docker inspect --format '{{index .RepoDigests 0}}' "
        f"{image} | cut -d@ -f2)",
        # An empty digest fails the build rather than exporting nothing.
        'test -n "${PUSHED_IMAGE_DIGEST}" || { echo "no digest for the pushed image"; exit 1; }',
        'PUSHED_IMAGE_URI="${TARGET_REPOSITORY_URI}@${PUSHED_IMAGE_DIGEST}"',
        'echo "pushed ${PUSHED_IMAGE_URI}"',
    ]


@pytest.mark.parametrize("build", ["in_vpc", "public"])
def test_the_role_pushes_only_to_the_given_repositories(builds: Builds, build: str) -> None:
    written: Build = getattr(builds, build)
    push = [s for s in written.statements if PUSH_ACTIONS & set(actions(s))]
    assert push
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in push)
    assert sorted(r for s in push for r in resources(s)) == [repository_arn(n) for n in REPOSITORY_NAMES]


def test_the_role_pulls_only_from_the_repositories_and_the_base_image_registries(builds: Builds) -> None:
    pulls = builds.in_vpc.statements_with("ecr:BatchGetImage")
    assert sorted(r for s in pulls for r in resources(s)) == sorted(
        [
            *(repository_arn(name) for name in REPOSITORY_NAMES),
            f"arn:aws:ecr:eu-west-1:{EXTRA_BASE_IMAGE_ACCOUNT}:repository/*",
            "arn:aws:ecr:eu-west-1:763104351884:repository/*",
        ]
    )
    (base_images,) = [s for s in builds.in_vpc.statements if s.get("Sid") == "PullBaseImages"]
    assert actions(base_images) == PULL_ACTIONS
    (public_base_images,) = [s for s in builds.public.statements if s.get("Sid") == "PullBaseImages"]
    assert resources(public_base_images) == ["arn:aws:ecr:eu-west-1:763104351884:repository/*"]


@pytest.mark.parametrize("build", ["in_vpc", "public"])
def test_the_role_only_reads_the_bucket_under_the_source_prefix(builds: Builds, build: str) -> None:
    written: Build = getattr(builds, build)
    s3_statements = [s for s in written.statements if any(a.startswith("s3:") for a in actions(s))]
    assert {a for s in s3_statements for a in actions(s)} == {"s3:GetBucket*", "s3:GetObject*", "s3:List*"}
    assert {r for s in s3_statements for r in resources(s)} == {
        f"arn:aws:s3:::{SOURCE_BUCKET}",
        f"arn:aws:s3:::{SOURCE_BUCKET}/sources/",  # CodeBuild's own grant on the source location
        f"arn:aws:s3:::{SOURCE_BUCKET}/sources/*",
    }


def test_in_the_vpc_the_project_runs_in_the_given_subnets_with_its_own_group(builds: Builds) -> None:
    (group,) = builds.template.find_resources("AWS::EC2::SecurityGroup")
    assert builds.in_vpc.properties["VpcConfig"] == {
        "VpcId": VPC_ID,
        "Subnets": list(SUBNET_IDS),
        "SecurityGroupIds": [{"Fn::GetAtt": [group, "GroupId"]}],
    }


def test_the_build_group_allows_only_https_out_and_nothing_in(builds: Builds) -> None:
    (group,) = builds.template.find_resources("AWS::EC2::SecurityGroup").values()
    egress = [
        {key: value for key, value in rule.items() if key != "Description"}
        for rule in group["Properties"]["SecurityGroupEgress"]
    ]
    assert egress == [{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}]
    assert "SecurityGroupIngress" not in group["Properties"]
    builds.template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)
    builds.template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)


def test_without_a_network_the_project_is_not_in_a_vpc(builds: Builds) -> None:
    assert "VpcConfig" not in builds.public.properties
    assert not builds.public.statements_with("ec2:")
    assert builds.in_vpc.statements_with("ec2:")


def test_privileged_mode_is_acknowledged_with_its_reason(cdk_context: dict[str, Any]) -> None:
    build = image_build_project(bare_stack(cdk_context), "Dev")
    acknowledged = {
        rule: reason
        for entry in build.project.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    }
    (reason,) = [reason for rule, reason in acknowledged.items() if rule.endswith("AwsSolutions-CB3")]
    assert "privileged mode" in reason


def compliant_build(stack: cdk.Stack, *, network: BuildNetwork | None = None) -> ImageBuildProject:
    """As ImageBuildStack builds it: platform keys, an expiring build-source bucket, real repositories."""
    retain = cdk.RemovalPolicy.RETAIN
    data_key = PlatformKey(stack, "DataKey", alias="alias/data", description="Data", removal_policy=retain)
    logs_key = PlatformKey(stack, "LogsKey", alias="alias/logs", description="Logs", removal_policy=retain)
    logs_key.allow_cloudwatch_logs()
    sources = EncryptedBucket(
        stack,
        "BuildSourceBucket",
        encryption_key=data_key.key,
        access_logs_bucket=AccessLogsBucket(stack, "AccessLogs", removal_policy=retain).bucket,
        access_logs_prefix="build-source-bucket/",
        removal_policy=retain,
        noncurrent_version_retention_days=1,
        expire_objects_after_days=7,
    )
    repositories = [
        ecr.Repository(
            stack,
            f"Repository{index}",
            repository_name=name,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
        )
        for index, name in enumerate(REPOSITORY_NAMES)
    ]
    return ImageBuildProject(
        stack,
        "ImageBuild",
        project_name="dev-image-build",
        role_name="dev-sagemaker-platform-image-build",
        log_group_name="/sagemaker-platform/dev/image-build",
        source_bucket=sources.bucket,
        repositories=repositories,
        contract=CONTRACT,
        compute_type="BUILD_GENERAL1_MEDIUM",
        timeout_minutes=60,
        artifacts_key=data_key.key,
        logs_key=logs_key.key,
        log_retention_days=90,
        log_removal_policy=retain,
        base_image_accounts=[EXTRA_BASE_IMAGE_ACCOUNT],
        network=network,
    )


def test_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    compliant_build(stack)
    synth(stack)  # raises on any unacknowledged cdk-nag finding


def test_in_a_vpc_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    compliant_build(stack, network=BuildNetwork(vpc=imported_vpc(stack), subnets=imported_subnets(stack)))
    try:
        synth(stack)
    except RuntimeError:
        pytest.fail(f"unacknowledged findings: {validation_errors(tmp_path)}")
