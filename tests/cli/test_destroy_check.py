"""`make destroy` refuses environments that retain their data, and says why and what to do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from platform_cli.destroy_check import EXIT_OK, EXIT_REFUSED, main
from platform_config import PlatformConfig


def test_a_disposable_environment_may_be_destroyed(
    config_copy: Callable[..., Path], sample_platform: PlatformConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    name = next(n for n, env in sample_platform.environments.items() if not env.retain_stateful_resources)

    assert main(["--env", name, "--config-dir", str(config_copy())]) == EXIT_OK
    assert capsys.readouterr().err == ""


def test_an_environment_that_retains_its_data_is_refused_with_the_way_out(
    config_copy: Callable[..., Path], sample_platform: PlatformConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = config_copy()
    names = [n for n, env in sample_platform.environments.items() if env.retain_stateful_resources]
    assert names

    for name in names:
        assert main(["--env", name, "--config-dir", str(config_dir)]) == EXIT_REFUSED
        err = capsys.readouterr().err
        assert f"environment '{name}' retains its data (retain_stateful_resources: true in " in err
        assert f"in {config_dir}/{name}.yaml)" in err
        assert '"Tearing down: staging, prod and any retained environment"' in err


def test_a_disposable_environment_made_retained_is_refused_too(
    config_copy: Callable[..., Path], sample_platform: PlatformConfig
) -> None:
    name = next(n for n, env in sample_platform.environments.items() if not env.retain_stateful_resources)
    config_dir = config_copy(name, lambda data: data.update(retain_stateful_resources=True))

    assert main(["--env", name, "--config-dir", str(config_dir)]) == EXIT_REFUSED


def test_an_unknown_environment_or_a_broken_configuration_is_refused(
    config_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = config_copy()
    assert main(["--env", "qa", "--config-dir", str(config_dir)]) == EXIT_REFUSED
    assert f"ENV=qa: there is no {config_dir}/qa.yaml; configured: " in capsys.readouterr().err

    broken = config_copy("dev", lambda data: data.update(retain_stateful_resources="sometimes"))
    assert main(["--env", "dev", "--config-dir", str(broken)]) == EXIT_REFUSED
    assert "retain_stateful_resources" in capsys.readouterr().err
