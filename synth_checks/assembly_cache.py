"""The whole cloud assembly kept between synths, keyed by the content of everything the app reads.

`cdk diff` then `cdk deploy`, `make synth` then `make test`, a revision diff of a commit already seen: each
runs app.py on inputs that did not change. On a hit the app copies the assembly it wrote last time instead
of building a construct tree through jsii (most of a synth). The key covers:
- every file of the checkout but those the app never reads (`SKIPPED_DIRS`, any `cdk.out*` folder, the top
  level's Markdown files and LICENSE):
  app.py, config/, the Python packages, the function and container sources the assets package, cdk.json,
  the lock files;
- the environment the CLI and the Makefile hand the app (`KEYED_PREFIXES`: the CLI's context, the selected
  environments, CDK_VALIDATION, ...; of AWS_*, the region only), the context file when the CLI passes its
  context in one;
- the installed distributions (the names in site-packages carry their versions), node_modules' lock and
  Python's version.
A miss synthesizes into a new entry first, so a hit and a miss leave the same bytes in the output folder;
a failed synth stores nothing. Asset files (`asset.*`, content-addressed by CDK, up to tens of MB) are kept
once and hard-linked into output folders, where CDK never writes into an existing asset; everything else is
copied, so writing into an output folder cannot change an entry.

PLATFORM_ASSEMBLY_CACHE_DIR moves the folder (default `.cache/assembly` in the checkout, which `make clean`
removes); set it to an empty string to build every synth.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Final

from synth_checks.content_cache import configured_dir

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_DIR: Final = ROOT / ".cache" / "assembly"
DIR_VARIABLE: Final = "PLATFORM_ASSEMBLY_CACHE_DIR"
# Bump when the layout of an entry or what the key covers changes.
FORMAT: Final = "1"
# Entries kept (the most recently used; about 2.5 MB each for the sample), with the assets they refer to.
# One `make test` synthesizes about 30 distinct apps (revision diffs, first-deploy phases, fixtures): fewer
# entries than that and each run evicts what the next one needs.
KEEP: Final = 64

# Folders of a checkout the app never reads: tools' state, generated output, the tests and the docs.
SKIPPED_DIRS: Final = frozenset(
    {
        ".git",
        ".venv",
        "node_modules",
        ".cache",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".pipeline-runs",
        "k8s-manifests",
        "bootstrap-policy",
        "tests",
        "docs",
        "bench",
        ".github",
        ".ci",
    }
)
# Files at the checkout's top the app never reads (a README elsewhere may be packaged in an asset: keyed).
SKIPPED_TOP_FILES: Final = ("LICENSE", ".md")
KEYED_PREFIXES: Final = ("CDK_", "JSII_", "PLATFORM_", "SAGEMAKER_", "NODE_", "PYTHON")
# Of AWS_*, the region only: credentials, profiles and config files change no byte of an offline synth
# (the account and region the CLI derives from them come in CDK_DEFAULT_*); tests point them at temp files.
KEYED_VARIABLES: Final = frozenset({"AWS_REGION", "AWS_DEFAULT_REGION"})
# Set by the CLI per run, or where a cache lives: none changes what the app writes.
UNKEYED_VARIABLES: Final = frozenset({"CDK_OUTDIR", "CDK_ERROR_FILE", "CDK_PERF_COUNTERS_FILE"})
# The CLI passes a large context in a file and names it here; its content is keyed, not its path.
CONTEXT_FILE_VARIABLE: Final = "CONTEXT_OVERFLOW_LOCATION_ENV"
# Written by the CLI or by aws-cdk-lib per run; never part of an entry.
UNSTORED_FILES: Final = frozenset({"performance-counters.json", "error.txt"})
ASSET_PREFIX: Final = "asset."
# In an entry: the names of the stored assets it refers to.
ASSETS_LIST: Final = ".assets"
# A half-built entry older than this was left by a synth that died.
ABANDONED_SECONDS: Final = 3600


def cache_dir() -> Path | None:
    """Where entries live; None when the cache is off (the variable set to an empty string)."""
    return configured_dir(DIR_VARIABLE, DEFAULT_DIR)


def _input_files(root: Path, outdir: Path) -> Iterator[Path]:
    outdir = outdir.resolve()
    for directory, subdirs, files in os.walk(root):
        current = Path(directory)
        subdirs[:] = sorted(
            name
            for name in subdirs
            if name not in SKIPPED_DIRS
            and not name.startswith("cdk.out")
            and not name.endswith(".egg-info")
            and (current / name).resolve() != outdir
        )
        for name in sorted(files):
            # `.git` is a file in a git worktree: it names the worktree's folder, not content.
            if name == ".git" or name.endswith((".pyc", ".lock")):
                continue
            if current == root and name.endswith(SKIPPED_TOP_FILES):
                continue
            yield current / name


def key(root: Path, outdir: Path, environ: Mapping[str, str], extra: str = "") -> str:
    """The digest of everything the app at `root` reads when it synthesizes into `outdir`; `extra` is what
    a caller builds from besides the checkout (an in-memory configuration, the context it passes)."""
    digest = hashlib.sha256(f"{FORMAT}\0{platform.python_version()}\0{extra}\0".encode())
    for path in _input_files(root, outdir):
        digest.update(b"\0file\0" + path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    for name in sorted(environ):
        if name in KEYED_VARIABLES or (
            name.startswith(KEYED_PREFIXES)
            and name not in UNKEYED_VARIABLES
            and not name.endswith("_CACHE_DIR")
        ):
            digest.update(f"\0env\0{name}={environ[name]}".encode())
    if context_file := environ.get(CONTEXT_FILE_VARIABLE):
        digest.update(b"\0context\0" + Path(context_file).read_bytes())
    site_packages = Path(sysconfig.get_paths()["purelib"])
    installed = sorted(item.name for item in site_packages.iterdir())
    digest.update(("\0installed\0" + "\0".join(installed)).encode())
    with contextlib.suppress(FileNotFoundError):
        digest.update(b"\0node_modules\0" + (root / "node_modules" / ".package-lock.json").read_bytes())
    return digest.hexdigest()


def synthesize(
    root: Path,
    outdir: Path,
    build: Callable[[Path], None],
    *,
    environ: Mapping[str, str] = os.environ,
    directory: Path | None = None,
    extra: str = "",
) -> bool:
    """Leave the assembly of the app at `root` in `outdir`: restored from an entry when one matches, else
    `build(folder)` synthesizes into a new entry first. Returns whether it was a hit. An exception from
    `build` (a configuration error, a failed check) propagates and stores nothing."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        build(outdir)
        return False
    entry = directory / "entries" / key(root, outdir, environ, extra)
    with contextlib.suppress(FileNotFoundError):
        _restore(entry, directory / "assets", outdir)
        os.utime(entry)
        return True
    _store(entry, directory, build)
    _restore(entry, directory / "assets", outdir)
    _prune(directory)
    return False


