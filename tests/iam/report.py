"""`make iam-report`: the IAM matrix figures for a configuration folder (default `config/`) and for the
configuration the tests generate; exits 1 on any unexpected verdict.

    python -m tests.iam.report [--config DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

from platform_config import ConfigError, load_platform
from stacks.platform_stage import build_app, read_cdk_context
from tests.iam import generated_config
from tests.iam.conftest import Evaluation, evaluate
from tests.iam.matrix import kind_of

ROOT = Path(__file__).resolve().parents[2]


def _evaluate(name: str, config_dir: Path, workdir: Path) -> Evaluation:
    platform = load_platform(config_dir)
    app, _ = build_app(platform, context=read_cdk_context(ROOT / "cdk.json"), outdir=str(workdir / name))
    existing = {generated_config.EXISTING_BOUNDARY_ARN: generated_config.EXISTING_BOUNDARY}
    return evaluate(name, platform, app.synth(), existing)


def _print(evaluation: Evaluation, verbose: bool) -> None:
    verdicts = evaluation.verdicts
    allowed = sum(verdict.allowed for verdict in verdicts)
    kinds = Counter(kind_of(verdict.request.group) for verdict in verdicts)
    print(
        f"{evaluation.name}: {len(verdicts)} requests, {allowed} allowed, {len(verdicts) - allowed} denied, "
        f"{len(evaluation.unexpected)} unexpected; {len(evaluation.accounts.roles)} roles, "
        f"{len(evaluation.platform.environments)} environments; evaluated in {evaluation.seconds:.1f} s"
    )
    print("  requests by kind: " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
    for verdict in evaluation.unexpected if not verbose else verdicts:
        print(f"  {'UNEXPECTED ' if not verdict.expected else ''}{verdict.explain()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config", help="configuration folder")
    parser.add_argument("--verbose", action="store_true", help="print every request and its verdict")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        try:
            evaluations = [
                _evaluate("configured", args.config, work),
                _evaluate("generated", generated_config.write(work / "generated-config"), work),
            ]
        except ConfigError as error:
            print(error, file=sys.stderr)
            return 2
        for evaluation in evaluations:
            _print(evaluation, args.verbose)
    return 1 if any(evaluation.unexpected for evaluation in evaluations) else 0


if __name__ == "__main__":
    sys.exit(main())
