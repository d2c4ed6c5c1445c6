"""Generated datasets for running the model build DAG: the churn-shaped sample, and one shaped differently.

Deterministic for a seed; the label depends on a few columns with a little noise, so a model learns it
well (accuracy above the default threshold) without being perfect.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Final

CHURN_HEADER: Final = (
    "state",
    "account_length",
    "intl_plan",
    "day_minutes",
    "service_calls",
    "phone",
    "churn",
)
# The features the churn sample encodes to with `phone` dropped: 3 states one-hot, 2 intl_plan values
# one-hot, account_length, day_minutes, service_calls.
CHURN_FEATURE_COUNT: Final = 3 + 2 + 3

LOANS_HEADER: Final = ("customer_id", "segment", "income", "tenure_months", "defaulted")
# segment one-hot over 3 values, income, tenure_months; customer_id dropped.
LOANS_FEATURE_COUNT: Final = 3 + 1 + 1


def write_churn(path: Path, *, rows: int = 400, seed: int = 7) -> Path:
    """The sample's shape: a `churn` label ("True."/"False."), a `phone` identifier, categoricals, gaps."""
    generator = random.Random(seed)
    records: list[list[str]] = []
    for index in range(rows):
        day_minutes = generator.uniform(50, 350)
        calls = generator.randint(0, 7)
        intl_plan = "yes" if generator.random() < 0.2 else "no"
        churned = day_minutes > 260 or (calls >= 5 and intl_plan == "yes")
        if generator.random() < 0.02:
            churned = not churned
        records.append(
            [
                generator.choice(("KS", "OH", "NJ")),
                str(generator.randint(1, 240)),
                intl_plan,
                "" if index % 37 == 0 else f"{day_minutes:.1f}",
                str(calls),
                f"{generator.randint(300, 499)}-{index:04d}",
                "True." if churned else "False.",
            ]
        )
    return _write(path, CHURN_HEADER, records)


def write_loans(path: Path, *, rows: int = 300, seed: int = 11) -> Path:
    """Another shape: label `defaulted` (yes/no), an id column `customer_id`, a categorical `segment`,
    missing incomes."""
    generator = random.Random(seed)
    records: list[list[str]] = []
    for index in range(rows):
        income = generator.uniform(10, 200)
        tenure = generator.randint(0, 120)
        segment = generator.choice(("retail", "business", "private"))
        defaulted = income < 60 and tenure < 60
        if generator.random() < 0.02:
            defaulted = not defaulted
        records.append(
            [
                f"C{index:05d}",
                segment,
                "" if index % 13 == 0 else f"{income:.2f}",
                str(tenure),
                "yes" if defaulted else "no",
            ]
        )
    return _write(path, LOANS_HEADER, records)


def _write(path: Path, header: tuple[str, ...], records: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(records)
    return path
