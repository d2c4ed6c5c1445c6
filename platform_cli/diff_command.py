"""Compare two synthesized cloud assemblies offline and flag changes that lose data.

    python -m platform_cli.diff_command BASE_CDK_OUT HEAD_CDK_OUT [--markdown FILE]
        [--acknowledge-data-loss REASON]

Prints, per environment and stack, the resources added, removed, modified and replaced (judged from the
CloudFormation schemas' create-only properties), and writes the same report as Markdown for a pull-request
comment when asked. Exit codes:

- 0 nothing dangerous (or data loss acknowledged with a reason);
- 2 a usage error (a missing or unreadable cdk.out);
- 3 data loss not acknowledged (a stateful resource deleted or replaced);
- 4 a deploy that will fail on a name collision: a replacement keeps the fixed name of the resource it
  replaces, or an added resource takes the fixed name of one the same stack removes. It wins over 3 when
  both occur (both are reported), and --acknowledge-data-loss does not acknowledge it: the deploy cannot
  succeed, so the change must be made another way (the report says how).

This compares two cdk.out directories that already exist; `platform_cli.revision_diff` (`make diff`)
synthesizes a base revision and the working tree first.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from platform_cli.template_diff import (
    AssemblyError,
    ChangesByStack,
    collisions,
    dangerous_changes,
    diff_assemblies,
    load_assembly,
    render_markdown,
    render_text,
)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_DANGEROUS = 3
EXIT_COLLISION = 4
PROGRAM = "python -m platform_cli.diff_command"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description=(
            "Compare two synthesized cdk.out directories and report added, removed, modified and replaced "
            "resources per environment and stack. Exits 3 when a stateful resource would be deleted or "
            "replaced, unless --acknowledge-data-loss gives a reason; exits 4 when a replacement would "
            "collide with a fixed name (the deploy fails), which no acknowledgement accepts."
        ),
    )
    parser.add_argument("base", metavar="BASE_CDK_OUT", type=Path, help="cdk.out of the base revision")
    parser.add_argument("head", metavar="HEAD_CDK_OUT", type=Path, help="cdk.out of the change")
    parser.add_argument("--markdown", metavar="FILE", type=Path, help="also write the report as Markdown")
    parser.add_argument(
        "--acknowledge-data-loss",
        metavar="REASON",
        help="accept data loss (not a name collision); the reason is printed and put in the Markdown report",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse exits 2 on bad arguments, 0 for --help
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_USAGE
    acknowledgement: str | None = args.acknowledge_data_loss
    if acknowledgement is not None and not acknowledgement.strip():
        print(f"{PROGRAM}: --acknowledge-data-loss needs a reason", file=sys.stderr)
        return EXIT_USAGE
    try:
        base = load_assembly(args.base)
        head = load_assembly(args.head)
    except AssemblyError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return EXIT_USAGE
    changes = diff_assemblies(base, head)
    found = dangerous_changes(changes)
    acknowledged = acknowledgement.strip() if acknowledgement is not None and found else None
    sys.stdout.write(render_text(changes, acknowledgement=acknowledged))
    if args.markdown is not None:
        try:
            args.markdown.write_text(render_markdown(changes, acknowledgement=acknowledged))
        except OSError as error:
            print(f"{PROGRAM}: cannot write {args.markdown}: {error}", file=sys.stderr)
            return EXIT_USAGE
    return exit_code(changes, acknowledged=acknowledged is not None)


def exit_code(changes: ChangesByStack, *, acknowledged: bool) -> int:
    """A name collision fails whatever was acknowledged; data loss fails unless acknowledged."""
    if collisions(changes):
        return EXIT_COLLISION
    if dangerous_changes(changes) and not acknowledged:
        return EXIT_DANGEROUS
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
