"""Load every `config/<environment>.yaml`, validate it, and check what spans environments.

All problems across all files are collected and raised together as one `ConfigError`, one line each,
naming the file, the field path and what is allowed.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from platform_config.models import ENVIRONMENT_NAME_PATTERN, EnvironmentConfig
from platform_config.problems import FieldError, SeveralFieldsError, join_path, key_path, render
from platform_config.spec_checks import spec_problems


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


# Bounds that keep a broken or hostile file from hanging the loader. Environment files are a few kilobytes
# and a few thousand values; aliases are shared when parsed but expanded by validation and error messages.
MAX_FILE_BYTES = 1_048_576
MAX_EXPANDED_VALUES = 100_000
MERGE_TAG = "tag:yaml.org,2002:merge"
# Top-level keys with this prefix hold YAML anchors for merge keys (`<<: *defaults`) and are not settings.
EXTENSION_PREFIX = "x-"


class _ConfigLoader(yaml.SafeLoader):
    """A SafeLoader that refuses two equal keys in one mapping (PyYAML keeps the last silently; a reviewed
    config must not) and takes merge keys (`<<: *defaults`), where the mapping's own keys win."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue  # merged keys may be overridden; SafeLoader flattens them below
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base class reports an unhashable key as a YAML error
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, label: str) -> tuple[dict[str, Any] | None, list[str]]:
    text, problem = _read_text(path)
    if text is None:
        return None, [f"{label}: {problem}"]
    data, problem = _parse(text)
    if problem:
        return None, [f"{label}: {problem}"]
    if data is None:
        return None, [f"{label}: the file is empty; copy another environment's file as a start"]
    if not isinstance(data, dict):
        return None, [
            f"{label}: the top level is {type(data).__name__}, not a mapping of settings; "
            "write 'key: value' settings at the top level"
        ]
    return {key: value for key, value in data.items() if not _is_extension(key)}, []


def _read_text(path: Path) -> tuple[str | None, str]:
    """The file's text, or None and why it cannot be configuration."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return None, f"cannot be read ({error.strerror}); check that it is a file you may read"
    if len(raw) > MAX_FILE_BYTES:
        return None, (
            f"larger than {MAX_FILE_BYTES // 1024} KiB, which no environment needs; "
            "split it or remove what is not configuration"
        )
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, "not UTF-8 text; save the file as UTF-8"


def _parse(text: str) -> tuple[Any, str]:
    """The YAML document, or a problem: invalid YAML, aliases that expand without bound, deep nesting."""
    loader = _ConfigLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, ""
        problem = _expansion_problem(root)
        return (None, problem) if problem else (loader.construct_document(root), "")
    except yaml.YAMLError as error:
        return None, _yaml_problem(error)
    except RecursionError:
        return None, "nested too deeply to be configuration; flatten it"
    finally:
        loader.dispose()


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where YAML stopped, what it found and what usually fixes it."""
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = " ".join(str(getattr(error, "problem", None) or error).split()).replace(";", ",")
    if what.startswith("duplicate key"):
        return f"{where}{what}; keep one of the two"
    if "constructor for the tag" in what:
        return f"{where}not valid YAML ({what}); remove the tag: configuration is plain YAML"
    return (
        f"{where}not valid YAML ({what}); check the indentation (spaces, not tabs) and quote values "
        "that start with @, ` or contain ': '"
    )


def _is_extension(key: object) -> bool:
    return isinstance(key, str) and key.startswith(EXTENSION_PREFIX)