def _store(entry: Path, directory: Path, build: Callable[[Path], None]) -> None:
    (directory / "entries").mkdir(parents=True, exist_ok=True)
    assets = directory / "assets"
    assets.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory / "entries", prefix=".building-"))
    try:
        build(staging)
        for name in UNSTORED_FILES:
            (staging / name).unlink(missing_ok=True)
        # Each asset once in the store; the entry lists the names it refers to.
        referenced = sorted(item.name for item in staging.iterdir() if item.name.startswith(ASSET_PREFIX))
        for name in referenced:
            with contextlib.suppress(OSError):  # another synth stored the same content first
                (staging / name).rename(assets / name)
            if (staging / name).exists():
                _remove(staging / name)
        (staging / ASSETS_LIST).write_text("".join(f"{name}\n" for name in referenced), encoding="utf-8")
        with contextlib.suppress(OSError):  # the same entry stored by a parallel synth: keep that one
            staging.rename(entry)
    finally:
        if staging.exists():
            _remove(staging)


def _restore(entry: Path, assets: Path, outdir: Path) -> None:
    """Raises FileNotFoundError when the entry, or an asset it refers to, is missing (pruned meanwhile)."""
    names = (entry / ASSETS_LIST).read_text(encoding="utf-8").split()
    missing = [name for name in names if not (assets / name).exists()]
    if missing:
        raise FileNotFoundError(assets / missing[0])
    outdir.mkdir(parents=True, exist_ok=True)
    for source in entry.rglob("*"):
        relative = source.relative_to(entry)
        if relative.as_posix() == ASSETS_LIST:
            continue
        target = outdir / relative
        if source.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.unlink(missing_ok=True)  # never write through a link another synth left
            shutil.copyfile(source, target)
    for name in names:
        target = outdir / name
        if not target.exists():
            _link_tree(assets / name, target)


def _link_tree(source: Path, target: Path) -> None:
    """Hard links to the stored asset (copies across file systems); CDK never writes into an existing one."""
    if source.is_dir():
        target.mkdir()
        for child in source.iterdir():
            _link_tree(child, target / child.name)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _prune(directory: Path) -> None:
    """Keep the KEEP most recently used entries and the assets they refer to."""
    entries = sorted(
        (item for item in (directory / "entries").iterdir() if not item.name.startswith(".")),
        key=lambda item: item.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[KEEP:]:
        _remove(stale)
    for abandoned in (directory / "entries").glob(".building-*"):
        if abandoned.stat().st_mtime < time.time() - ABANDONED_SECONDS:
            _remove(abandoned)
    kept: set[str] = set()
    for entry in entries[:KEEP]:
        with contextlib.suppress(FileNotFoundError):
            kept.update((entry / ASSETS_LIST).read_text(encoding="utf-8").split())
    cutoff = time.time() - 60  # an asset stored this minute may belong to an entry still being renamed
    for asset in (directory / "assets").iterdir():
        if asset.name not in kept and asset.stat().st_mtime < cutoff:
            _remove(asset)
