"""IAM action patterns as IAM reads them: case-insensitive, `*` for any run of characters, `?` for one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


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


def matches(pattern: str, action: str) -> bool:
    """Whether a statement's action pattern covers one concrete action."""
    return overlap(pattern, action)


def decision(document: Mapping[str, Any], action: str) -> str:
    """What a policy alone decides for one action on any resource, without conditions: `Deny` when a Deny
    statement covers it (an explicit deny wins), `Allow` when an Allow statement does, else `ImplicitDeny`."""
    effects = {
        statement["Effect"]
        for statement in document["Statement"]
        if "Condition" not in statement
        and any(matches(pattern, action) for pattern in _listed(statement["Action"]))
    }
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else "ImplicitDeny"


def denied_overlaps(actions: Iterable[str], denied: Iterable[str]) -> list[tuple[str, str]]:
    """Each (action pattern, denied pattern) pair that some action matches both of."""
    denied = list(denied)
    return [(action, deny) for action in actions for deny in denied if overlap(action, deny)]
