"""The sample scheduled notebook, executed here as the notebook job's scheduler runs it: papermill injects
the configured parameters after the cell tagged `parameters`, on this virtualenv's python kernel."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import papermill  # type: ignore[import-untyped]  # no type information
import pytest
from papermill.exceptions import PapermillExecutionError  # type: ignore[import-untyped]

from platform_config import PlatformConfig
from tests.pipeline_defs.datasets import write_churn

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "churn-report" / "churn-report.ipynb"


def _execute(tmp_path: Path, parameters: dict[str, Any]) -> Path:
    executed = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    return executed


def _expected_rates(data: Path, group_column: str) -> dict[str, Any]:
    """The same figures, computed independently from the CSV."""
    with data.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    by_group: dict[str, list[bool]] = {}
    for row in rows:
        by_group.setdefault(row[group_column], []).append(row["churn"] == "True.")
    return {
        "rows": len(rows),
        "churn_rate": round(sum(row["churn"] == "True." for row in rows) / len(rows), 4),
        f"by_{group_column}": {
            name: {"rows": len(flags), "churn_rate": round(sum(flags) / len(flags), 4)}
            for name, flags in sorted(by_group.items())
        },
    }


def test_the_notebook_has_one_parameters_cell_with_a_default_for_every_configured_parameter(
    sample_platform: PlatformConfig,
) -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    tagged = [cell for cell in notebook["cells"] if "parameters" in cell["metadata"].get("tags", [])]
    assert len(tagged) == 1
    defaults: dict[str, Any] = {}
    exec("".join(tagged[0]["source"]), {}, defaults)  # the cell only assigns literals
    configured = {
        name
        for environment in sample_platform.environments.values()
        for job in environment.notebook_jobs
        if job.notebook_path == NOTEBOOK
        for name in job.parameters
    }
    assert configured, "the sample configuration schedules this notebook"
    assert configured <= set(defaults)


def test_runs_with_its_configured_parameters_on_sample_data(
    tmp_path: Path, sample_platform: PlatformConfig
) -> None:
    (job,) = [
        job for job in sample_platform.environments["dev"].notebook_jobs if job.notebook_path == NOTEBOOK
    ]
    data = write_churn(tmp_path / "latest.csv", rows=300)
    # The job reads a key of the data bucket; here the same parameter names a local file.
    parameters = {**job.parameters, "input_path": str(data), "output_dir": str(tmp_path / "report")}
    executed = _execute(tmp_path, parameters)

    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary == _expected_rates(data, job.parameters["group_column"])
    assert 0 < summary["churn_rate"] < 1
    # What papermill injected is in the executed notebook (what the job writes to the artifact bucket).
    result = json.loads(executed.read_text())
    injected = [cell for cell in result["cells"] if "injected-parameters" in cell["metadata"].get("tags", [])]
    assert len(injected) == 1
    assert f'input_path = "{data}"' in "".join(injected[0]["source"])


def test_another_group_column_changes_the_report(tmp_path: Path) -> None:
    data = write_churn(tmp_path / "latest.csv", rows=200, seed=3)
    _execute(tmp_path, {"input_path": str(data), "group_column": "intl_plan", "output_dir": "out"})
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary["by_intl_plan"]) == {"no", "yes"}
    assert summary == _expected_rates(data, "intl_plan")


def test_a_missing_column_fails_the_run_with_its_name(tmp_path: Path) -> None:
    data = write_churn(tmp_path / "latest.csv", rows=50)
    with pytest.raises(PapermillExecutionError, match="has no column region"):
        _execute(tmp_path, {"input_path": str(data), "group_column": "region", "output_dir": "out"})
