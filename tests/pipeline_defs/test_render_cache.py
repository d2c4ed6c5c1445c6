"""The on-disk render cache synth reads: the same bytes as a fresh render, and a miss on any changed input
(arguments, the notebook's content, a file of pipeline_defs/)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_defs import DEFINITIONS, render, render_cache, render_cached
from pipeline_defs.definitions import clear_render_cache
from pipeline_defs.notebook_job import NotebookJobSpec
from pipeline_defs.notebook_job import render as render_notebook
from pipeline_defs.notebook_job import render_cached as render_notebook_cached
from tests.pipeline_defs.support import ROOT, full_context, plain_context


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "render-cache"
    monkeypatch.setenv(render_cache.DIR_VARIABLE, str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_a_cached_render_is_byte_identical_to_a_fresh_one(cache: Path, name: str) -> None:
    context = full_context(name)
    stored = render_cached(name, context, pipeline_name="cache-test")
    assert len(_entries(cache)) == 1
    clear_render_cache()
    assert render(name, context, pipeline_name="cache-test") == stored
    # The entry is what a hit returns, byte for byte.
    assert _entries(cache)[0].read_text(encoding="utf-8") == stored
    assert render_cached(name, context, pipeline_name="cache-test") == stored


def test_a_hit_reads_the_entry_and_does_not_render(cache: Path) -> None:
    context = full_context("model_build")
    render_cached("model_build", context)
    (entry,) = _entries(cache)
    entry.write_text("from the cache", encoding="utf-8")
    assert render_cached("model_build", context) == "from the cache"


def test_a_changed_argument_misses(cache: Path) -> None:
    context = full_context("model_build")
    first = render_cached("model_build", context)
    other_region = dataclasses.replace(context, region="eu-central-1")
    second = render_cached("model_build", other_region)
    renamed = render_cached("model_build", context, pipeline_name="another-name")
    uncached = render_cached("model_build", plain_context("model_build"))
    assert len(_entries(cache)) == 4
    assert len({first, second, renamed, uncached}) == 4
    assert "eu-central-1" in second and "eu-central-1" not in first


def test_a_changed_file_of_pipeline_defs_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "pipeline_defs"
    shutil.copytree(render_cache.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(render_cache, "PACKAGE_DIR", copy)
    render_cache.code_fingerprint.cache_clear()
    try:
        before = render_cache.entry_key("arguments")
        step = copy / "steps" / "preprocess.py"
        step.write_text(step.read_text() + "\n# changed\n")
        render_cache.code_fingerprint.cache_clear()
        assert render_cache.entry_key("arguments") != before
    finally:
        render_cache.code_fingerprint.cache_clear()


def test_a_changed_notebook_misses(cache: Path, tmp_path: Path) -> None:
    notebook = tmp_path / "report.ipynb"
    shutil.copyfile(next((ROOT / "notebooks" / "churn-report").glob("*.ipynb")), notebook)
    context = full_context("batch_inference")
    spec = NotebookJobSpec(
        notebook=notebook,
        staged_notebook_uri="s3://__CODE_BUCKET__/0123.ipynb",
        image_uri="123456789012.dkr.ecr.eu-west-1.amazonaws.com/notebooks:1",
    )
    stored = render_notebook_cached(context=context, name="report", spec=spec)
    assert stored == render_notebook(context=context, name="report", spec=spec)
    notebook.write_text(notebook.read_text().replace('"cells"', '"cells" ', 1))
    render_notebook_cached(context=context, name="report", spec=spec)
    assert len(_entries(cache)) == 2


def test_an_empty_folder_setting_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(render_cache.DIR_VARIABLE, "")
    assert render_cache.cache_dir() is None
    calls: list[str] = []

    def render() -> str:
        calls.append("rendered")
        return "body"

    assert render_cache.cached("arguments", render) == "body"
    assert render_cache.cached("arguments", render) == "body"
    assert calls == ["rendered", "rendered"]


def test_synth_code_imports_no_sdk_until_a_render_misses() -> None:
    """What makes a hit cheap: the stacks import pipeline_defs without the SageMaker SDK."""
    script = (
        "import sys, stacks.platform_stage, stacks.pipelines_stack, stacks.notebook_jobs_stack\n"
        "print('sagemaker' in sys.modules)\n"
        "from pipeline_defs import _sdk\n"
        "_sdk.Pipeline\n"
        "print('sagemaker' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["False", "True"]