def _expansion_problem(root: yaml.Node) -> str | None:
    """Why the document's aliases expand too far (or into themselves), or None.

    Counts the values of the document with every alias written out, sharing counts between repeated
    aliases, so a billion-laughs file is measured in a few of its own nodes' time.
    """
    counts: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_counted = stack.pop()
        children = _children(node)
        if children_counted:
            open_nodes.discard(id(node))
            counts[id(node)] = min(MAX_EXPANDED_VALUES + 1, 1 + sum(counts[id(child)] for child in children))
            continue
        if id(node) in counts:
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                return "an alias refers to a value that contains it; write the value out"
            if id(child) not in counts:
                stack.append((child, False))
    if counts[id(root)] > MAX_EXPANDED_VALUES:
        return (
            f"its aliases expand to more than {MAX_EXPANDED_VALUES:,} values, far more than any environment "
            "needs (an alias bomb?); write the values out or nest fewer aliases"
        )
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _strip_wrappers(annotation: Any) -> Any:
    """The type inside Annotated[...] and Optional[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _allowed_keys(location: tuple[str | int, ...]) -> list[str]:
    """Keys allowed in the mapping that holds the last element of a pydantic error location."""
    annotation: Any = EnvironmentConfig
    for part in location[:-1]:
        annotation = _strip_wrappers(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(part, str) or part not in annotation.model_fields:
                return []
            annotation = annotation.model_fields[part].annotation
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]  # `part` is a key of the mapping
        elif origin in (tuple, list):
            annotation = typing.get_args(annotation)[0]  # `part` is an index
        else:
            return []
    annotation = _strip_wrappers(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sorted(annotation.model_fields)
    return []


def _field_path(location: tuple[str | int, ...]) -> str:
    path = ""
    for part in location:
        path = join_path(path, key_path(part))
    return path


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


_BOUNDS: dict[str, tuple[str, str, str]] = {
    "greater_than_equal": ("is below the minimum {}", "use {} or more", "ge"),
    "greater_than": ("must be above {}", "use a value above {}", "gt"),
    "less_than_equal": ("is above the maximum {}", "use {} or less", "le"),
    "less_than": ("must be below {}", "use a value below {}", "lt"),
}
# Pydantic's type errors by prefix: what the value is not, and how to write one.
_TYPES: dict[str, tuple[str, str]] = {
    "bool": ("true or false", "write true or false, without quotes"),
    "int": ("a whole number", "write a whole number, without quotes"),
    "float": ("a number", "write a number, without quotes"),
    "string": ("text", "write text, quoted if YAML would read it as something else"),
    "tuple": ("a list", "write a YAML list, one '- item' per line"),
    "list": ("a list", "write a YAML list, one '- item' per line"),
    "dict": ("a mapping", "write 'key: value' lines under it"),
    "model": ("a mapping", "write 'key: value' lines under it"),
}


def _length_problem(kind: str, ctx: Mapping[str, Any], given: str, last: str) -> tuple[str, str] | None:
    """A missing, empty, short or long value or list, as a problem and its fix."""
    if kind == "missing":
        return "required but missing", f"add {last} (docs/configuration.md describes it)"
    if kind == "string_too_short":
        minimum = ctx["min_length"]
        empty = ("is empty", "give it a value")
        return (
            empty
            if minimum == 1
            else (f"{given} is shorter than {minimum} characters", f"use at least {minimum}")
        )
    if kind == "string_too_long":
        maximum = ctx["max_length"]
        return f"{given} is longer than {maximum} characters", f"shorten it to at most {maximum}"
    if kind == "too_short":
        return (
            f"needs at least {ctx['min_length']} item(s), not {ctx['actual_length']}",
            "add what is missing",
        )
    if kind == "too_long":
        return f"takes at most {ctx['max_length']} items, not {ctx['actual_length']}", "remove some"
    return None


def _builtin_problem(error: Mapping[str, Any], last: str) -> tuple[str, str]:
    """Pydantic's own checks (types, bounds, choices) as a problem and its fix."""
    kind: str = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    given = _shown(error.get("input"))
    length = _length_problem(kind, ctx, given, last)
    if length is not None:
        return length
    if kind in _BOUNDS:
        problem, fix, key = _BOUNDS[kind]
        return f"{given} {problem.format(ctx[key])}", fix.format(ctx[key])
    if kind in {"literal_error", "enum"}:
        return f"{given} is not an allowed value", f"use {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return f"{given} does not match {ctx['pattern']}", "change the value to match the pattern"
    expected = next((named for prefix, named in _TYPES.items() if kind.startswith(f"{prefix}_")), None)
    if expected is not None:
        return f"{given} is not {expected[0]}", expected[1]
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace(";", ","), "see docs/configuration.md for what this field takes"


