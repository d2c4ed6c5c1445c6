"""Rendering is offline and independent of the machine: no network, no AWS configuration, no SDK defaults."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
import yaml
from sagemaker.telemetry import telemetry_logging

from pipeline_defs import DEFINITIONS, RenderContext, render, script_paths
from pipeline_defs import _sdk as sdk
from pipeline_defs.context import (
    PLACEHOLDER_BUCKET,
    PLACEHOLDER_CODE_BUCKET,
    PLACEHOLDER_MODEL_PACKAGE_GROUP,
    PLACEHOLDER_ROLE_ARN,
)
from tests.pipeline_defs.conftest import Rendered
from tests.pipeline_defs.support import (
    BUCKET,
    REGION,
    ROOT,
    SUBPROCESS_BLOCKER,
    blocked_network,
    load,
)


def test_every_definition_renders_with_the_network_blocked(full: dict[str, Rendered]) -> None:
    assert set(full) == set(DEFINITIONS) == {"model_build", "batch_inference"}
    for rendered in full.values():
        assert rendered.network_attempts == (), rendered.name
        assert load(rendered.definition)["Steps"]


def test_the_blocker_counts_attempts() -> None:
    """The blocker is not vacuous: a real API call is attempted, recorded and refused."""
    client = boto3.client(
        "sts", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with blocked_network() as attempts, pytest.raises(AssertionError, match="network blocked"):
        client.get_caller_identity()
    assert attempts == ["sts:GetCallerIdentity"]


def test_default_bucket_is_the_context_bucket_without_any_call() -> None:
    session = sdk.pipeline_session(region=REGION, bucket=BUCKET)
    with blocked_network() as attempts:
        assert cast(Any, session).default_bucket() == BUCKET  # the SDK leaves the method unannotated
    assert attempts == []
    assert sdk.pipeline_session(region=REGION, bucket=BUCKET) is session  # shared


def test_sdk_defaults_files_are_the_empty_file_shipped_in_the_package() -> None:
    assert sdk.EMPTY_SDK_CONFIG.parent == ROOT / "pipeline_defs"
    assert yaml.safe_load(sdk.EMPTY_SDK_CONFIG.read_text()) is None
    assert os.environ["SAGEMAKER_ADMIN_CONFIG_OVERRIDE"] == str(sdk.EMPTY_SDK_CONFIG)
    assert os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] == str(sdk.EMPTY_SDK_CONFIG)
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"


def test_telemetry_is_stubbed() -> None:
    assert telemetry_logging._send_telemetry_request is sdk._no_telemetry


def test_offline_gives_the_process_its_environment_and_logging_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someone")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    default_session = boto3.DEFAULT_SESSION
    with sdk.offline():
        assert "AWS_PROFILE" not in os.environ
        assert os.environ["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
        logging.basicConfig(level=logging.DEBUG, force=True)  # what an SDK module does on import
        boto3.setup_default_session(region_name=REGION)
    assert os.environ["AWS_PROFILE"] == "someone"
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert (root.handlers, root.level) == (handlers, level)
    assert boto3.DEFAULT_SESSION is default_session


def test_a_fresh_process_renders_offline_in_a_hostile_environment(tmp_path: Path) -> None:
    """A new interpreter with the network blocked before any import, an unknown AWS profile, container
    credentials (as in CodeBuild or ECS) pointing at a closed port, and SDK defaults in the user's config
    that would inject a VPC: the command prints the same definition as this process, and nothing was
    attempted (`make bench` times such a process: bench/pipeline_bench.py)."""
    home = tmp_path / "home"
    (home / ".config" / "sagemaker").mkdir(parents=True)
    (home / ".config" / "sagemaker" / "config.yaml").write_text(
        "SchemaVersion: '1.0'\n"
        "SageMaker:\n"
        "  ProcessingJob:\n"
        "    NetworkConfig:\n"
        "      VpcConfig:\n"
        "        Subnets: [subnet-injected]\n"
        "        SecurityGroupIds: [sg-injected]\n"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SAGEMAKER_")) and key not in ("HOME", "PYTHONPATH")
    }
    environment |= {
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "AWS_PROFILE": "no-such-profile",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/credentials",
    }
    program = SUBPROCESS_BLOCKER + (
        "import runpy\n"
        f"sys.argv = ['pipeline_defs', 'render', 'model_build', '--region', '{REGION}']\n"
        "try:\n"
        "    runpy.run_module('pipeline_defs', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line == "ATTEMPTS []", completed.stderr
    # stdout is exactly the definition (no SDK log lines), and the same as rendered here.
    expected = render(
        "model_build",
        RenderContext(
            region=REGION,
            role_arn=PLACEHOLDER_ROLE_ARN,
            bucket=PLACEHOLDER_BUCKET,
            code_uris={
                script: f"s3://{PLACEHOLDER_CODE_BUCKET}/{script}" for script in script_paths("model_build")
            },
            model_package_group=PLACEHOLDER_MODEL_PACKAGE_GROUP,
        ),
    )
    assert completed.stdout == expected + "\n"
    assert "injected" not in completed.stdout
    assert json.loads(completed.stdout)["Steps"]
