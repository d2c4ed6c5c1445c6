"""Helpers for the configuration tests: edit a copy of the sample, load it, and check the problems reported.

`config_copy` (tests/conftest.py) copies config/ into tmp_path; `edit(environment, change)` applies a change
to one file. The functions here build such changes and check a `ConfigError` problem, which reads
`<file>: <field path>: <problem>; <fix>`; `problems_of` checks that form on every problem it sees.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from platform_config import ConfigError, load_platform
from platform_config.problems import PROBLEM_PATTERN

ROOT = Path(__file__).resolve().parents[2]

# The `config_copy` fixture: `edit(environment, change) -> config folder`; `edit()` only returns the folder.
EditConfig = Callable[..., Path]
# A change to one parsed environment file, applied in place.
Change = Callable[[dict[str, Any]], None]
Key = str | int


def _parent(data: dict[str, Any], path: tuple[Key, ...]) -> Any:
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    return node


def set_value(*path: Key, value: object) -> Change:
    """Set (or add) a copy of value at `path`, e.g. `set_value("studio", "domains", 0, "name", value="x")`."""

    def change(data: dict[str, Any]) -> None:
        _parent(data, path)[path[-1]] = copy.deepcopy(value)

    return change


def delete(*path: Key) -> Change:
    """Remove the key (or list item) at `path`."""

    def change(data: dict[str, Any]) -> None:
        del _parent(data, path)[path[-1]]

    return change


def append(*path: Key, value: object) -> Change:
    """Append a copy of `value` to the list at `path`."""

    def change(data: dict[str, Any]) -> None:
        _parent(data, path)[path[-1]].append(copy.deepcopy(value))

    return change


def copy_item(*path: Key) -> Change:
    """Append a copy of the list item at `path` to its own list (a duplicate)."""

    def change(data: dict[str, Any]) -> None:
        items = _parent(data, path)
        items.append(copy.deepcopy(items[path[-1]]))

    return change


def combine(*changes: Change) -> Change:
    def change(data: dict[str, Any]) -> None:
        for one in changes:
            one(data)

    return change


def problems_of(config_dir: Path) -> tuple[str, ...]:
    """The problems `load_platform` reports for config_dir (it must raise)."""
    with pytest.raises(ConfigError) as raised:
        load_platform(config_dir)
    problems = raised.value.problems
    assert isinstance(problems, tuple)
    assert problems, "a ConfigError must carry at least one problem"
    # The message people read lists every problem and their count.
    assert f"invalid platform configuration ({len(problems)} problem(s))" in str(raised.value)
    for problem in problems:
        assert f"  - {problem}" in str(raised.value)
        assert_problem_form(problem)
    return problems


def assert_problem_form(problem: str) -> None:
    """Every problem reads `<file>: <field path>: <problem>; <fix>` (a problem with the file itself has no
    field path), the problem one clause and the fix a piece of advice."""
    match = PROBLEM_PATTERN.fullmatch(problem)
    assert match is not None, f"not in the form '<file>: <field path>: <problem>; <fix>': {problem}"
    assert len(match["fix"].split()) >= 2, f"the fix is not advice: {problem}"


def only_problem(config_dir: Path) -> str:
    """The single problem reported for config_dir."""
    problems = problems_of(config_dir)
    assert len(problems) == 1, "\n".join(problems)
    return problems[0]


def file_of(problem: str) -> Path:
    """The file a problem names (its text up to the first ': '), resolved like the loader's label."""
    label, separator, _ = problem.partition(": ")
    assert separator, problem
    return Path(label).resolve()


def check_problem(problem: str, config_dir: Path, file: str, field_path: str, *words: str) -> None:
    """`problem` names `file` in config_dir, then `field_path`, and contains every one of `words`."""
    assert file_of(problem) == (config_dir / file).resolve(), problem
    _, _, rest = problem.partition(": ")
    assert rest.startswith(f"{field_path}: "), f"expected field path {field_path!r} in: {problem}"
    for word in words:
        assert word in rest, f"expected {word!r} in: {problem}"


def count_matching(problems: tuple[str, ...], *words: str) -> int:
    """How many problems contain every one of `words`."""
    return sum(all(word in problem for word in words) for problem in problems)


def replace_text(config_dir: Path, file: str, old: str, new: str) -> None:
    """Edit a file of a config copy as text (for what a YAML round trip cannot express)."""
    path = config_dir / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
