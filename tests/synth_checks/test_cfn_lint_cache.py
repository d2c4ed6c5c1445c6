"""`make cfn-lint`: a template that linted clean is not linted again until its bytes change; a finding is
reported, and fails, on every run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth_checks import cfn_lint_cache

CLEAN = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
# E3002: a property the resource type does not have.
BROKEN = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"NotAProperty": 1}}}}


@pytest.fixture
def linted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """The template names each cfn-lint process was given; the cache in tmp_path."""
    monkeypatch.setenv(cfn_lint_cache.DIR_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    runs: list[list[str]] = []
    lint = cfn_lint_cache.lint

    def counted(paths: list[Path], workers: int) -> list[tuple[list[Path], object]]:
        results = lint(paths, workers)
        runs.extend(sorted(path.name for path in part) for part, _ in results)
        return results  # type: ignore[return-value]

    monkeypatch.setattr(cfn_lint_cache, "lint", counted)
    return runs


def _write(folder: Path, name: str, template: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(template))


def test_a_clean_template_is_linted_once_until_it_changes(tmp_path: Path, linted: list[list[str]]) -> None:
    _write(tmp_path / "out" / "assembly-a", "A.template.json", CLEAN)
    _write(tmp_path / "out" / "assembly-b", "B.template.json", {**CLEAN, "Description": "b"})
    pattern = ["out/**/*.template.json", "--workers", "2"]
    assert cfn_lint_cache.main(pattern) == 0
    assert sorted(linted) == [["A.template.json"], ["B.template.json"]]
    assert cfn_lint_cache.main(pattern) == 0
    assert len(linted) == 2
    _write(tmp_path / "out" / "assembly-b", "B.template.json", {**CLEAN, "Description": "changed"})
    assert cfn_lint_cache.main(pattern) == 0
    assert linted[2:] == [["B.template.json"]]


def test_a_finding_fails_every_run(
    tmp_path: Path, linted: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "out", "Broken.template.json", BROKEN)
    for _ in range(2):
        assert cfn_lint_cache.main(["out/*.template.json"]) != 0
        assert "E3002" in capsys.readouterr().out
    assert linted == [["Broken.template.json"], ["Broken.template.json"]]


def test_no_template_is_an_error(tmp_path: Path, linted: list[list[str]]) -> None:
    assert cfn_lint_cache.main(["out/*.template.json"]) == 1
    assert linted == []
