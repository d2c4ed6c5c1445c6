"""The `mlplatform` command line: arguments, exit codes, and messages without tracebacks."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.stub import Stubber

from platform_cli.__main__ import main
from platform_config import naming
from tests.cli.support import BUCKET, REPOSITORY, REPOSITORY_URI, FakeClock, Platform
from tests.cli.test_build_image import expected_tag

CONSOLE_SCRIPT = Path(sys.executable).parent / "mlplatform"


@pytest.fixture(autouse=True)
def in_a_checkout_with_the_test_repositories(cli_config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """build-image reads ./config by default: run from a folder whose config/ has the moto repositories."""
    monkeypatch.chdir(cli_config_dir.parent)
    cli_config_dir.rename(cli_config_dir.parent / "config")


def run_main(argv: list[str], **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    exit_code = main(argv, out=out, err=err, pacing=FakeClock().pacing(), **kwargs)
    return exit_code, out.getvalue(), err.getvalue()


def test_command_line_reaches_the_build(platform: Platform, context_dir: Path) -> None:
    started: list[dict[str, Any]] = []

    def build_pushes_the_image(params: dict[str, Any], **_: Any) -> None:
        started.append(params)
        platform.put_image(params["environmentVariablesOverride"][1]["value"])

    platform.session.events.register("before-parameter-build.codebuild.StartBuild", build_pushes_the_image)

    exit_code, out, err = run_main(
        [
            "build-image",
            str(context_dir),
            "--repository",
            REPOSITORY,
            "--tag",
            "release-7",
            "--compute-type",
            "build_general1_xlarge",
            "--env",
            "dev",
            "--timeout-minutes",
            "5",
        ],
        session_factory=lambda: platform.session,
    )

    assert exit_code == 0, err
    assert out.startswith(f"{REPOSITORY_URI}@sha256:")
    assert out.count("\n") == 1
    assert started[0]["computeTypeOverride"] == "BUILD_GENERAL1_XLARGE"
    assert (
        started[0]["sourceLocationOverride"] == f"{BUCKET}/{naming.build_source_key(REPOSITORY, 'release-7')}"
    )


def test_missing_credentials_exit_2_with_a_message(
    monkeypatch: pytest.MonkeyPatch, context_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    exit_code, out, err = run_main(["build-image", str(context_dir), "--repository", REPOSITORY])

    assert exit_code == 2
    assert out == ""
    assert "mlplatform: error: no usable AWS credentials (Unable to locate credentials)" in err
    assert "aws sso login" in err
    assert "Traceback" not in err + capsys.readouterr().err


def test_partial_credentials_exit_2_with_a_message(
    monkeypatch: pytest.MonkeyPatch, context_dir: Path
) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    exit_code, _, err = run_main(["build-image", str(context_dir), "--repository", REPOSITORY])

    assert exit_code == 2
    assert "no usable AWS credentials (Partial credentials found in env" in err


def test_the_region_is_the_environments_even_without_one_in_the_aws_configuration(
    monkeypatch: pytest.MonkeyPatch, platform: Platform, context_dir: Path
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    digest = platform.put_image("release-1")

    # No session factory: the command makes its own session, in config/dev.yaml's region (moto's platform).
    exit_code, out, err = run_main(
        ["build-image", str(context_dir), "--repository", REPOSITORY, "--tag", "release-1"]
    )

    assert exit_code == 0, err
    assert out == f"{REPOSITORY_URI}@{digest}\n"


def test_another_region_than_the_environments_is_refused_before_any_aws_call(context_dir: Path) -> None:
    exit_code, _, err = run_main(
        ["build-image", str(context_dir), "--repository", REPOSITORY, "--region", "us-east-1"],
        session_factory=session_that_must_not_be_used,
    )

    assert exit_code == 2
    assert "--region us-east-1 is not environment 'dev''s region: config/dev.yaml: region is eu-west-1" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--env", "qa"],
            "--env 'qa' is not configured: there is no config/qa.yaml; configured: dev, prod, staging",
        ),
        (
            ["--env", "staging"],
            "config/staging.yaml: images is not set, so environment 'staging' has no image build project; "
            "build in one that configures images (dev)",
        ),
        (
            ["--repository", "trainr"],
            "--repository 'trainr' is not in config/dev.yaml: images.repositories; configured: "
            f"decision-tree, jupyterlab-data-science, {REPOSITORY}, serving",
        ),
        ([], "--repository is required: config/dev.yaml: images.repositories has decision-tree, "),
        (["--repository", REPOSITORY, "--build-arg", "TOKEN"], "--build-arg 'TOKEN' is not NAME=value"),
        (["--repository", REPOSITORY, "--build-arg", "1X=a"], "--build-arg '1X=a' is not NAME=value"),
        (["--repository", REPOSITORY, "--platform", "arm64"], "--platform 'arm64' is not os/arch[/variant]"),
        (["--repository", REPOSITORY, "--file", "../Dockerfile"], "--file '../Dockerfile' must be a path"),
        (["--repository", REPOSITORY, "--file", "x.Dockerfile"], "--file x.Dockerfile: no such file in"),
    ],
)
def test_configuration_and_option_errors_name_the_file_and_field_before_any_aws_call(
    argv: list[str], message: str, context_dir: Path
) -> None:
    exit_code, out, err = run_main(
        ["build-image", str(context_dir), *argv], session_factory=session_that_must_not_be_used
    )

    assert exit_code == 2
    assert out == ""
    assert message in err


def session_that_must_not_be_used() -> boto3.Session:
    raise AssertionError("an AWS session was created before the configuration and options were checked")


def test_file_build_args_and_platform_reach_the_build_and_the_tag(
    platform: Platform, context_dir: Path
) -> None:
    (context_dir / "docker").mkdir()
    (context_dir / "docker" / "serve.Dockerfile").write_text("FROM python:3.11-slim\nARG GREETING\n")
    started: list[dict[str, Any]] = []

    def build_pushes_the_image(params: dict[str, Any], **_: Any) -> None:
        started.append(params)
        platform.put_image(params["environmentVariablesOverride"][1]["value"])

    platform.session.events.register("before-parameter-build.codebuild.StartBuild", build_pushes_the_image)
    options = [
        "--file", "docker/serve.Dockerfile",
        "--build-arg", "GREETING=hello world",
        "--build-arg", "BASE=python:3.11-slim",
        "--platform", "linux/arm64",
    ]  # fmt: skip

    exit_code, _, err = run_main(
        ["build-image", str(context_dir), "--repository", REPOSITORY, *options],
        session_factory=lambda: platform.session,
    )
    plain_tag = expected_tag(context_dir)

    assert exit_code == 0, err
    variables = {item["name"]: item["value"] for item in started[0]["environmentVariablesOverride"]}
    assert variables[naming.BUILD_VARIABLE_DOCKERFILE] == "docker/serve.Dockerfile"
    assert variables[naming.BUILD_VARIABLE_BUILD_ARGS] == "GREETING=hello world\nBASE=python:3.11-slim"
    assert variables[naming.BUILD_VARIABLE_PLATFORM] == "linux/arm64"
    # Other options build another image: the default tag is not the plain build's.
    assert variables[naming.BUILD_VARIABLE_IMAGE_TAG].startswith("sha-")
    assert variables[naming.BUILD_VARIABLE_IMAGE_TAG] != plain_tag


def test_unknown_profile_exit_2_with_a_message(monkeypatch: pytest.MonkeyPatch, context_dir: Path) -> None:
    monkeypatch.setenv("AWS_PROFILE", "platform-dev")

    exit_code, _, err = run_main(["build-image", str(context_dir), "--repository", REPOSITORY])

    assert exit_code == 2
    assert "The config profile (platform-dev) could not be found" in err
    assert "set AWS_PROFILE to a profile" in err


def test_expired_credentials_say_how_to_refresh(context_dir: Path) -> None:
    ssm = boto3.Session(region_name="eu-west-1").client("ssm")
    stubber = Stubber(ssm)
    stubber.add_client_error(
        "get_parameters", "ExpiredTokenException", "The security token included has expired"
    )
    stubber.activate()

    class OneClientSession:
        region_name = "eu-west-1"

        def client(self, service_name: str, **_: Any) -> Any:
            assert service_name == "ssm"
            return ssm

    exit_code, _, err = run_main(
        ["build-image", str(context_dir), "--repository", REPOSITORY],
        session_factory=lambda: cast(boto3.Session, OneClientSession()),
    )

    assert exit_code == 2
    assert "AWS GetParameters failed with ExpiredTokenException" in err
    assert "expired or invalid" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build-image", ".", "--repository", "x", "--timeout-minutes", "soon"], "invalid int value: 'soon'"),
        (["deploy"], "invalid choice: 'deploy'"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "build-image" in capsys.readouterr().err


def test_installed_console_script_is_wired(tmp_path: Path) -> None:
    """The real entry point, run the way people run it: from another folder, no PYTHONPATH."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), "build-image", str(tmp_path), "--repository", REPOSITORY],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    if "No module named 'platform_config'" in completed.stderr:
        pytest.fail(
            "the installed mlplatform cannot import platform_config: list it next to platform_cli in "
            "[tool.setuptools] packages of pyproject.toml and reinstall (pip install --no-deps -e .)"
        )
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert completed.stderr == (
        f"mlplatform: error: no Dockerfile in {tmp_path}: build-image builds PATH/Dockerfile; pass the "
        "folder that holds it (the whole folder is the build context), or --file with its path inside PATH\n"
    )
