"""Load every `config/<environment>.yaml`, validate it, and check what spans environments.

All problems across all files are collected and raised together as one `ConfigError`, one line each,
naming the file, the field path and what is allowed.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from platform_config.models import ENVIRONMENT_NAME_PATTERN, EnvironmentConfig


class ConfigError(Exception):
    """Configuration problems, one per line, ready to print to a person."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(dict.fromkeys(problems))  # each problem once, in order
        super().__init__(
            f"invalid platform configuration ({len(self.problems)} problem(s)):\n"
            + "\n".join(f"  - {problem}" for problem in self.problems)
        )


@dataclass(frozen=True)
class PlatformConfig:
    """Every configured environment, keyed by name (the file name without .yaml)."""

    environments: Mapping[str, EnvironmentConfig]

    def account_of(self, environment: str) -> str:
        return self.environments[environment].account_id

    def select(self, names: Iterable[str]) -> tuple[EnvironmentConfig, ...]:
        """The named environments; a name without a file is an error, never a fallback."""
        wanted = tuple(names)
        missing = [name for name in wanted if name not in self.environments]
        if missing:
            raise ConfigError(
                f"environment '{name}' has no configuration file config/{name}.yaml; "
                f"configured: {', '.join(sorted(self.environments))}"
                for name in missing
            )
        return tuple(self.environments[name] for name in wanted)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a reviewed config must not."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, label: str) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        return None, [f"{label}: not valid YAML: {' '.join(str(error).split())}"]
    if data is None:
        return None, [f"{label}: the file is empty; see config/dev.yaml for a complete example"]
    if not isinstance(data, dict):
        return None, [f"{label}: the top level must be a mapping of settings, not {type(data).__name__}"]
    return data, []


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside Optional[...], tuple[..., ...], dict[str, ...] or Annotated[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None:
        return None
    arguments = typing.get_args(annotation)
    if origin is dict:
        arguments = arguments[1:]
    elif origin is typing.Annotated:
        arguments = arguments[:1]
    elif origin not in (tuple, list, typing.Union, types.UnionType):
        return None
    for argument in arguments:
        model = _unwrap_model(argument)
        if model is not None:
            return model
    return None


def _allowed_keys(location: tuple[str | int, ...]) -> list[str]:
    """Keys allowed at the mapping that holds the last element of a pydantic error location."""
    model: type[BaseModel] | None = EnvironmentConfig
    for part in location[:-1]:
        if model is None:
            return []
        if isinstance(part, str) and part in model.model_fields:
            model = _unwrap_model(model.model_fields[part].annotation)
        # list indices and dict keys keep the element model found so far
    return sorted(model.model_fields) if model is not None else []


def _field_path(location: tuple[str | int, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _describe(error: Mapping[str, Any]) -> list[str]:
    location: tuple[str | int, ...] = tuple(error["loc"])
    # Annotated validators add a type label such as 'function-after[...]' to the location: drop it.
    location = tuple(part for part in location if not (isinstance(part, str) and "[" in part))
    path = _field_path(location)
    kind = error["type"]
    if kind == "extra_forbidden":
        # `name` comes from the file name, so it is not offered at the top level.
        allowed = [key for key in _allowed_keys(location) if len(location) > 1 or key != "name"]
        return [f"{path}: unknown key; allowed keys here: {', '.join(allowed)}"]
    if kind == "missing":
        return [f"{path}: required but missing"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in {"string_pattern_mismatch"}:
        message = f"'{error['input']}' does not match {error['ctx']['pattern']}"
    elif kind.startswith(
        ("greater_than", "less_than", "literal_error", "string_type", "int_type", "bool_type")
    ):
        message = f"{message} (got {error['input']!r})"
    return [f"{path}: {line}" for line in message.splitlines()]


def load_environment(path: Path, *, label: str | None = None) -> EnvironmentConfig:
    """Validate one environment file; raises ConfigError."""
    label = label or str(path)
    name = path.stem
    data, problems = _read_yaml(path, label)
    if data is None:
        raise ConfigError(problems)
    if "name" in data:
        raise ConfigError([f"{label}: name: remove it; the environment is named after its file ('{name}')"])
    try:
        return EnvironmentConfig.model_validate(
            {"name": name, **data}, context={"config_dir": str(path.parent)}
        )
    except ValidationError as error:
        raise ConfigError(
            f"{label}: {line}" for detail in error.errors(include_url=False) for line in _describe(detail)
        ) from None


def _cross_environment_problems(
    environments: Mapping[str, EnvironmentConfig], files: Mapping[str, str]
) -> list[str]:
    problems: list[str] = []
    by_account: dict[str, list[str]] = {}
    for environment in environments.values():
        by_account.setdefault(environment.account_id, []).append(environment.name)
    for account, names in sorted(by_account.items()):
        if len(names) > 1:
            problems.append(
                f"{', '.join(files[name] for name in names)}: account_id {account} is used by "
                f"{' and '.join(names)}; each environment needs its own account"
            )
    known = ", ".join(sorted(environments))
    for environment in environments.values():
        label = files[environment.name]
        for field_name in ("trusted_environments", "serves_environments"):
            for index, other in enumerate(getattr(environment, field_name)):
                if other not in environments:
                    problems.append(
                        f"{label}: {field_name}[{index}]: '{other}' is not a configured environment "
                        f"(no config/{other}.yaml); configured: {known}"
                    )
        # Both sides of a trust are derived from configuration, so they must agree.
        for other in environment.serves_environments:
            if other in environments and environment.name not in environments[other].trusted_environments:
                problems.append(
                    f"{label}: serves_environments lists '{other}', but {files[other]} does not list "
                    f"'{environment.name}' in trusted_environments; add it there or remove it here"
                )
        for other in environment.trusted_environments:
            if other in environments and environment.name not in environments[other].serves_environments:
                problems.append(
                    f"{label}: trusted_environments lists '{other}', but {files[other]} does not list "
                    f"'{environment.name}' in serves_environments; add it there or remove it here"
                )
    return problems


def load_platform(config_dir: Path) -> PlatformConfig:
    """Every `*.yaml` in config_dir, validated; raises ConfigError listing every problem found."""
    if not config_dir.is_dir():
        raise ConfigError([f"{config_dir}: configuration folder not found"])
    paths = sorted(config_dir.glob("*.yaml"))
    if not paths:
        raise ConfigError([f"{config_dir}: no environment files (*.yaml); add one per environment"])
    problems: list[str] = []
    environments: dict[str, EnvironmentConfig] = {}
    files: dict[str, str] = {}
    for path in paths:
        label = _display(path)
        if not ENVIRONMENT_NAME_PATTERN.match(path.stem):
            problems.append(
                f"{label}: the file name is the environment name and must match "
                f"{ENVIRONMENT_NAME_PATTERN.pattern} (lower case letters, digits, hyphens; at most 20)"
            )
            continue
        try:
            environments[path.stem] = load_environment(path, label=label)
            files[path.stem] = label
        except ConfigError as error:
            problems.extend(error.problems)
    if not problems:
        problems.extend(_cross_environment_problems(environments, files))
    if problems:
        raise ConfigError(problems)
    return PlatformConfig(environments=environments)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
