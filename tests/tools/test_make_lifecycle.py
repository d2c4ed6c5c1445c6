"""`make deploy`, `make diff-live` and `make destroy` act on one environment's Stage with the pinned CLI,
refuse to run without ENV, and (deploy, diff-live) without credentials for ENV's account."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _make(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # -o bootstrap: never (re)install anything from a test.
    return subprocess.run(
        ["make", "--no-print-directory", "-o", "bootstrap", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _dry_run(*arguments: str) -> list[str]:
    completed = _make("-n", *arguments)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.splitlines()


@pytest.mark.parametrize(("target", "verb"), [("deploy", "deploy"), ("diff-live", "diff")])
def test_live_targets_check_the_account_then_run_the_cli_on_that_stage_only(target: str, verb: str) -> None:
    lines = _dry_run(target, "ENV=staging", "CDK_ARGS=--require-approval never")

    check = lines.index(f".venv/bin/python -m platform_cli.account_check --env 'staging' --command {target}")
    cdk = lines.index(
        f"PLATFORM_ENVIRONMENTS='staging' node_modules/.bin/cdk {verb} 'staging/*' --require-approval never"
    )
    assert check < cdk


def test_destroy_runs_the_cli_on_that_stage_only_after_its_check() -> None:
    lines = _dry_run("destroy", "ENV=dev", "FORCE=1")

    check = lines.index(".venv/bin/python -m platform_cli.destroy_check --env 'dev'")
    assert lines.index("PLATFORM_ENVIRONMENTS='dev' node_modules/.bin/cdk destroy 'dev/*' --force") > check


@pytest.mark.parametrize("target", ["deploy", "diff-live", "destroy"])
def test_live_targets_refuse_to_run_without_env(target: str) -> None:
    completed = _make(target)

    assert completed.returncode == 2
    assert f"make {target} needs ENV, e.g. make {target} ENV=dev" in completed.stderr
    assert "cdk" not in completed.stdout


def test_diff_live_without_credentials_fails_clearly_before_the_cli(tmp_path: Path) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in {"PLATFORM_ENVIRONMENTS", "MAKEFLAGS", "MAKELEVEL"}
    }
    environment.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
    )

    completed = _make("diff-live", "ENV=staging", env=environment)

    assert completed.returncode == 2
    assert "make diff-live: ENV=staging needs AWS credentials: no usable AWS credentials" in completed.stderr
    assert "node_modules/.bin/cdk diff" not in completed.stdout
