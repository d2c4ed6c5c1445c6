"""app.py's assembly cache: a synth whose inputs did not change leaves the same bytes as the build would, a
change to any input builds again, a failed build stores nothing, and output folders cannot change an entry.

The build here is a stand-in that writes an assembly-shaped folder from the checkout's files (a template, a
manifest, a file asset and a folder asset), so every case runs in milliseconds; the CLI synth of the real
app through the cache is checked in tests/your_config (byte-identical templates on a miss and a hit)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from synth_checks import assembly_cache

Build = Callable[[Path], None]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    for relative, text in {
        "app.py": "print('app')\n",
        "cdk.json": '{"app": "python app.py"}\n',
        "config/dev.yaml": "name: dev\n",
        "stacks/data_stack.py": "BUCKETS = 1\n",
        "functions/guard/handler.py": "def handler(event, context): ...\n",
        "tests/test_app.py": "def test(): ...\n",
        "docs/configuration.md": "# Configuration\n",
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


@pytest.fixture
def builds(checkout: Path) -> tuple[list[Path], Build]:
    """A build writing what a synth writes, derived from the configuration and the function's code."""
    calls: list[Path] = []

    def build(outdir: Path) -> None:
        calls.append(outdir)
        config = (checkout / "config" / "dev.yaml").read_text()
        code = (checkout / "functions" / "guard" / "handler.py").read_bytes()
        asset = f"asset.{hashlib.sha256(code).hexdigest()}"
        (outdir / "assembly-dev").mkdir(parents=True)
        (outdir / "assembly-dev" / "Data.template.json").write_text(json.dumps({"Description": config}))
        (outdir / "manifest.json").write_text(json.dumps({"asset": asset}))
        (outdir / asset).mkdir()
        (outdir / asset / "handler.py").write_bytes(code)
        (outdir / "asset.layer.zip").write_bytes(b"zip" * 1000)
        (outdir / "performance-counters.json").write_text("{}")

    return calls, build


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _synth(checkout: Path, outdir: Path, build: Build, cache: Path, **environ: str) -> bool:
    return assembly_cache.synthesize(checkout, outdir, build, environ=environ, directory=cache)


def test_a_hit_leaves_the_bytes_a_build_leaves_without_building(
    checkout: Path, builds: tuple[list[Path], Build], tmp_path: Path
) -> None:
    calls, build = builds
    cache = tmp_path / "cache"
    assert not _synth(checkout, tmp_path / "first", build, cache)
    assert _synth(checkout, tmp_path / "second", build, cache)
    assert len(calls) == 1
    built = tmp_path / "uncached"
    build(built)
    (built / "performance-counters.json").unlink()  # written per run, never kept
    assert _files(tmp_path / "first") == _files(built)
    assert _files(tmp_path / "second") == _files(built)


@pytest.mark.parametrize(
    "edit",
    [
        "config/dev.yaml",
        "stacks/data_stack.py",
        "functions/guard/handler.py",
        "functions/guard/README.md",
        "app.py",
        "cdk.json",
        "config/new.yaml",
    ],
)
def test_a_change_to_any_input_builds_again(
    checkout: Path, builds: tuple[list[Path], Build], tmp_path: Path, edit: str
) -> None:
    calls, build = builds
    cache = tmp_path / "cache"
    _synth(checkout, tmp_path / "out", build, cache)
    (checkout / edit).write_text("changed\n")
    assert not _synth(checkout, tmp_path / "out", build, cache)
    assert len(calls) == 2
    if edit == "config/dev.yaml":
        template = json.loads((tmp_path / "out" / "assembly-dev" / "Data.template.json").read_text())
        assert template == {"Description": "changed\n"}


@pytest.mark.parametrize(
    ("variable", "first", "second"),
    [
        (
            "CDK_CONTEXT_JSON",
            '{"aws:cdk:enable-asset-metadata": true}',
            '{"aws:cdk:enable-asset-metadata": false}',
        ),
        ("PLATFORM_ENVIRONMENTS", "dev", "dev,staging"),
        ("CDK_VALIDATION", "true", "false"),
        ("AWS_REGION", "eu-west-1", "us-east-2"),
    ],
)
def test_a_change_to_what_the_cli_hands_the_app_builds_again(
    checkout: Path,
    builds: tuple[list[Path], Build],
    tmp_path: Path,
    *,
    variable: str,
    first: str,
    second: str,
) -> None:
    calls, build = builds
    cache = tmp_path / "cache"
    _synth(checkout, tmp_path / "out", build, cache, **{variable: first})
    assert not _synth(checkout, tmp_path / "out", build, cache, **{variable: second})
    assert _synth(checkout, tmp_path / "out", build, cache, **{variable: first})
    assert len(calls) == 2


def test_the_context_file_the_cli_names_is_keyed_by_content(
    checkout: Path, builds: tuple[list[Path], Build], tmp_path: Path
) -> None:
    calls, build = builds
    cache = tmp_path / "cache"
    context = tmp_path / "context.json"
    context.write_text('{"a": 1}')
    _synth(checkout, tmp_path / "out", build, cache, **{assembly_cache.CONTEXT_FILE_VARIABLE: str(context)})
    context.write_text('{"a": 2}')
    assert not _synth(
        checkout, tmp_path / "out", build, cache, **{assembly_cache.CONTEXT_FILE_VARIABLE: str(context)}
    )
    assert len(calls) == 2


