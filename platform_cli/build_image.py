"""`mlplatform build-image`: pack a folder, build it in the platform's CodeBuild project, print the image.

Flow: check the folder -> pack it (tag = content hash unless given) -> read the platform's names from SSM
-> if the tag exists in ECR, print it and stop -> upload the zip -> start the build -> follow its log ->
print `repository-uri@sha256:digest`.

stdout carries exactly one line, the image reference, so `IMAGE=$(mlplatform build-image ...)` works;
everything else (progress, the build log, errors) goes to stderr.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, TextIO, get_args
from urllib.parse import quote

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from platform_cli.build_log import BuildLog, Progress
from platform_cli.context_archive import (
    DOCKERFILE,
    TAG_HASH_LENGTH,
    ContextError,
    PackedContext,
    describe_size,
    pack_context,
    require_dockerfile,
)
from platform_cli.errors import (
    EXIT_BUILD_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    REGION_HINT,
    CommandError,
    describe_aws_error,
)
from platform_cli.platform_lookup import BuildTarget, PlatformLookupError, resolve_build_target
from platform_config import naming
from platform_config.models import (
    ENVIRONMENT_NAME_PATTERN,
    IMAGE_DIGEST_PATTERN,
    IMAGE_TAG_PATTERN,
    REPOSITORY_NAME_PATTERN,
    BuildComputeType,
)

if TYPE_CHECKING:
    from mypy_boto3_codebuild import CodeBuildClient
    from mypy_boto3_codebuild.literals import ComputeTypeType
    from mypy_boto3_codebuild.type_defs import BuildTypeDef, StartBuildInputTypeDef
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient

# The configuration's rules (sizes, tag and name grammars), so a typo fails here, not as an odd AWS error.
COMPUTE_TYPES: tuple[ComputeTypeType, ...] = get_args(BuildComputeType)
FAILED_STATUSES = frozenset({"FAILED", "FAULT", "TIMED_OUT", "STOPPED"})
MAX_TIMEOUT_MINUTES = 8 * 60 + 480  # CodeBuild's longest build (8 h) plus its longest queue (8 h)
SPOOL_IN_MEMORY_BYTES = 32 * 1024 * 1024
FINAL_LOG_DELAY_SECONDS = 2.0
# docker's --build-arg NAME=value (the value may be empty; one line: the build receives one per line).
BUILD_ARG_PATTERN = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>[^\n\r]*)")
# docker's --platform: os/arch[/variant], e.g. linux/amd64, linux/arm64, linux/arm/v7.
PLATFORM_PATTERN = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")


@dataclass(frozen=True)
class BuildImageRequest:
    """What the person asked for, checked by `validate` before anything else happens."""

    context_dir: Path
    repository: str
    tag: str | None = None
    compute_type: str | None = None
    environment: str = "dev"
    timeout_minutes: int = 60
    dockerfile: str = DOCKERFILE  # relative to context_dir
    build_args: tuple[str, ...] = ()  # NAME=value
    platform: str | None = None

    def validate(self) -> None:
        if not REPOSITORY_NAME_PATTERN.fullmatch(self.repository):
            raise CommandError(
                f"--repository '{self.repository}' is not a repository name: lower-case letters and digits, "
                "separated by single '.', '_' or '-'"
            )
        if not ENVIRONMENT_NAME_PATTERN.fullmatch(self.environment):
            raise CommandError(
                f"--env '{self.environment}' is not an environment name: a lower-case letter, then up to 19 "
                "lower-case letters, digits or '-' (the name of a file in config/)"
            )
        if self.tag is not None and not IMAGE_TAG_PATTERN.fullmatch(self.tag):
            raise CommandError(
                f"--tag '{self.tag}' is not a valid image tag: 1 to 128 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-'"
            )
        if self.compute_type is not None and self.compute_type not in COMPUTE_TYPES:
            raise CommandError(
                f"--compute-type '{self.compute_type}' is not a CodeBuild compute type for image builds; use "
                f"one of {', '.join(COMPUTE_TYPES)}"
            )
        if not 1 <= self.timeout_minutes <= MAX_TIMEOUT_MINUTES:
            raise CommandError(f"--timeout-minutes must be between 1 and {MAX_TIMEOUT_MINUTES}")
        dockerfile = Path(self.dockerfile)
        if dockerfile.is_absolute() or ".." in dockerfile.parts or not self.dockerfile.strip():
            raise CommandError(
                f"--file '{self.dockerfile}' must be a path inside PATH (relative, no '..'): the build sees "
                "only the uploaded folder"
            )
        for build_arg in self.build_args:
            if not BUILD_ARG_PATTERN.fullmatch(build_arg):
                raise CommandError(
                    f"--build-arg '{build_arg}' is not NAME=value (NAME: letters, digits and '_', not "
                    "starting with a digit; the value on one line). The build runs in CodeBuild, so a bare "
                    "NAME cannot take its value from your environment: write NAME=value"
                )
        if self.platform is not None and not PLATFORM_PATTERN.fullmatch(self.platform):
            raise CommandError(
                f"--platform '{self.platform}' is not os/arch[/variant], e.g. linux/amd64 or linux/arm64"
            )

    @property
    def build_variables(self) -> dict[str, str]:
        """The buildspec's variables for the options beyond the context; empty for a plain build."""
        values = {
            naming.BUILD_VARIABLE_DOCKERFILE: (
                Path(self.dockerfile).as_posix() if self.dockerfile != DOCKERFILE else ""
            ),
            naming.BUILD_VARIABLE_BUILD_ARGS: "\n".join(self.build_args),
            naming.BUILD_VARIABLE_PLATFORM: self.platform or "",
        }
        return {name: value for name, value in values.items() if value}

    def default_tag(self, packed: PackedContext) -> str:
        """The content hash, and the build options when there are any: other options, other image."""
        options = self.build_variables
        if not options:
            return packed.default_tag
        text = json.dumps({"context": packed.content_hash, **options}, sort_keys=True)
        return f"sha-{hashlib.sha256(text.encode()).hexdigest()[:TAG_HASH_LENGTH]}"

    @property
    def compute_type_override(self) -> ComputeTypeType | None:
        return next((value for value in COMPUTE_TYPES if value == self.compute_type), None)


