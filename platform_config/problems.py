"""The one form every configuration problem takes: `<file>: <field path>: <problem>; <fix>`.

Validators raise `FieldError` (or `SeveralFieldsError` for several at once): the problem, how to fix it, and
optionally where below the validated field it sits (`at="users[1].sso_user_name"`), so a check that needs
the whole domain still names the exact field. The loader joins the file and the field path in front.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

# A field path as people write it: `studio.domains[0].users[1].name`, `tags['team:owner']`.
FIELD_PATH_PATTERN: Final = r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\]|\['[^']*'\])*"
# A position in a file YAML could not parse, used where there is no field yet.
YAML_POSITION_PATTERN: Final = r"line \d+, column \d+"
# The rendered form; problems about a file itself (unreadable, empty, misnamed) have no field path.
# Tests check every problem against it; the file is a path without spaces (the tests' folders have none).
PROBLEM_PATTERN: Final = re.compile(
    rf"(?P<file>[^\s:]+): (?:(?P<field>{FIELD_PATH_PATTERN}|{YAML_POSITION_PATTERN}): )?"
    r"(?P<problem>[^;]+?); (?P<fix>\S.*)",
    re.DOTALL,
)
_IDENTIFIER = re.compile(r"[A-Za-z_][\w-]*")


class FieldError(ValueError):
    """A validator's finding: what is wrong, what to do, and (optionally) the field below it that is wrong."""

    def __init__(self, problem: str, fix: str, *, at: str = "") -> None:
        if ";" in problem:
            raise AssertionError(f"a problem is one clause; put the advice in `fix`: {problem!r}")
        self.problem = problem
        self.fix = fix
        self.at = at
        super().__init__(f"{problem}; {fix}")


def not_one_of(
    value: str, kind: str, choices: Iterable[str], *, at: str, none: str = "none yet"
) -> FieldError:
    """A reference to something the configuration does not have: `'<value>' is not <kind>`, and the names
    it has to choose from (sorted; `none` when there are none)."""
    return FieldError(f"'{value}' is not {kind}", f"use one of {', '.join(sorted(choices)) or none}", at=at)


class SeveralFieldsError(ValueError):
    """Several findings of one validator, each with its own field."""

    def __init__(self, problems: Iterable[FieldError]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def raise_all(problems: list[FieldError]) -> None:
    """Raise what a validator found, if anything: one problem as itself, several together."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise SeveralFieldsError(problems)


def join_path(path: str, below: str) -> str:
    """`studio.domains[0]` + `users[1].name` -> `studio.domains[0].users[1].name`."""
    if not below:
        return path
    if not path or below.startswith("["):
        return f"{path}{below}"
    return f"{path}.{below}"


def key_path(key: str | int) -> str:
    """One step of a field path: `[3]` for an index, `name` for a plain key, `['team:owner']` otherwise."""
    if isinstance(key, int):
        return f"[{key}]"
    return key if _IDENTIFIER.fullmatch(key) else f"['{key}']"


def render(file: str, field: str, problem: str, fix: str) -> str:
    """The line a person reads."""
    return f"{file}: {field}: {problem}; {fix}" if field else f"{file}: {problem}; {fix}"
