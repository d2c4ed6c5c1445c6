"""pipeline_graph() on small hand-written definitions: each kind of edge, and the definitions it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline_defs import pipeline_graph


def _definition(*steps: dict[str, Any]) -> str:
    return json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": list(steps)})


def _step(name: str, step_type: str = "Processing", **fields: Any) -> dict[str, Any]:
    return {"Name": name, "Type": step_type, "Arguments": {}, **fields}


def test_get_references_depends_on_and_branches() -> None:
    graph = pipeline_graph(
        _definition(
            _step("Prepare"),
            _step(
                "Learn",
                "Training",
                Arguments={
                    "Input": {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}
                },
            ),
            _step("Audit", DependsOn=["Prepare"]),
            _step(
                "Check",
                "Condition",
                Arguments={
                    "Conditions": [
                        {
                            "LeftValue": {
                                "Std:JsonGet": {
                                    "PropertyFile": {"Get": "Steps.Learn.PropertyFiles.R"},
                                    "Path": "a",
                                }
                            },
                            "RightValue": {"Get": "Parameters.T"},
                        }
                    ],
                    "IfSteps": [_step("Ship", "RegisterModel", Arguments={"Uri": {"Get": "Steps.Learn.X"}})],
                    "ElseSteps": [_step("Stop", "Fail")],
                },
            ),
        )
    )
    assert dict(graph.steps) == {
        "Prepare": "Processing",
        "Learn": "Training",
        "Audit": "Processing",
        "Check": "Condition",
        "Ship": "RegisterModel",
        "Stop": "Fail",
    }
    assert graph.edges == {
        ("Prepare", "Learn"),
        ("Prepare", "Audit"),
        ("Learn", "Check"),
        ("Learn", "Ship"),
        ("Check", "Ship"),
        ("Check", "Stop"),
    }
    assert graph.edge_kinds[("Prepare", "Audit")] == {"depends_on"}
    assert graph.edge_kinds[("Check", "Ship")] == {"if"}
    assert dict(graph.depends_on) == {"Audit": ("Prepare",)}
    assert dict(graph.branches) == {"Check": (("Ship",), ("Stop",))}
    assert graph.lines() == [
        "Prepare: Processing",
        "Learn: Training",
        "Audit: Processing",
        "Check: Condition",
        "Ship: RegisterModel",
        "Stop: Fail",
        "Prepare -> Learn",
        "Prepare -> Audit (depends on)",
        "Learn -> Check",
        "Learn -> Ship",
        "Check -> Ship (if)",
        "Check -> Stop (else)",
    ]


def test_a_redundant_depends_on_shows_as_both_kinds() -> None:
    graph = pipeline_graph(
        _definition(_step("A"), _step("B", Arguments={"In": {"Get": "Steps.A.X"}}, DependsOn=["A"]))
    )
    assert graph.edge_kinds[("A", "B")] == {"data", "depends_on"}
    assert graph.lines()[-1] == "A -> B (depends on)"


def test_references_to_missing_steps_are_refused() -> None:
    with pytest.raises(ValueError, match="B refers to 'Gone' \\(data\\)"):
        pipeline_graph(_definition(_step("B", Arguments={"In": {"Get": "Steps.Gone.X"}})))
    with pytest.raises(ValueError, match="B refers to 'Gone' \\(depends_on\\)"):
        pipeline_graph(_definition(_step("B", DependsOn=["Gone"])))


def test_malformed_definitions_are_refused() -> None:
    with pytest.raises(ValueError, match="no 'Steps' list"):
        pipeline_graph("{}")
    with pytest.raises(ValueError, match="two steps are named 'A'"):
        pipeline_graph(_definition(_step("A"), _step("A")))
    with pytest.raises(ValueError, match="without a Name or Type"):
        pipeline_graph(_definition({"Name": "A"}))


def test_a_quality_check_read_by_a_branch_step() -> None:
    """As in the model build: a QualityCheck step beside the condition, whose baseline a step in the
    condition's branch reads; its top-level fields (CheckType, SkipCheck, nulls) hold no references."""
    graph = pipeline_graph(
        _definition(
            _step("Prepare"),
            _step(
                "Baseline",
                "QualityCheck",
                Arguments={
                    "Input": {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['b'].S3Output.S3Uri"}
                },
                CheckType="DATA_QUALITY",
                SkipCheck=True,
                ModelPackageGroupName=None,
            ),
            _step(
                "Check",
                "Condition",
                Arguments={
                    "Conditions": [],
                    "IfSteps": [
                        _step(
                            "Register",
                            "RegisterModel",
                            Arguments={"Stats": {"Get": "Steps.Baseline.CalculatedBaselineStatistics"}},
                        )
                    ],
                    "ElseSteps": [],
                },
            ),
        )
    )
    assert graph.steps["Baseline"] == "QualityCheck"
    assert graph.edges == {("Prepare", "Baseline"), ("Baseline", "Register"), ("Check", "Register")}
    assert graph.edge_kinds[("Baseline", "Register")] == {"data"}
