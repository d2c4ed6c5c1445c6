"""The build-image flow against moto (SSM, S3, ECR, CodeBuild, Logs), with botocore's Stubber standing in
for CodeBuild where moto cannot fail a build, export variables or name a log stream."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.stub import Stubber

from platform_cli.build_image import AwsClients, BuildImageRequest
from platform_cli.context_archive import pack_context
from platform_config import naming
from tests.cli.support import (
    BUCKET,
    ENVIRONMENT,
    OTHER_REPOSITORY,
    PROJECT,
    REGION,
    REPOSITORY,
    REPOSITORY_URI,
    FakeClock,
    Platform,
    publish_image_build_parameters,
    run_build,
)

BUILD_ID = f"{PROJECT}:0a1b2c3d-0000-4000-8000-000000000001"
LOG_GROUP = "/aws/codebuild/dev-image-build"
LOG_STREAM = "0a1b2c3d-0000-4000-8000-000000000001"
STREAMED_DIGEST = "sha256:" + "ab" * 32


def expected_tag(folder: Path) -> str:
    return pack_context(folder, io.BytesIO()).default_tag


def request_for(folder: Path, **overrides: Any) -> BuildImageRequest:
    return BuildImageRequest(context_dir=folder, repository=REPOSITORY, environment=ENVIRONMENT, **overrides)


def build_record(status: str, phase: str, **extra: Any) -> dict[str, Any]:
    """A batch_get_builds entry as CodeBuild returns it."""
    return {
        "id": BUILD_ID,
        "buildStatus": status,
        "currentPhase": phase,
        "logs": {"groupName": LOG_GROUP, "streamName": LOG_STREAM},
        **extra,
    }


def put_log_lines(session: boto3.Session, lines: list[str]) -> None:
    logs = session.client("logs")
    if not logs.describe_log_streams(logGroupName=LOG_GROUP).get("logStreams"):
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=LOG_STREAM)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=LOG_STREAM,
        logEvents=[{"timestamp": now + index, "message": f"{line}\n"} for index, line in enumerate(lines)],
    )


def stub_start_build(stubber: Stubber, tag: str, **expected_overrides: Any) -> None:
    stubber.add_response(
        "start_build",
        {"build": {"id": BUILD_ID, "buildStatus": "IN_PROGRESS", "currentPhase": "SUBMITTED"}},
        expected_params={
            "projectName": PROJECT,
            "sourceTypeOverride": "S3",
            "sourceLocationOverride": f"{BUCKET}/{naming.build_source_key(REPOSITORY, tag)}",
            "environmentVariablesOverride": [
                {"name": naming.BUILD_VARIABLE_REPOSITORY_URI, "value": REPOSITORY_URI, "type": "PLAINTEXT"},
                {"name": naming.BUILD_VARIABLE_IMAGE_TAG, "value": tag, "type": "PLAINTEXT"},
            ],
            **expected_overrides,
        },
    )


def stub_poll(stubber: Stubber, build: dict[str, Any]) -> None:
    stubber.add_response("batch_get_builds", {"builds": [build]}, expected_params={"ids": [BUILD_ID]})


# --- against moto's CodeBuild ----------------------------------------------------------------------


def test_happy_path_uploads_the_context_starts_the_build_and_prints_the_digest(
    platform: Platform, context_dir: Path
) -> None:
    clients = platform.clients()
    started: list[dict[str, Any]] = []
    pushed_digests: list[str] = []

    def build_pushes_the_image(params: dict[str, Any], **_: Any) -> None:
        """What the project's buildspec does: push REPOSITORY_URI:IMAGE_TAG."""
        started.append(params)
        variables = {item["name"]: item["value"] for item in params["environmentVariablesOverride"]}
        pushed_digests.append(platform.put_image(variables[naming.BUILD_VARIABLE_IMAGE_TAG]))

    clients.codebuild.meta.events.register(
        "before-parameter-build.codebuild.StartBuild", build_pushes_the_image
    )
    tag = expected_tag(context_dir)

    outcome = run_build(request_for(context_dir, compute_type="BUILD_GENERAL1_LARGE"), clients)

    assert outcome.exit_code == 0, outcome.err
    assert outcome.out == f"{REPOSITORY_URI}@{pushed_digests[0]}\n"
    key = naming.build_source_key(REPOSITORY, tag)
    assert platform.uploaded_keys() == [key]
    uploaded = platform.session.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    expected_zip = io.BytesIO()
    pack_context(context_dir, expected_zip)
    assert uploaded == expected_zip.getvalue()
    assert len(started) == 1
    assert started[0]["projectName"] == PROJECT
    assert started[0]["sourceTypeOverride"] == "S3"
    assert started[0]["sourceLocationOverride"] == f"{BUCKET}/{key}"
    assert started[0]["computeTypeOverride"] == "BUILD_GENERAL1_LARGE"
    assert started[0]["environmentVariablesOverride"] == [
        {"name": naming.BUILD_VARIABLE_REPOSITORY_URI, "value": REPOSITORY_URI, "type": "PLAINTEXT"},
        {"name": naming.BUILD_VARIABLE_IMAGE_TAG, "value": tag, "type": "PLAINTEXT"},
    ]
    assert f"started build {PROJECT}:" in outcome.err
    assert "[COMPLETED 0:00] phase started" in outcome.err


