"""One Node major everywhere: the pinned `node` package, package.json's engines, CI's setup-node and the
README agree, and nothing silences jsii's end-of-life banner any more (the Node we run is supported)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _package() -> dict[str, Any]:
    package: dict[str, Any] = json.loads((ROOT / "package.json").read_text())
    return package


def _pinned_node_major() -> int:
    version = _package()["devDependencies"]["node"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), (
        f"package.json: devDependencies.node {version!r} is not exact"
    )
    return int(version.split(".")[0])


def _setup_node_versions() -> list[str]:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    return [
        str(step["with"]["node-version"])
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("actions/setup-node@")
    ]


def test_the_pinned_node_is_an_even_lts_major_and_locked() -> None:
    major = _pinned_node_major()
    assert major >= 24 and major % 2 == 0, f"package.json: node {major} is not an LTS line"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/node"]["version"] == _package()["devDependencies"]["node"]


def test_engines_ci_and_readme_name_the_pinned_major() -> None:
    major = _pinned_node_major()
    assert _package()["engines"]["node"] == f">={major}"
    assert _setup_node_versions() == [str(major)], (
        ".github/workflows/ci.yml: setup-node must use the same major"
    )
    prerequisites = (ROOT / "README.md").read_text().split("## Prerequisites", 1)[1].split("\n## ", 1)[0]
    assert sorted(set(re.findall(r"Node (\d+)", prerequisites))) == [str(major)]


def test_make_runs_the_cli_and_jsii_on_the_pinned_node() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "export PATH := $(CURDIR)/node_modules/.bin:$(PATH)" in makefile
    for path in ("Makefile", "platform_cli/revision_diff.py", ".github/workflows/ci.yml"):
        assert "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in (ROOT / path).read_text(), path
