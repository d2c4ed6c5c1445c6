"""Fixtures for the mlplatform command: fake AWS credentials, no network, a moto-deployed platform."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from tests.aws_fakes import refuse_network, use_fake_aws
from tests.cli.support import (
    ACCOUNT,
    BUCKET,
    ENVIRONMENT,
    OTHER_REPOSITORY,
    PROJECT,
    REGION,
    REPOSITORY,
    REPOSITORY_URI,
    Platform,
    publish_image_build_parameters,
)
from tests.conftest import CONFIG_DIR


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and region only; nothing from the developer's own AWS configuration."""
    use_fake_aws(monkeypatch, tmp_path, region=REGION)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_network(monkeypatch)


@pytest.fixture
def aws() -> Iterator[boto3.Session]:
    """moto, with nothing deployed yet."""
    with mock_aws():
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def platform(aws: boto3.Session) -> Platform:
    """The dev environment's image build stack: SSM parameters, staging bucket, repository, project."""
    aws.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    aws.client("ecr").create_repository(repositoryName=REPOSITORY)
    aws.client("codebuild").create_project(
        name=PROJECT,
        source={"type": "S3", "location": f"{BUCKET}/sources/placeholder.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_MEDIUM",
            "privilegedMode": True,
        },
        serviceRole=f"arn:aws:iam::{ACCOUNT}:role/image-build",
    )
    other_uri = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{OTHER_REPOSITORY}"
    publish_image_build_parameters(
        aws, repositories={REPOSITORY: REPOSITORY_URI, OTHER_REPOSITORY: other_uri}
    )
    return Platform(session=aws)


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    """A small image folder: a Dockerfile, code, and something .dockerignore leaves out."""
    folder = tmp_path / "image"
    (folder / "src").mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY src /opt/program\n")
    (folder / "src" / "train.py").write_text("print('training')\n")
    (folder / ".dockerignore").write_text("*.log\n")
    (folder / "debug.log").write_text("not sent\n")
    return folder


@pytest.fixture
def cli_config_dir(tmp_path: Path) -> Path:
    """A copy of config/ whose build environment (dev, region eu-west-1 like REGION) also configures the
    repositories the moto platform has, so build-image's configuration check lets them through."""
    target = tmp_path / "cli-config"
    shutil.copytree(CONFIG_DIR, target)
    dev_path = target / f"{ENVIRONMENT}.yaml"
    dev = yaml.safe_load(dev_path.read_text())
    assert dev["region"] == REGION
    dev["images"]["repositories"] += [{"name": REPOSITORY}, {"name": OTHER_REPOSITORY}]
    dev_path.write_text(yaml.safe_dump(dev, sort_keys=False))
    return target