def test_existing_tag_is_not_built_again(platform: Platform, context_dir: Path) -> None:
    digest = platform.put_image(expected_tag(context_dir))
    clients = platform.clients()
    calls: list[str] = []
    clients.codebuild.meta.events.register(
        "before-call.codebuild", lambda model, **_: calls.append(model.name)
    )

    outcome = run_build(request_for(context_dir), clients)

    assert outcome.exit_code == 0, outcome.err
    assert outcome.out == f"{REPOSITORY_URI}@{digest}\n"
    assert "already exists" in outcome.err
    assert platform.uploaded_keys() == []
    assert calls == []


def test_explicit_tag_overrides_the_content_hash(platform: Platform, context_dir: Path) -> None:
    digest = platform.put_image("v1.2.0")

    outcome = run_build(request_for(context_dir, tag="v1.2.0"), platform.clients())

    assert outcome.exit_code == 0, outcome.err
    assert outcome.out == f"{REPOSITORY_URI}@{digest}\n"
    assert "tag v1.2.0" in outcome.err


def test_unknown_repository_lists_the_configured_ones(platform: Platform, context_dir: Path) -> None:
    outcome = run_build(
        BuildImageRequest(context_dir=context_dir, repository="trainr", environment=ENVIRONMENT),
        platform.clients(),
    )

    assert outcome.exit_code == 2
    assert "repository 'trainr' is not configured in environment 'dev'" in outcome.err
    assert f"Configured repositories: {OTHER_REPOSITORY}, {REPOSITORY}." in outcome.err
    assert platform.uploaded_keys() == []


def test_stack_not_deployed_names_the_missing_parameters(aws: boto3.Session, context_dir: Path) -> None:
    outcome = run_build(request_for(context_dir), AwsClients(lambda: aws))

    assert outcome.exit_code == 2
    assert "the image build stack of environment 'dev' is not deployed in region eu-west-1" in outcome.err
    assert naming.image_build_parameter(ENVIRONMENT, "project-name") in outcome.err
    assert naming.image_build_parameter(ENVIRONMENT, "source-bucket") in outcome.err


def test_repository_parameter_for_another_region_is_refused(aws: boto3.Session, context_dir: Path) -> None:
    publish_image_build_parameters(
        aws, repositories={REPOSITORY: "123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer"}
    )

    outcome = run_build(request_for(context_dir), AwsClients(lambda: aws))

    assert outcome.exit_code == 2
    assert "lives in region us-east-1" in outcome.err
    assert "--region us-east-1" in outcome.err


