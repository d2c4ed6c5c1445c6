"""Per-environment configuration: YAML files in config/, validated into frozen pydantic models.

Imports nothing of the project, so it can be read, tested and changed on its own.
"""

from platform_config.loader import ConfigError, PlatformConfig, load_environment, load_platform
from platform_config.models import (
    DomainConfig,
    EnvironmentConfig,
    FileSystemConfig,
    LifecycleConfigConfig,
    NetworkConfig,
    PersonaConfig,
    SpaceConfig,
    StudioConfig,
    UserConfig,
)

__all__ = [
    "ConfigError",
    "DomainConfig",
    "EnvironmentConfig",
    "FileSystemConfig",
    "LifecycleConfigConfig",
    "NetworkConfig",
    "PersonaConfig",
    "PlatformConfig",
    "SpaceConfig",
    "StudioConfig",
    "UserConfig",
    "load_environment",
    "load_platform",
]
