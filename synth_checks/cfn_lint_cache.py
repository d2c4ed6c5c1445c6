"""cfn-lint on synthesized templates (`make cfn-lint`); a template that linted clean is remembered by content.

cfn-lint checks each template on its own, so its verdict on a template is a function of the template's bytes,
cfn-lint's version and its configuration files (`.cfnlintrc` here and in the home folder). A template whose
key is recorded as clean is not linted again; the others are linted by cfn-lint's own command line, split
over one process per core. Only clean verdicts are kept: a finding is printed, and fails, on every run.

PLATFORM_CFN_LINT_CACHE_DIR moves the folder (default `.cache/cfn-lint` in the checkout, which `make clean`
removes); an empty string lints every template every time.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.metadata
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

from synth_checks.content_cache import configured_dir

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_DIR: Final = ROOT / ".cache" / "cfn-lint"
DIR_VARIABLE: Final = "PLATFORM_CFN_LINT_CACHE_DIR"
DEFAULT_PATTERN: Final = "cdk.out/**/*.template.json"
# cfn-lint's console script (the package has no __main__), run by this interpreter.
RUN_CFN_LINT: Final = (
    "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
)
# Bump when the meaning of an entry changes.
FORMAT: Final = "1"


def cache_dir() -> Path | None:
    return configured_dir(DIR_VARIABLE, DEFAULT_DIR)


def settings_fingerprint(cwd: Path) -> str:
    """cfn-lint's version and every configuration file it reads by default."""
    digest = hashlib.sha256(f"{FORMAT}\0{importlib.metadata.version('cfn-lint')}\0".encode())
    for config in (cwd / ".cfnlintrc", cwd / ".cfnlintrc.yaml", Path.home() / ".cfnlintrc"):
        digest.update(f"\0{config.name}\0".encode())
        if config.is_file():
            digest.update(config.read_bytes())
    return digest.hexdigest()


def template_key(settings: str, template: Path) -> str:
    return hashlib.sha256(settings.encode() + b"\0" + template.read_bytes()).hexdigest()


def chunks(paths: list[Path], count: int) -> list[list[Path]]:
    """`paths` dealt round-robin into at most `count` non-empty lists."""
    return [part for part in (paths[index::count] for index in range(count)) if part]


def lint(paths: list[Path], workers: int) -> list[tuple[list[Path], subprocess.CompletedProcess[str]]]:
    """cfn-lint's command line on each chunk of `paths`, the chunks in parallel."""

    def run(part: list[Path]) -> tuple[list[Path], subprocess.CompletedProcess[str]]:
        command = [sys.executable, "-c", RUN_CFN_LINT, *(str(path) for path in part)]
        return part, subprocess.run(command, capture_output=True, text=True, check=False)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, chunks(paths, workers)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("patterns", nargs="*", default=[DEFAULT_PATTERN], help="template globs (** recurses)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="cfn-lint processes")
    args = parser.parse_args(argv)
    # glob.glob, not Path.glob: the patterns are the command line's, relative or absolute.
    matches = {path for pattern in args.patterns for path in glob.glob(pattern, recursive=True)}  # noqa: PTH207
    templates = sorted(Path(path) for path in matches)
    if not templates:
        print(f"cfn-lint: no template matches {' '.join(args.patterns)}", file=sys.stderr)
        return 1
    directory = cache_dir()
    settings = settings_fingerprint(Path.cwd())
    keys = {template: template_key(settings, template) for template in templates}
    misses = [t for t in templates if directory is None or not (directory / keys[t]).is_file()]
    status = 0
    for part, result in lint(misses, max(1, args.workers)) if misses else []:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        # cfn-lint's exit status is a bit mask of the levels it found (2 error, 4 warning, 8 info).
        status |= result.returncode
        if result.returncode == 0 and directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            for template in part:
                (directory / keys[template]).touch()
    print(
        f"cfn-lint: {len(templates)} templates, {len(templates) - len(misses)} unchanged since a clean lint, "
        f"{len(misses)} linted{'' if status == 0 else f' (exit status {status})'}"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