def _describe(error: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(field path, problem, fix) for one pydantic error."""
    location: tuple[str | int, ...] = tuple(error["loc"])
    # Annotated validators add a type label such as 'function-after[...]' to the location: drop it.
    location = tuple(part for part in location if not (isinstance(part, str) and "[" in part))
    path = _field_path(location)
    raised = (error.get("ctx") or {}).get("error")
    if isinstance(raised, SeveralFieldsError):
        return [(join_path(path, one.at), one.problem, one.fix) for one in raised.problems]
    if isinstance(raised, FieldError):
        return [(join_path(path, raised.at), raised.problem, raised.fix)]
    if error["type"] == "extra_forbidden":
        # `name` comes from the file name, so it is not offered at the top level.
        allowed = [key for key in _allowed_keys(location) if len(location) > 1 or key != "name"]
        return [(path, "unknown key", f"allowed keys here: {', '.join(allowed)}")]
    last = key_path(location[-1]) if location else "it"
    return [(path, *_builtin_problem(error, last))]


def _echo(detail: Mapping[str, Any], details: list[Any]) -> bool:
    """A minimum-length error on a list whose item already failed repeats that failure: drop it."""
    if detail["type"] != "too_short":
        return False
    location = tuple(detail["loc"])
    return any(other is not detail and tuple(other["loc"])[: len(location)] == location for other in details)


def load_environment(path: Path, *, label: str | None = None) -> EnvironmentConfig:
    """Validate one environment file; raises ConfigError."""
    label = label or str(path)
    name = path.stem
    data, problems = _read_yaml(path, label)
    if data is None:
        raise ConfigError(problems)
    if "name" in data:
        raise ConfigError(
            [
                f"{label}: name: is not a setting, the environment is named after its file ('{name}'); "
                "remove it"
            ]
        )
    try:
        environment = EnvironmentConfig.model_validate(
            {"name": name, **data}, context={"config_dir": str(path.parent)}
        )
    except ValidationError as error:
        details = error.errors(include_url=False)
        raise ConfigError(
            render(label, *described)
            for detail in details
            if not _echo(detail, details)
            for described in _describe(detail)
        ) from None
    # Valid on its own terms; now every value as it reaches AWS, against AWS's published constraints.
    problems = spec_problems(environment)
    if problems:
        raise ConfigError(f"{label}: {problem}" for problem in problems)
    return environment


def _cross_environment_problems(
    environments: Mapping[str, EnvironmentConfig], files: Mapping[str, str]
) -> list[str]:
    problems: list[str] = []
    by_account: dict[str, list[str]] = {}
    for environment in environments.values():
        by_account.setdefault(environment.account_id, []).append(environment.name)
    for account, names in sorted(by_account.items()):
        first, *others = names
        problems.extend(
            f"{files[name]}: account_id: {account} is also the account of {first} ({files[first]}); "
            "give each environment its own account"
            for name in others
        )
    known = ", ".join(sorted(environments))
    for environment in environments.values():
        label = files[environment.name]
        for field_name in ("trusted_environments", "serves_environments"):
            for index, other in enumerate(getattr(environment, field_name)):
                if other not in environments:
                    problems.append(
                        f"{label}: {field_name}[{index}]: '{other}' is not a configured environment "
                        f"(no {other}.yaml beside this file); use one of {known}"
                    )
        # Both sides of a trust are derived from configuration, so they must agree.
        for index, other in enumerate(environment.serves_environments):
            if other in environments and environment.name not in environments[other].trusted_environments:
                problems.append(
                    f"{label}: serves_environments[{index}]: '{other}' does not trust '{environment.name}' "
                    f"({files[other]} lacks it in trusted_environments); add it there or remove it here"
                )
        for index, other in enumerate(environment.trusted_environments):
            if other in environments and environment.name not in environments[other].serves_environments:
                problems.append(
                    f"{label}: trusted_environments[{index}]: '{other}' does not serve '{environment.name}' "
                    f"({files[other]} lacks it in serves_environments); add it there or remove it here"
                )
        problems.extend(_endpoint_source_problems(environment, environments, label))
    return problems


def _endpoint_source_problems(
    environment: EnvironmentConfig, environments: Mapping[str, EnvironmentConfig], label: str
) -> list[str]:
    """An endpoint's model package must come from a trusted environment's registry, from a known group."""
    if environment.serving is None:
        return []
    problems: list[str] = []
    for index, endpoint in enumerate(environment.serving.endpoints):
        reference = endpoint.model_package
        path = f"{label}: serving.endpoints[{index}].model_package"
        if reference.source not in environment.trusted_environments:
            problems.append(
                f"{path}.source: '{reference.source}' is not in trusted_environments "
                f"({', '.join(environment.trusted_environments) or 'none'}), the only sources of models; "
                "trust it or take the model from a trusted environment"
            )
            continue
        source = environments.get(reference.source)
        if source is None:
            continue  # reported above as an unknown environment
        groups = [group.name for group in source.model_registry.groups] if source.model_registry else []
        if reference.group not in groups:
            problems.append(
                f"{path}.group: '{reference.group}' is not a model package group of {reference.source}'s "
                f"model_registry; use one of its groups ({', '.join(groups) or 'none yet'})"
            )
    return problems


def load_platform(config_dir: Path) -> PlatformConfig:
    """Every `*.yaml` in config_dir, validated; raises ConfigError listing every problem found."""
    if not config_dir.is_dir():
        raise ConfigError(
            [
                f"{config_dir}: configuration folder not found; create it, with one <environment>.yaml "
                "per environment"
            ]
        )
    paths = sorted(config_dir.glob("*.yaml"))
    misnamed = sorted(config_dir.glob("*.yml"))
    if misnamed:
        raise ConfigError(
            f"{_display(path)}: environment files end in .yaml; rename it to {path.stem}.yaml"
            for path in misnamed
        )
    if not paths:
        raise ConfigError([f"{config_dir}: no environment files (*.yaml); add one per environment"])
    problems: list[str] = []
    environments: dict[str, EnvironmentConfig] = {}
    files: dict[str, str] = {}
    for path in paths:
        label = _display(path)
        if not ENVIRONMENT_NAME_PATTERN.match(path.stem):
            problems.append(
                f"{label}: '{path.stem}' is not an environment name (the file name is one): lower case "
                "letters, digits and hyphens, starting with a letter, at most 20; rename the file"
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