class AwsClients:
    """The AWS clients of one run, created on first use: a run that stops at a local check calls nothing.

    `session_factory` makes the boto3 session (tests pass one bound to moto, or one that must not be used).
    """

    def __init__(self, session_factory: Callable[[], boto3.Session]) -> None:
        self._session_factory = session_factory

    @cached_property
    def session(self) -> boto3.Session:
        session = self._session_factory()
        if not session.region_name:
            raise CommandError(f"no AWS region: {REGION_HINT}")
        return session

    @property
    def region(self) -> str:
        region = self.session.region_name
        assert region is not None  # checked in `session`
        return region

    @cached_property
    def ssm(self) -> SSMClient:
        return self.session.client("ssm")

    @cached_property
    def s3(self) -> S3Client:
        return self.session.client("s3")

    @cached_property
    def ecr(self) -> ECRClient:
        return self.session.client("ecr")

    @cached_property
    def codebuild(self) -> CodeBuildClient:
        return self.session.client("codebuild")

    @cached_property
    def logs(self) -> CloudWatchLogsClient:
        return self.session.client("logs")


@dataclass(frozen=True)
class Console:
    """stdout gets the result line only; stderr gets everything meant for the person watching."""

    out: TextIO
    err: TextIO

    def info(self, message: str) -> None:
        print(message, file=self.err, flush=True)

    def result(self, line: str) -> None:
        print(line, file=self.out, flush=True)


@dataclass(frozen=True)
class Pacing:
    """How often to poll CodeBuild and show a heartbeat; tests pass a fake clock and sleep."""

    poll_seconds: float = 5.0
    heartbeat_seconds: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def build_image(
    request: BuildImageRequest, *, clients: AwsClients, console: Console, pacing: Pacing | None = None
) -> int:
    """Run the command; returns the exit code, or raises CommandError with the message and exit code."""
    request.validate()
    try:
        require_dockerfile(request.context_dir, request.dockerfile)
    except ContextError as error:
        raise CommandError(str(error)) from error
    return _ImageBuild(request, clients, console, pacing or Pacing()).run()