def test_what_the_app_never_reads_and_where_the_output_goes_do_not_miss(
    checkout: Path, builds: tuple[list[Path], Build], tmp_path: Path
) -> None:
    calls, build = builds
    cache = tmp_path / "cache"
    _synth(checkout, checkout / "cdk.out", build, cache, CDK_OUTDIR="cdk.out")
    (checkout / "tests" / "test_app.py").write_text("def test_more(): ...\n")
    (checkout / "docs" / "configuration.md").write_text("# Changed\n")
    (checkout / "README.md").write_text("# The platform, documented again\n")
    (checkout / "stacks" / "__pycache__").mkdir()
    (checkout / "stacks" / "__pycache__" / "data_stack.cpython-311.pyc").write_bytes(b"\0")
    assert _synth(checkout, checkout / "cdk.out.other", build, cache, CDK_OUTDIR="cdk.out.other")
    assert _synth(
        checkout, tmp_path / "elsewhere", build, cache, **{assembly_cache.DIR_VARIABLE: "/another/cache"}
    )
    # Credentials never change an offline synth; tests point these at temporary files.
    assert _synth(
        checkout,
        tmp_path / "credentials",
        build,
        cache,
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_PROFILE="someone",
    )
    # A git worktree's `.git` file names its folder.
    (checkout / ".git").write_text(f"gitdir: {tmp_path}/.git/worktrees/checkout\n")
    assert _synth(checkout, tmp_path / "worktree", build, cache)
    assert len(calls) == 1


def test_a_failed_build_stores_nothing(checkout: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    def failing(outdir: Path) -> None:
        (outdir / "manifest.json").write_text("{}")
        raise RuntimeError("a check failed")

    for _ in range(2):
        with pytest.raises(RuntimeError, match="a check failed"):
            _synth(checkout, tmp_path / "out", failing, cache)
    assert list((cache / "entries").iterdir()) == []


def test_writing_into_an_output_folder_cannot_change_the_entry(
    checkout: Path, builds: tuple[list[Path], Build], tmp_path: Path
) -> None:
    """Templates are copies; assets are links, and CDK never writes into an asset that exists."""
    _, build = builds
    cache = tmp_path / "cache"
    _synth(checkout, tmp_path / "first", build, cache)
    expected = _files(tmp_path / "first")
    (tmp_path / "first" / "manifest.json").write_text("overwritten by a later synth")
    assert _synth(checkout, tmp_path / "second", build, cache)
    assert _files(tmp_path / "second") == expected
    layer = tmp_path / "second" / "asset.layer.zip"
    assert layer.stat().st_nlink > 1, "a large asset is linked, not copied"


def test_an_entry_whose_asset_was_pruned_builds_again(
    checkout: Path, builds: tuple[list[Path], Build], tmp_path: Path
) -> None:
    calls, build = builds
    cache = tmp_path / "cache"
    _synth(checkout, tmp_path / "out", build, cache)
    (cache / "assets" / "asset.layer.zip").unlink()
    assert not _synth(checkout, tmp_path / "again", build, cache)
    assert len(calls) == 2
    assert (tmp_path / "again" / "asset.layer.zip").read_bytes() == b"zip" * 1000


def test_only_the_most_recently_used_entries_and_their_assets_are_kept(
    checkout: Path, builds: tuple[list[Path], Build], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, build = builds
    cache = tmp_path / "cache"
    monkeypatch.setattr(assembly_cache, "KEEP", 2)
    handler = checkout / "functions" / "guard" / "handler.py"
    for version in range(4):
        handler.write_text(f"VERSION = {version}\n")
        _synth(checkout, tmp_path / f"out{version}", build, cache)
        entries = sorted((cache / "entries").iterdir(), key=lambda entry: entry.stat().st_mtime)
        os.utime(entries[-1], (version * 1000 + 1, version * 1000 + 1))
    # Assets stored a minute ago or more are pruned when no kept entry refers to them.
    for asset in (cache / "assets").iterdir():
        os.utime(asset, (1, 1))
    handler.write_text("VERSION = 4\n")
    _synth(checkout, tmp_path / "out4", build, cache)
    assert len(list((cache / "entries").iterdir())) == 2
    kept = {
        name for entry in (cache / "entries").iterdir() for name in (entry / ".assets").read_text().split()
    }
    assert {asset.name for asset in (cache / "assets").iterdir()} == kept
    assert len(kept) == 3  # two function versions and the shared layer


def test_an_empty_folder_variable_turns_the_cache_off(
    checkout: Path, builds: tuple[list[Path], Build], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls, build = builds
    monkeypatch.setenv(assembly_cache.DIR_VARIABLE, "")
    for name in ("one", "two"):
        assert not assembly_cache.synthesize(checkout, tmp_path / name, build)
    assert len(calls) == 2
