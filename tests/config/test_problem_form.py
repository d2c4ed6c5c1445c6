"""The example problems the README and the configuration reference show are in the form the loader writes.

The corpus in this folder checks the form on every problem it provokes (`problems_of`); this keeps the
documented examples from drifting back to an older form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from platform_config.problems import PROBLEM_PATTERN, join_path, key_path, render
from tests.config.conftest import assert_problem_form

ROOT = Path(__file__).resolve().parents[2]
# A documented problem line: the ConfigError's "  - " items inside a fenced block.
EXAMPLE_LINE = re.compile(r"^  - (?P<problem>\S.*)$", re.MULTILINE)


def _examples(document: Path) -> list[str]:
    text = document.read_text()
    blocks = re.findall(r"```text\ninvalid platform configuration .*?```", text, re.DOTALL)
    return [match["problem"] for block in blocks for match in EXAMPLE_LINE.finditer(block)]


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md"])
def test_documented_problems_have_the_loaders_form(document: str) -> None:
    examples = _examples(ROOT / document)
    assert examples, f"{document} shows no configuration problem"
    for problem in examples:
        assert_problem_form(problem.replace(", ..., ", ", "))


@pytest.mark.parametrize(
    ("problem", "valid"),
    [
        ("config/dev.yaml: studio.domains[0].users[1].name: 'x_y' is not a name; use letters", True),
        ("config/dev.yaml: tags['team:owner']: too long; shorten it", True),
        ("config/dev.yaml: line 3, column 7: not valid YAML (tab); use spaces", True),
        ("config/dev.yaml: the file is empty; copy another environment's file", True),
        ("config/dev.yaml: region: unknown region 'x'", False),  # no fix
        ("config/dev.yaml region: unknown; fix it", False),  # no file
        ("config/dev.yaml: studio.domains[0]: users[1] 'bob' is wrong: no fix here", False),
    ],
)
def test_the_form_is_strict(problem: str, valid: bool) -> None:
    assert (PROBLEM_PATTERN.fullmatch(problem) is not None) == valid


def test_field_paths_are_written_as_people_read_them() -> None:
    path = ""
    for key in ("studio", "domains", 0, "users", 1, "name"):
        path = join_path(path, key_path(key))
    assert path == "studio.domains[0].users[1].name"
    assert join_path("tags", key_path("team:owner")) == "tags['team:owner']"
    assert (
        render("config/dev.yaml", "", "the file is empty", "copy one")
        == "config/dev.yaml: the file is empty; copy one"
    )
