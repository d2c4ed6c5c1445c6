"""The training job's hyperparameters, parsed from SageMaker's all-strings form and validated.

SageMaker writes hyperparameters to `<input config>/hyperparameters.json` as a JSON object whose values are
all strings (`{"max_depth": "5"}`). The SageMaker Python SDK's framework estimators JSON-encode values
first, so a string may arrive quoted (`"\"gini\""`); one level of such quoting is removed. When `SM_HPS`
is set (the training toolkit's variable), its JSON object is used instead of the file, and its values may
be JSON numbers. Every value is validated; an unknown name is an error (a typo must not train a default
model silently), except names starting with `sagemaker_` or `_`, which SageMaker and its SDK add
themselves (for example `_tuning_objective_metric` in tuning jobs).

| name                | meaning                                         | allowed                  | default |
| ------------------- | ----------------------------------------------- | ------------------------ | ------- |
| `criterion`         | split quality measure                           | gini, entropy, log_loss  | gini    |
| `max_depth`         | deepest level of the tree                       | integer >= 1, or none    | none    |
| `min_samples_split` | fewest samples an internal node may split       | integer >= 2             | 2       |
| `min_samples_leaf`  | fewest samples in a leaf                        | integer >= 1             | 1       |
| `max_leaf_nodes`    | most leaves                                     | integer >= 2, or none    | none    |
| `ccp_alpha`         | cost-complexity pruning strength                | number >= 0              | 0       |
| `random_state`      | seed for the tie-breaking feature permutation   | integer >= 0, or none    | 0       |
| `target_column`     | 0-based column of the label in the CSV files    | integer >= 0             | 0       |

`random_state` defaults to 0, not scikit-learn's None, so retraining on the same data gives the same tree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CRITERIA = ("gini", "entropy", "log_loss")
NONE_WORDS = frozenset({"none", "null"})
RESERVED_PREFIXES = ("sagemaker_", "_")


class HyperparameterError(ValueError):
    """A hyperparameter is unknown, malformed or out of range; the message names it."""


@dataclass(frozen=True)
class Hyperparameters:
    """The validated values; the defaults are the ones the module docstring lists."""

    criterion: str = "gini"
    max_depth: int | None = None
    min_samples_split: int = 2
    min_samples_leaf: int = 1
    max_leaf_nodes: int | None = None
    ccp_alpha: float = 0.0
    random_state: int | None = 0
    target_column: int = 0

    def estimator_arguments(self) -> dict[str, Any]:
        """Keyword arguments for `DecisionTreeClassifier` (everything except `target_column`)."""
        return {
            "criterion": self.criterion,
            "max_depth": self.max_depth,
            "min_samples_split": self.min_samples_split,
            "min_samples_leaf": self.min_samples_leaf,
            "max_leaf_nodes": self.max_leaf_nodes,
            "ccp_alpha": self.ccp_alpha,
            "random_state": self.random_state,
        }


def _text(name: str, raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise HyperparameterError(f"{name}: expected a string or a number, got {json.dumps(raw)}")
    text = str(raw).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, str):
            text = decoded.strip()
    return text


def _integer(minimum: int, *, allow_none: bool) -> Callable[[str, str], int | None]:
    def parse(name: str, text: str) -> int | None:
        if allow_none and text.lower() in NONE_WORDS:
            return None
        try:
            value = int(text)
        except ValueError:
            none_hint = ' or "none"' if allow_none else ""
            raise HyperparameterError(f"{name}: expected an integer{none_hint}, got {text!r}") from None
        if value < minimum:
            raise HyperparameterError(f"{name}: must be at least {minimum}, got {value}")
        return value

    return parse


def _non_negative_number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise HyperparameterError(f"{name}: expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise HyperparameterError(f"{name}: must be a finite number >= 0, got {text!r}")
    return value


def _criterion(name: str, text: str) -> str:
    if text not in CRITERIA:
        raise HyperparameterError(f"{name}: expected one of {', '.join(CRITERIA)}, got {text!r}")
    return text


PARSERS: dict[str, Callable[[str, str], object]] = {
    "criterion": _criterion,
    "max_depth": _integer(1, allow_none=True),
    "min_samples_split": _integer(2, allow_none=False),
    "min_samples_leaf": _integer(1, allow_none=False),
    "max_leaf_nodes": _integer(2, allow_none=True),
    "ccp_alpha": _non_negative_number,
    "random_state": _integer(0, allow_none=True),
    "target_column": _integer(0, allow_none=False),
}


def parse_hyperparameters(raw: Mapping[str, object]) -> Hyperparameters:
    """Validated hyperparameters from SageMaker's mapping; a `HyperparameterError` lists every problem."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, raw_value in sorted(raw.items()):
        if name.startswith(RESERVED_PREFIXES):
            continue
        parser = PARSERS.get(name)
        if parser is None:
            problems.append(f"{name}: unknown hyperparameter (known: {', '.join(sorted(PARSERS))})")
            continue
        try:
            values[name] = parser(name, _text(name, raw_value))
        except HyperparameterError as error:
            problems.append(str(error))
    if problems:
        raise HyperparameterError("; ".join(problems))
    return Hyperparameters(**values)


def load_hyperparameters(*, file: Path, sm_hps: str | None) -> Hyperparameters:
    """Parse `sm_hps` (the `SM_HPS` JSON) if given, else `file`; a missing file means all defaults."""
    if sm_hps:
        source, text = "SM_HPS", sm_hps
    elif file.is_file():
        source, text = str(file), file.read_text(encoding="utf-8")
    else:
        return Hyperparameters()
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise HyperparameterError(f"{source} is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise HyperparameterError(f"{source} must hold a JSON object, got {type(raw).__name__}")
    return parse_hyperparameters(raw)
