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

CONSOLE_SCRIPT = Path(sys.executable).parent / "mlplatform"


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


def test_missing_region_exit_2_with_a_message(monkeypatch: pytest.MonkeyPatch, context_dir: Path) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    exit_code, _, err = run_main(["build-image", str(context_dir), "--repository", REPOSITORY])

    assert exit_code == 2
    assert "mlplatform: error: no AWS region: pass --region, set AWS_REGION" in err


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
        (["build-image", "."], "the following arguments are required: --repository"),
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
        [str(CONSOLE_SCRIPT), "build-image", str(tmp_path), "--repository", "x"],
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
        "folder that holds it (the whole folder is the build context)\n"
    )
