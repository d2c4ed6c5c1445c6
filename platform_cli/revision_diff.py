"""Synthesize a base revision and the working tree offline, then compare them (`make diff BASE=origin/main`).

    python -m platform_cli.revision_diff [--base REV] [--markdown FILE] [--acknowledge-data-loss REASON]

The base revision is checked out in a temporary git worktree; both sides are synthesized with this
checkout's CDK CLI and Python environment (a base whose requirements differ is synthesized with today's
packages). No AWS call is made: synth is offline. The report and exit codes are those of diff_command
(3 unacknowledged data loss, 4 a name collision that no acknowledgement accepts).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pipeline_defs import render_cache
from platform_cli import diff_command
from synth_checks import assembly_cache, template_validation

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_ENVIRONMENT = {
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def cdk_environment(*, tools: Path = ROOT) -> dict[str, str]:
    """This process's environment, offline, with the pinned Node LTS (package.json's `node`) first on PATH.

    The Makefile does the same; this is for the CLI and app runs started from Python. A checkout synthesized
    with the tools of another (a revision's temporary worktree) uses that one's content-keyed caches, unless
    the environment names others: they are keyed by content, so it hits only what it would produce itself.
    """
    node_bin = tools / "node_modules" / ".bin"
    shared_caches = {
        module.DIR_VARIABLE: str(tools / module.DEFAULT_DIR.relative_to(ROOT))
        for module in (assembly_cache, render_cache, template_validation)
    }
    return {
        **shared_caches,
        **os.environ,
        **OFFLINE_ENVIRONMENT,
        "PATH": f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }


class SynthError(Exception):
    """A revision could not be checked out or synthesized."""


def synthesize(checkout: Path, outdir: Path, *, tools: Path = ROOT) -> None:
    """`cdk synth '**'` of one checkout into outdir, with the CLI and interpreter installed under tools."""
    python = tools / ".venv" / "bin" / "python"
    cdk = tools / "node_modules" / ".bin" / "cdk"
    result = subprocess.run(
        [str(cdk), "synth", "**", "--quiet", "-o", str(outdir), "--app", f"{python} app.py"],
        cwd=checkout,
        env=cdk_environment(tools=tools),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SynthError(f"synthesizing {checkout} failed:\n{result.stderr[-4000:]}")


def _git(repository: Path, *arguments: str) -> str:
    result = subprocess.run(["git", *arguments], cwd=repository, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SynthError(f"git {' '.join(arguments)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def synthesize_revisions(
    base: str,
    workdir: Path,
    *,
    repository: Path = ROOT,
    tools: Path = ROOT,
    head_assembly: Path | None = None,
) -> tuple[Path, Path]:
    """The base revision's and the working tree's (of repository) cloud assemblies, under workdir.

    `head_assembly`: the working tree's assembly already synthesized (CI's `make synth` output), used
    instead of a second synth of the same tree.
    """
    if head_assembly is not None and not (head_assembly / "manifest.json").is_file():
        raise SynthError(
            f"--head-assembly {head_assembly}: no cloud assembly there (no manifest.json); run make synth "
            "first, or leave HEAD_ASSEMBLY out to synthesize the working tree"
        )
    revision = _git(repository, "rev-parse", "--verify", f"{base}^{{commit}}")
    worktree = workdir / "base-checkout"
    _git(repository, "worktree", "add", "--detach", str(worktree), revision)
    try:
        synthesize(worktree, workdir / "base.out", tools=tools)
    finally:
        _git(repository, "worktree", "remove", "--force", str(worktree))
    if head_assembly is not None:
        return workdir / "base.out", head_assembly
    synthesize(repository, workdir / "head.out", tools=tools)
    return workdir / "base.out", workdir / "head.out"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_cli.revision_diff",
        description="Synthesize a base revision and the working tree offline and compare them.",
    )
    parser.add_argument(
        "--base", default="origin/main", help="the revision to compare with (default origin/main)"
    )
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown to this file")
    parser.add_argument(
        "--acknowledge-data-loss", metavar="REASON", help="accept data loss, with why (not a name collision)"
    )
    parser.add_argument(
        "--head-assembly",
        type=Path,
        metavar="DIR",
        help="the working tree's cloud assembly, already synthesized (e.g. cdk.out after make synth)",
    )
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="platform-diff-") as directory:
        try:
            base_out, head_out = synthesize_revisions(
                arguments.base, Path(directory), head_assembly=arguments.head_assembly
            )
        except SynthError as error:
            print(f"diff: {error}", file=sys.stderr)
            return diff_command.EXIT_USAGE
        forwarded = [str(base_out), str(head_out)]
        if arguments.markdown is not None:
            forwarded += ["--markdown", str(arguments.markdown)]
        if arguments.acknowledge_data_loss is not None:
            forwarded += ["--acknowledge-data-loss", arguments.acknowledge_data_loss]
        return diff_command.main(forwarded)


if __name__ == "__main__":
    sys.exit(main())
