"""`make deploy` and `make diff-live` refuse, before any CDK run, credentials that are missing or belong to
another account than ENV's, and an ENV that is not configured."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import boto3
import pytest

from platform_cli.account_check import CallerIdentity, main
from platform_cli.errors import EXIT_OK, EXIT_USAGE
from platform_config import PlatformConfig


class FakeSts:
    def __init__(self, account: str) -> None:
        self.account = account
        self.regions: list[str] = []

    def __call__(self, region: str) -> CallerIdentity:
        self.regions.append(region)
        return self

    def get_caller_identity(self) -> Mapping[str, str]:
        return {"Account": self.account, "Arn": f"arn:aws:sts::{self.account}:assumed-role/deployer/me"}


def test_credentials_for_the_environments_account_pass(
    config_copy: Callable[..., Path], sample_platform: PlatformConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    staging = sample_platform.environments["staging"]
    sts = FakeSts(staging.account_id)

    assert (
        main(["--env", "staging", "--command", "deploy", "--config-dir", str(config_copy())], sts=sts)
        == EXIT_OK
    )
    assert sts.regions == [staging.region]
    assert f"staging: credentials for account {staging.account_id}" in capsys.readouterr().err


def test_credentials_for_another_account_are_refused_naming_the_file_and_field(
    config_copy: Callable[..., Path], sample_platform: PlatformConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = config_copy()
    dev_account = sample_platform.environments["dev"].account_id
    prod_account = sample_platform.environments["prod"].account_id

    code = main(
        ["--env", "prod", "--command", "deploy", "--config-dir", str(config_dir)], sts=FakeSts(dev_account)
    )

    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"make deploy: ENV=prod: your AWS credentials are for account {dev_account}" in err
    assert f"{config_dir}/prod.yaml: account_id is {prod_account}" in err


def test_no_credentials_is_a_clear_error_not_a_traceback(
    config_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    # The real boto3 client: botocore finds no credentials before any request.
    code = main(["--env", "staging", "--command", "diff-live", "--config-dir", str(config_copy())])

    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "make diff-live: ENV=staging needs AWS credentials: no usable AWS credentials" in err
    assert "Traceback" not in err


def test_credentials_another_caller_left_in_boto3s_default_session_are_not_used(
    config_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What an earlier boto3.client() call in the same process leaves behind: a default session that has
    # resolved credentials (CI failed on this test order once).
    monkeypatch.setattr(
        boto3, "DEFAULT_SESSION", boto3.Session(aws_access_key_id="earlier", aws_secret_access_key="caller")
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    code = main(["--env", "staging", "--command", "deploy", "--config-dir", str(config_copy())])

    assert code == EXIT_USAGE
    assert "ENV=staging needs AWS credentials: no usable AWS credentials" in capsys.readouterr().err


def test_an_unknown_environment_names_the_missing_file(
    config_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = config_copy()

    code = main(
        ["--env", "qa", "--command", "deploy", "--config-dir", str(config_dir)], sts=FakeSts("1" * 12)
    )

    assert code == EXIT_USAGE
    assert (
        f"ENV=qa: there is no {config_dir}/qa.yaml; configured: dev, prod, staging" in capsys.readouterr().err
    )


def test_the_real_client_asks_sts_in_the_environments_region(
    aws: boto3.Session, config_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # moto's caller is account 123456789012: not staging's, so the check refuses it.
    code = main(["--env", "staging", "--command", "deploy", "--config-dir", str(config_copy())])

    assert code == EXIT_USAGE
    assert "your AWS credentials are for account 123456789012" in capsys.readouterr().err