def test_no_dockerfile_makes_no_aws_call(tmp_path: Path) -> None:
    class SessionThatMustNotBeUsed:
        region_name = REGION

        def client(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"AWS client created: {args}")

    (tmp_path / "src").mkdir()
    (tmp_path / "dockerfile.txt").write_text("FROM scratch\n")
    clients = AwsClients(lambda: cast(boto3.Session, SessionThatMustNotBeUsed()))

    outcome = run_build(request_for(tmp_path), clients)

    assert outcome.exit_code == 2
    assert f"no Dockerfile in {tmp_path}" in outcome.err
    assert "pass the folder that holds it" in outcome.err


@pytest.mark.parametrize("tag", ["-leading-dash", ".hidden", "with space", "a" * 129, "ümlaut", ""])
def test_bad_tag_is_refused_before_any_aws_call(tag: str, context_dir: Path) -> None:
    clients = AwsClients(lambda: pytest.fail("no AWS session expected"))

    outcome = run_build(request_for(context_dir, tag=tag), clients)

    assert outcome.exit_code == 2
    assert f"--tag '{tag}' is not a valid image tag" in outcome.err


def test_bad_compute_type_lists_the_allowed_ones(context_dir: Path) -> None:
    clients = AwsClients(lambda: pytest.fail("no AWS session expected"))

    outcome = run_build(request_for(context_dir, compute_type="BUILD_GENERAL1_HUGE"), clients)

    assert outcome.exit_code == 2
    assert "--compute-type 'BUILD_GENERAL1_HUGE' is not a CodeBuild compute type" in outcome.err
    assert "BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE" in outcome.err


def test_missing_staging_bucket_reports_the_failed_call(platform: Platform, context_dir: Path) -> None:
    s3 = platform.session.client("s3")
    s3.delete_bucket(Bucket=BUCKET)

    outcome = run_build(request_for(context_dir), platform.clients())

    assert outcome.exit_code == 2
    assert "NoSuchBucket" in outcome.err
    assert "mlplatform: error:" in outcome.err


# --- CodeBuild stubbed: exported variables, failures, timeouts, streamed logs ------------------------


@pytest.fixture
def stubbed(platform: Platform) -> tuple[AwsClients, Stubber]:
    """moto for SSM, S3, ECR and Logs; a Stubber for CodeBuild; the build's log group exists."""
    clients = platform.clients()
    platform.session.client("logs").create_log_group(logGroupName=LOG_GROUP)
    stubber = Stubber(clients.codebuild)
    stubber.activate()
    return clients, stubber


def test_streams_the_log_and_takes_the_digest_the_build_exported(
    platform: Platform, stubbed: tuple[AwsClients, Stubber], context_dir: Path
) -> None:
    clients, stubber = stubbed
    tag = expected_tag(context_dir)
    stub_start_build(stubber, tag)
    stub_poll(stubber, build_record("IN_PROGRESS", "PROVISIONING"))  # no log stream yet
    stub_poll(stubber, build_record("IN_PROGRESS", "BUILD"))
    stub_poll(stubber, build_record("IN_PROGRESS", "BUILD"))
    stub_poll(
        stubber,
        build_record(
            "SUCCEEDED",
            "COMPLETED",
            exportedEnvironmentVariables=[
                {"name": naming.BUILD_EXPORTED_IMAGE_URI, "value": f"{REPOSITORY_URI}:{tag}"},
                {"name": naming.BUILD_EXPORTED_IMAGE_DIGEST, "value": STREAMED_DIGEST},
            ],
        ),
    )
    clock = FakeClock()
    clock.on_sleep = [
        lambda: put_log_lines(platform.session, ["Step 1/2 : FROM python:3.11-slim"]),
        lambda: put_log_lines(platform.session, ["Step 2/2 : COPY src /opt/program"]),
        lambda: put_log_lines(platform.session, ["pushed"]),
    ]

    outcome = run_build(request_for(context_dir), clients, clock)

    assert outcome.exit_code == 0, outcome.err
    assert outcome.out == f"{REPOSITORY_URI}@{STREAMED_DIGEST}\n"  # not in ECR: came from the build
    lines = outcome.err.splitlines()
    order = [
        "[PROVISIONING 0:00] phase started",
        "[BUILD 0:05] phase started",
        "Step 1/2 : FROM python:3.11-slim",
        "Step 2/2 : COPY src /opt/program",
        "[COMPLETED 0:15] phase started",
        "pushed",
    ]
    assert [line for line in lines if line in order] == order
    assert clock.sleeps == [5.0, 5.0, 5.0, 2.0]  # polls, then a short wait for the last log lines
    stubber.assert_no_pending_responses()


