"""IAM action patterns as IAM reads them: case-insensitive, `*` for any run of characters, `?` for one.

Whether two patterns can match one action is a question about statements, not requests: the boundary
tests use it to show that no role's Allow reaches an action its boundary denies. Requests themselves are
decided by the evaluator (tests/iam/evaluator.py)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache


@cache
def overlap(first: str, second: str) -> bool:
    """Whether some action matches both patterns: `s3:DeleteObject*` and `s3:Delete*` do, `s3:DeleteObject*`
    and `s3:DeleteBucket` do not. A concrete action overlaps a pattern exactly when the pattern matches
    it."""
    a, b = first.lower(), second.lower()
    if not a or not b:
        return a.strip("*") == "" and b.strip("*") == ""
    if a[0] == "*":
        return overlap(a[1:], b) or overlap(a, b[1:])
    if b[0] == "*":
        return overlap(a, b[1:]) or overlap(a[1:], b)
    if a[0] == "?" or b[0] == "?" or a[0] == b[0]:
        return overlap(a[1:], b[1:])
    return False


def denied_overlaps(actions: Iterable[str], denied: Iterable[str]) -> list[tuple[str, str]]:
    """Each (action pattern, denied pattern) pair that some action matches both of."""
    denied = list(denied)
    return [(action, deny) for action in actions for deny in denied if overlap(action, deny)]
