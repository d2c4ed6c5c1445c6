"""Hyperparameters arrive as strings (sometimes JSON-quoted); each is parsed and checked."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from containers.decision_tree.decision_tree.hyperparameters import (
    PARSERS,
    HyperparameterError,
    Hyperparameters,
    load_hyperparameters,
    parse_hyperparameters,
)


def test_every_field_has_a_parser() -> None:
    assert set(PARSERS) == {field.name for field in dataclasses.fields(Hyperparameters)}


def test_no_hyperparameters_means_reproducible_defaults() -> None:
    parsed = parse_hyperparameters({})

    assert parsed == Hyperparameters()
    assert parsed.random_state == 0
    assert parsed.estimator_arguments()["max_depth"] is None
    assert "target_column" not in parsed.estimator_arguments()


def test_strings_are_parsed_to_their_types() -> None:
    parsed = parse_hyperparameters(
        {
            "criterion": "entropy",
            "max_depth": " 7 ",
            "min_samples_split": "4",
            "min_samples_leaf": "2",
            "max_leaf_nodes": "None",
            "ccp_alpha": "0.01",
            "random_state": "null",
            "target_column": "3",
        }
    )

    assert parsed == Hyperparameters(
        criterion="entropy",
        max_depth=7,
        min_samples_split=4,
        min_samples_leaf=2,
        max_leaf_nodes=None,
        ccp_alpha=0.01,
        random_state=None,
        target_column=3,
    )


def test_json_quoted_strings_from_the_sdk_are_unquoted() -> None:
    parsed = parse_hyperparameters({"criterion": '"log_loss"', "max_depth": '"5"'})

    assert parsed.criterion == "log_loss"
    assert parsed.max_depth == 5


def test_names_sagemaker_adds_are_ignored() -> None:
    parsed = parse_hyperparameters(
        {"_tuning_objective_metric": "validation:accuracy", "sagemaker_program": "x", "max_depth": "2"}
    )

    assert parsed.max_depth == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"max_depth": "0"}, "max_depth: must be at least 1, got 0"),
        ({"max_depth": "3.5"}, "max_depth: expected an integer or \"none\", got '3.5'"),
        ({"min_samples_split": "1"}, "min_samples_split: must be at least 2, got 1"),
        ({"min_samples_leaf": "none"}, "min_samples_leaf: expected an integer, got 'none'"),
        ({"max_leaf_nodes": "1"}, "max_leaf_nodes: must be at least 2, got 1"),
        ({"ccp_alpha": "-0.1"}, "ccp_alpha: must be a finite number >= 0, got '-0.1'"),
        ({"ccp_alpha": "nan"}, "ccp_alpha: must be a finite number >= 0, got 'nan'"),
        ({"ccp_alpha": "lots"}, "ccp_alpha: expected a number, got 'lots'"),
        ({"random_state": "-1"}, "random_state: must be at least 0, got -1"),
        ({"criterion": "Gini"}, "criterion: expected one of gini, entropy, log_loss, got 'Gini'"),
        ({"target_column": "first"}, "target_column: expected an integer, got 'first'"),
        ({"max_depth": True}, "max_depth: expected a string or a number, got true"),
        ({"max_depth": None}, "max_depth: expected a string or a number, got null"),
        ({"depth": "3"}, "depth: unknown hyperparameter (known: ccp_alpha, criterion, max_depth,"),
    ],
)
def test_bad_values_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(HyperparameterError) as raised:
        parse_hyperparameters(raw)

    assert message in str(raised.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(HyperparameterError) as raised:
        parse_hyperparameters({"max_depth": "0", "criterion": "best", "colour": "blue"})

    assert str(raised.value).count(";") == 2
    for name in ("max_depth", "criterion", "colour"):
        assert f"{name}:" in str(raised.value)


def test_sm_hps_is_used_instead_of_the_file(tmp_path: Path) -> None:
    file = tmp_path / "hyperparameters.json"
    file.write_text('{"max_depth": "9"}')

    assert load_hyperparameters(file=file, sm_hps='{"max_depth": 4}').max_depth == 4
    assert load_hyperparameters(file=file, sm_hps=None).max_depth == 9
    assert load_hyperparameters(file=tmp_path / "missing.json", sm_hps=None) == Hyperparameters()


def test_a_malformed_sm_hps_is_named(tmp_path: Path) -> None:
    with pytest.raises(HyperparameterError, match="SM_HPS is not valid JSON"):
        load_hyperparameters(file=tmp_path / "missing.json", sm_hps="{max_depth: 4}")
