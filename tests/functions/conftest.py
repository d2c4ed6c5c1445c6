"""Fixtures for the approval guard: fake credentials and region, no network, a moto model registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.approval_guard import handler as guard_module
from tests.aws_fakes import refuse_network, use_fake_aws
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
    use_fake_aws(monkeypatch, tmp_path, region=REGION, lambda_runtime=True)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_network(monkeypatch)


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