class _ImageBuild:
    """One run of the command; remembers whether a build was started, which decides the exit code."""

    def __init__(self, request: BuildImageRequest, clients: AwsClients, console: Console, pacing: Pacing):
        self.request = request
        self.clients = clients
        self.console = console
        self.pacing = pacing
        self.build_id: str | None = None
        self.last_log_lines: list[str] = []

    def run(self) -> int:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as archive:
            try:
                packed = pack_context(self.request.context_dir, archive, dockerfile=self.request.dockerfile)
            except ContextError as error:
                raise CommandError(str(error)) from error
            tag = self.request.tag or self.request.default_tag(packed)
            self.console.info(
                f"context {self.request.context_dir}: {len(packed.files)} "
                f"file{'' if len(packed.files) == 1 else 's'}, "
                f"{describe_size(packed.total_bytes)}, content hash {packed.content_hash[:16]}; tag {tag}"
            )
            try:
                return self._build_unless_present(tag, archive)
            except (BotoCoreError, ClientError, Boto3Error) as error:
                exit_code = EXIT_USAGE if self.build_id is None else EXIT_BUILD_FAILED
                message = describe_aws_error(error)
                if self.build_id is not None:
                    message += f" (while following build {self.build_id})"
                raise CommandError(message, exit_code=exit_code) from error
            except KeyboardInterrupt:
                if self.build_id is None:
                    raise CommandError(
                        "interrupted before a build started", exit_code=EXIT_INTERRUPTED
                    ) from None
                raise CommandError(
                    f"interrupted; build {self.build_id} goes on in CodeBuild. Stop it with: "
                    f"aws codebuild stop-build --id {self.build_id} --region {self.clients.region}",
                    exit_code=EXIT_INTERRUPTED,
                ) from None

    def _build_unless_present(self, tag: str, archive: IO[bytes]) -> int:
        try:
            target = resolve_build_target(
                self.clients.ssm,
                environment=self.request.environment,
                repository=self.request.repository,
                region=self.clients.region,
            )
        except PlatformLookupError as error:
            raise CommandError(str(error)) from error

        existing_digest = self._digest_of_tag(target, tag)
        if existing_digest is not None:
            self.console.info(
                f"{target.repository_uri}:{tag} already exists (tags are immutable): nothing to build. "
                "Pass another --tag to build anyway."
            )
            self.console.result(f"{target.repository_uri}@{existing_digest}")
            return EXIT_OK

        source_key = naming.build_source_key(self.request.repository, tag)
        self.console.info(f"uploading the context to s3://{target.source_bucket}/{source_key}")
        archive.seek(0)
        self.clients.s3.upload_fileobj(
            archive, target.source_bucket, source_key, ExtraArgs={"ContentType": "application/zip"}
        )
        self._start_build(target, tag, source_key)
        finished = self._wait_for_build()
        return self._report(target, tag, finished)

    def _digest_of_tag(self, target: BuildTarget, tag: str) -> str | None:
        try:
            response = self.clients.ecr.describe_images(
                registryId=target.registry_id,
                repositoryName=target.ecr_repository_name,
                imageIds=[{"imageTag": tag}],
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ImageNotFoundException":
                return None
            if code == "RepositoryNotFoundException":
                raise CommandError(
                    f"repository {target.repository_uri} (from the platform's SSM parameters) does not exist "
                    f"in ECR: deploy the repositories of environment '{target.environment}'",
                    exit_code=EXIT_BUILD_FAILED if self.build_id else EXIT_USAGE,
                ) from error
            raise
        details = response.get("imageDetails", [])
        return details[0].get("imageDigest") if details else None

    def _start_build(self, target: BuildTarget, tag: str, source_key: str) -> None:
        variables = {
            naming.BUILD_VARIABLE_REPOSITORY_URI: target.repository_uri,
            naming.BUILD_VARIABLE_IMAGE_TAG: tag,
            **self.request.build_variables,
        }
        parameters: StartBuildInputTypeDef = {
            "projectName": target.project_name,
            "sourceTypeOverride": "S3",
            "sourceLocationOverride": f"{target.source_bucket}/{source_key}",
            "environmentVariablesOverride": [
                {"name": name, "value": value, "type": "PLAINTEXT"} for name, value in variables.items()
            ],
        }
        compute_type = self.request.compute_type_override
        if compute_type is not None:
            parameters["computeTypeOverride"] = compute_type
        build = self.clients.codebuild.start_build(**parameters)["build"]
        self.build_id = build.get("id")
        if self.build_id is None:
            raise CommandError(
                "CodeBuild started a build but returned no build id", exit_code=EXIT_BUILD_FAILED
            )
        self.console.info(f"started build {self.build_id}: {self._console_url(target.project_name)}")

    def _console_url(self, project_name: str) -> str:
        region = self.clients.region
        build_id = quote(self.build_id or "", safe="")
        return (
            f"https://{region}.console.aws.amazon.com/codesuite/codebuild/projects/{project_name}/build/"
            f"{build_id}/?region={region}"
        )

    def _describe_build(self) -> BuildTypeDef:
        assert self.build_id is not None
        builds = self.clients.codebuild.batch_get_builds(ids=[self.build_id]).get("builds", [])
        if not builds:
            raise CommandError(f"CodeBuild does not know build {self.build_id}", exit_code=EXIT_BUILD_FAILED)
        return builds[0]

    def _wait_for_build(self) -> BuildTypeDef:
        log = BuildLog(self.clients.logs, self.console.info)
        progress = Progress(self.console.info, heartbeat_seconds=self.pacing.heartbeat_seconds)
        start = self.pacing.clock()
        deadline = start + self.request.timeout_minutes * 60
        while True:
            build = self._describe_build()
            progress.update(build.get("currentPhase", "SUBMITTED"), self.pacing.clock() - start)
            log.follow(build)
            if build.get("buildStatus", "IN_PROGRESS") != "IN_PROGRESS":
                if log.stream_name is not None:
                    # CloudWatch Logs can receive the last lines a moment after the status changes.
                    self.pacing.sleep(min(self.pacing.poll_seconds, FINAL_LOG_DELAY_SECONDS))
                    log.follow(build)
                self.last_log_lines = log.tail
                return build
            if self.pacing.clock() >= deadline:
                raise CommandError(self._timeout_message(log), exit_code=EXIT_BUILD_FAILED)
            self.pacing.sleep(self.pacing.poll_seconds)

    def _timeout_message(self, log: BuildLog) -> str:
        region = self.clients.region
        minutes = self.request.timeout_minutes
        lines = [
            f"build {self.build_id} is still running after {minutes} minute{'' if minutes == 1 else 's'}; "
            "stopped waiting (the build goes on in CodeBuild). Follow it with:",
            f"  aws codebuild batch-get-builds --ids {self.build_id} --region {region}",
        ]
        if log.group_name and log.stream_name:
            lines.append(
                f"  aws logs tail {log.group_name} --log-stream-names {log.stream_name} --follow "
                f"--region {region}"
            )
        lines.append(f"or stop it with: aws codebuild stop-build --id {self.build_id} --region {region}")
        return "\n".join(lines)

    def _report(self, target: BuildTarget, tag: str, build: BuildTypeDef) -> int:
        status = build.get("buildStatus", "IN_PROGRESS")
        if status != "SUCCEEDED":
            raise CommandError(self._failure_message(build), exit_code=EXIT_BUILD_FAILED)
        digest = self._exported_digest(build) or self._digest_of_tag(target, tag)
        if digest is None:
            raise CommandError(
                f"build {self.build_id} succeeded, but {target.repository_uri}:{tag} is not in ECR and the "
                f"build exported no {naming.BUILD_EXPORTED_IMAGE_DIGEST}: check the project's buildspec "
                "pushes the image",
                exit_code=EXIT_BUILD_FAILED,
            )
        self.console.info(f"built {target.repository_uri}:{tag}")
        self.console.result(f"{target.repository_uri}@{digest}")
        return EXIT_OK

    def _exported_digest(self, build: BuildTypeDef) -> str | None:
        for variable in build.get("exportedEnvironmentVariables", []):
            if variable.get("name") != naming.BUILD_EXPORTED_IMAGE_DIGEST:
                continue
            value = variable.get("value", "").strip()
            digest = value if value.startswith("sha256:") else f"sha256:{value}"
            if IMAGE_DIGEST_PATTERN.fullmatch(digest):
                return digest
            self.console.info(
                f"ignoring the build's {naming.BUILD_EXPORTED_IMAGE_DIGEST} '{value}' (not a sha256 digest); "
                "asking ECR"
            )
        return None

    def _failure_message(self, build: BuildTypeDef) -> str:
        status = build.get("buildStatus", "UNKNOWN")
        failed_phase = next(
            (phase for phase in build.get("phases", []) if phase.get("phaseStatus") in FAILED_STATUSES), None
        )
        if failed_phase is not None:
            contexts = [
                ": ".join(part for part in (context.get("statusCode"), context.get("message")) if part)
                for context in failed_phase.get("contexts", [])
            ]
            reason = "; ".join(context for context in contexts if context)
            where = f"phase {failed_phase.get('phaseType', 'UNKNOWN')} {failed_phase.get('phaseStatus')}" + (
                f": {reason}" if reason else ""
            )
        else:
            where = f"in phase {build.get('currentPhase', 'UNKNOWN')}"
        lines = [f"build {self.build_id} {status}, {where}"]
        if self.last_log_lines:
            lines.append(f"last {len(self.last_log_lines)} log lines:")
            lines.extend(f"  {line}" for line in self.last_log_lines)
        else:
            lines.append("no build log lines were available in CloudWatch Logs")
        return "\n".join(lines)
