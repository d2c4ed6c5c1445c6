"""Fixtures for the approval guard: fake credentials and region, no network, a moto model registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.httpsession
import pytest
from moto import mock_aws

from functions.approval_guard import handler as guard_module
from tests.functions.support import (
    BASELINES,
    BUCKET,
    CLASSIFIER,
    REGION,
    REGRESSOR,
    TOPIC_ARN,
    TOPIC_NAME,
    UNGUARDED,
    Registry,
)


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and Lambda's region variables; nothing from the developer's own AWS configuration."""
    for variable in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_LAMBDA_LOG_LEVEL",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any request that moto does not answer fails the test."""

    def refuse(self: object, request: Any) -> Any:
        raise AssertionError(f"a test tried to reach the network: {request.method} {request.url}")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", refuse)


@pytest.fixture(autouse=True)
def guard_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The function's configuration, and a cold start: the per-environment caches are empty."""
    monkeypatch.setenv("BASELINES", json.dumps(BASELINES))
    monkeypatch.setenv("TOPIC_ARN", TOPIC_ARN)
    guard_module.current_settings.cache_clear()
    guard_module.default_clients.cache_clear()
    yield
    guard_module.current_settings.cache_clear()
    guard_module.default_clients.cache_clear()


@pytest.fixture(scope="session")
def boto_session() -> boto3.Session:
    """One session for all the tests, so that botocore loads each service model once, not once a test.

    It resolves the (fake) credentials on first use, inside a test, after `fake_aws_environment` set them.
    """
    return boto3.Session(region_name=REGION)


@pytest.fixture
def registry(boto_session: boto3.Session) -> Iterator[Registry]:
    """moto with the metrics bucket, the topic and the model package groups."""
    with mock_aws():
        registry = Registry(boto_session)
        registry.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        assert registry.clients.sns.create_topic(Name=TOPIC_NAME)["TopicArn"] == TOPIC_ARN
        for group in (CLASSIFIER, REGRESSOR, UNGUARDED):
            registry.sagemaker.create_model_package_group(ModelPackageGroupName=group)
        yield registry
