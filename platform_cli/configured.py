"""The platform's configuration as a command reads it: loaded and validated, one environment looked up by
name, and each refusal a CommandError that names the file and what is configured instead."""

from __future__ import annotations

from pathlib import Path

from platform_cli.errors import CommandError
from platform_config import ConfigError, EnvironmentConfig, PlatformConfig, load_platform


def load_configuration(config_dir: Path, *, then: str) -> PlatformConfig:
    """The validated configuration; on a problem, the loader's message and `fix the configuration<then>`
    (e.g. then=", then build again")."""
    try:
        return load_platform(config_dir)
    except ConfigError as error:
        raise CommandError(f"{error}\nfix the configuration{then}") from error


def configured_environment(
    platform: PlatformConfig, config_dir: Path, environment: str, *, asked_as: str
) -> EnvironmentConfig:
    """One environment of the configuration; `asked_as` is how the caller named it in its message (e.g.
    `ENV=qa`, or `--env 'qa' is not configured`)."""
    config = platform.environments.get(environment)
    if config is None:
        raise CommandError(
            f"{asked_as}: there is no {config_dir / environment}.yaml; configured: "
            f"{', '.join(sorted(platform.environments))}"
        )
    return config
