"""Churn rates overall and per group, for the churn report notebook next to this file.

Shipped with the notebook (its folder is a content-hashed asset unpacked next to it in the notebook job),
so the notebook imports it as it does in the repository. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def churn_rate(records: Sequence[Mapping[str, str]], target_column: str, positive_label: str) -> float:
    """The share of records whose target column holds the positive label, to four places."""
    return round(sum(record[target_column] == positive_label for record in records) / len(records), 4)


def summarize(
    rows: Sequence[Mapping[str, str]], group_column: str, target_column: str, positive_label: str
) -> dict[str, Any]:
    """Rows and churn rate overall, and per value of the group column (sorted)."""
    groups: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        groups.setdefault(row[group_column], []).append(row)
    return {
        "rows": len(rows),
        "churn_rate": churn_rate(rows, target_column, positive_label),
        f"by_{group_column}": {
            name: {"rows": len(members), "churn_rate": churn_rate(members, target_column, positive_label)}
            for name, members in sorted(groups.items())
        },
    }