def test_failed_build_names_the_phase_and_shows_the_last_log_lines(
    platform: Platform, stubbed: tuple[AwsClients, Stubber], context_dir: Path
) -> None:
    clients, stubber = stubbed
    tag = expected_tag(context_dir)
    stub_start_build(stubber, tag, computeTypeOverride="BUILD_GENERAL1_SMALL")
    stub_poll(stubber, build_record("IN_PROGRESS", "BUILD"))
    failed_phases = [
        {"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED"},
        {"phaseType": "PRE_BUILD", "phaseStatus": "SUCCEEDED"},
        {
            "phaseType": "BUILD",
            "phaseStatus": "FAILED",
            "contexts": [
                {
                    "statusCode": "COMMAND_EXECUTION_ERROR",
                    "message": "Error while executing command: docker build. Reason: exit status 1",
                }
            ],
        },
        {"phaseType": "POST_BUILD", "phaseStatus": "FAILED"},
    ]
    stub_poll(stubber, build_record("FAILED", "COMPLETED", phases=failed_phases))
    clock = FakeClock()
    clock.on_sleep = [lambda: put_log_lines(platform.session, [f"log line {index}" for index in range(25)])]

    outcome = run_build(request_for(context_dir, compute_type="BUILD_GENERAL1_SMALL"), clients, clock)

    assert outcome.exit_code == 1
    assert outcome.out == ""
    error = outcome.err[outcome.err.index("mlplatform: error:") :]
    assert (
        f"build {BUILD_ID} FAILED, phase BUILD FAILED: COMMAND_EXECUTION_ERROR: Error while executing "
        in error
    )
    assert "last 20 log lines:" in error
    assert "  log line 5\n" in error
    assert "  log line 24\n" in error
    assert "log line 4\n" not in error
    assert "POST_BUILD" not in error  # the first failed phase is the cause
    stubber.assert_no_pending_responses()


def test_timeout_stops_waiting_and_says_how_to_follow_the_build(
    stubbed: tuple[AwsClients, Stubber], context_dir: Path
) -> None:
    clients, stubber = stubbed
    stub_start_build(stubber, expected_tag(context_dir))
    for _ in range(30):
        stub_poll(stubber, build_record("IN_PROGRESS", "BUILD"))
    clock = FakeClock()

    outcome = run_build(request_for(context_dir, timeout_minutes=1), clients, clock)

    assert outcome.exit_code == 1
    assert outcome.out == ""
    assert f"build {BUILD_ID} is still running after 1 minute; stopped waiting" in outcome.err
    assert f"aws codebuild batch-get-builds --ids {BUILD_ID} --region {REGION}" in outcome.err
    assert f"aws logs tail {LOG_GROUP} --log-stream-names {LOG_STREAM} --follow" in outcome.err
    assert clock.now - 1000.0 == 60.0  # polled every 5 s for the minute, then gave up
    assert "[BUILD 0:30] still running" in outcome.err


def test_error_while_following_the_build_exits_1_with_the_operation(
    stubbed: tuple[AwsClients, Stubber], context_dir: Path
) -> None:
    clients, stubber = stubbed
    stub_start_build(stubber, expected_tag(context_dir))
    stubber.add_client_error(
        "batch_get_builds", service_error_code="ThrottlingException", service_message="Rate exceeded"
    )

    outcome = run_build(request_for(context_dir), clients)

    assert outcome.exit_code == 1
    assert "AWS BatchGetBuilds failed with ThrottlingException: Rate exceeded" in outcome.err
    assert f"(while following build {BUILD_ID})" in outcome.err
