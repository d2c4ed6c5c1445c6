"""Shared by the tests of code that calls AWS (the mlplatform command, Lambda functions): fake
credentials and region, nothing from the developer's own AWS configuration, and no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.httpsession
import pytest

# Variables that would point boto3 at real credentials or configuration.
REAL_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def use_fake_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, region: str, lambda_runtime: bool = False
) -> None:
    """Fake credentials and region; with `lambda_runtime`, the region variable Lambda sets too."""
    for variable in (*REAL_AWS_VARIABLES, "AWS_REGION", "AWS_LAMBDA_LOG_LEVEL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    if lambda_runtime:
        monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def refuse_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any request that moto does not answer (or the instance metadata service) fails the test."""

    def refuse(self: object, request: Any) -> Any:
        raise AssertionError(f"a test tried to reach the network: {request.method} {request.url}")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", refuse)
