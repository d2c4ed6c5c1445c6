"""The sample scheduled notebook, executed here as the notebook job's scheduler runs it: its folder's files
unpacked next to it by the init script of the rendered request, then papermill injects the configured
parameters after the cell tagged `parameters`, on this virtualenv's python kernel."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import papermill  # type: ignore[import-untyped]  # no type information
import pytest
from papermill.exceptions import PapermillExecutionError  # type: ignore[import-untyped]

from pipeline_defs import RenderContext
from pipeline_defs.notebook_job import UNPACK_SCRIPT, NotebookJobSpec, render
from platform_config import PlatformConfig
from platform_config.models import NotebookJobConfig
from tests.pipeline_defs.datasets import write_churn

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "churn-report" / "churn-report.ipynb"


CHANNELS_IN_THE_JOB = "/opt/ml/input/data"


@pytest.fixture(scope="module")
def job(sample_platform: PlatformConfig) -> NotebookJobConfig:
    (configured,) = [
        job for job in sample_platform.environments["dev"].notebook_jobs if job.notebook_path == NOTEBOOK
    ]
    return configured


@pytest.fixture(scope="module")
def request_of_the_job(job: NotebookJobConfig) -> dict[str, Any]:
    """The training job request rendered for the notebook and its folder's files (asset keys made up)."""
    assert job.notebook_files, "the sample notebook has files next to it"
    spec = NotebookJobSpec(
        notebook=job.notebook_path,
        staged_notebook_uri="s3://assets/0a1b2c.ipynb",
        staged_files_uri="s3://assets/3d4e5f.zip",
        staged_unpack_script_uri="s3://assets/6a7b8c.sh",
        image_uri="819792524951.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-distribution-prod:3.2.0-cpu",
        parameters=job.parameters,
    )
    context = RenderContext(
        region="eu-west-1",
        role_arn="arn:aws:iam::000000000000:role/a-role",
        bucket="artifacts",
        data_bucket="data",
        kms_key_id="arn:aws:kms:eu-west-1:000000000000:key/a-key",
        subnet_ids=["subnet-0a"],
        security_group_ids=["sg-0a"],
    )
    (step,) = json.loads(render(context=context, name=job.name, spec=spec))["Steps"]
    arguments: dict[str, Any] = step["Arguments"]
    return arguments


def _execute(
    tmp_path: Path, parameters: dict[str, Any], job: NotebookJobConfig, request: dict[str, Any]
) -> Path:
    """Run the notebook as the notebook job does: each channel's object in its folder (the folder's files as
    the zip CDK makes of a directory asset), the scheduler's init script sourced in the notebook's folder,
    then papermill there."""
    channels = tmp_path / "channels"
    sources = {".ipynb": NOTEBOOK, ".sh": UNPACK_SCRIPT}
    for channel in request["InputDataConfig"]:
        name = channel["DataSource"]["S3DataSource"]["S3Uri"].rsplit("/", 1)[-1]
        target = channels / channel["ChannelName"] / name
        target.parent.mkdir(parents=True)
        if name.endswith(".zip"):
            folder = job.notebook_path.parent
            with zipfile.ZipFile(target, "w") as archive:
                for path in job.notebook_files:
                    archive.write(path, path.relative_to(folder).as_posix())
        else:
            shutil.copyfile(sources[Path(name).suffix], target)
    environment = request["Environment"]
    input_path = Path(environment["SM_EXECUTION_INPUT_PATH"].replace(CHANNELS_IN_THE_JOB, str(channels)))
    subprocess.run(
        [
            "bash",
            "-c",
            'set -ex; cd "$SM_EXECUTION_INPUT_PATH"; . "$SM_EXECUTION_INPUT_PATH/$SM_INIT_SCRIPT"',
        ],
        env={
            "PATH": os.environ["PATH"],
            "PYTHON_EXECUTABLE": sys.executable,
            "SM_EXECUTION_INPUT_PATH": str(input_path),
            "SM_INIT_SCRIPT": environment["SM_INIT_SCRIPT"],
            "PLATFORM_NOTEBOOK_FILES_ARCHIVE": environment["PLATFORM_NOTEBOOK_FILES_ARCHIVE"],
        },
        check=True,
        capture_output=True,
    )
    executed = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(input_path / environment["SM_INPUT_NOTEBOOK_NAME"]),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(input_path),
        progress_bar=False,
    )
    return executed


def test_the_folders_files_are_unpacked_next_to_the_notebook(
    tmp_path: Path, job: NotebookJobConfig, request_of_the_job: dict[str, Any]
) -> None:
    data = write_churn(tmp_path / "latest.csv", rows=20)
    _execute(
        tmp_path, {"input_path": str(data), "output_dir": str(tmp_path / "out")}, job, request_of_the_job
    )
    notebook_folder = tmp_path / "channels" / "sagemaker_headless_execution_pipelinestep"
    assert sorted(path.name for path in notebook_folder.iterdir()) == sorted(
        ["0a1b2c.ipynb", *(path.name for path in job.notebook_files)]
    )
    for path in job.notebook_files:
        assert (notebook_folder / path.name).read_bytes() == path.read_bytes()


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
    tmp_path: Path, job: NotebookJobConfig, request_of_the_job: dict[str, Any]
) -> None:
    data = write_churn(tmp_path / "latest.csv", rows=300)
    # The job reads a key of the data bucket; here the same parameter names a local file.
    parameters = {**job.parameters, "input_path": str(data), "output_dir": str(tmp_path / "report")}
    executed = _execute(tmp_path, parameters, job, request_of_the_job)

    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary == _expected_rates(data, job.parameters["group_column"])
    assert 0 < summary["churn_rate"] < 1
    # What papermill injected is in the executed notebook (what the job writes to the artifact bucket).
    result = json.loads(executed.read_text())
    injected = [cell for cell in result["cells"] if "injected-parameters" in cell["metadata"].get("tags", [])]
    assert len(injected) == 1
    assert f'input_path = "{data}"' in "".join(injected[0]["source"])


def test_another_group_column_changes_the_report(
    tmp_path: Path, job: NotebookJobConfig, request_of_the_job: dict[str, Any]
) -> None:
    data = write_churn(tmp_path / "latest.csv", rows=200, seed=3)
    parameters = {"input_path": str(data), "group_column": "intl_plan", "output_dir": str(tmp_path / "out")}
    _execute(tmp_path, parameters, job, request_of_the_job)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary["by_intl_plan"]) == {"no", "yes"}
    assert summary == _expected_rates(data, "intl_plan")


def test_a_missing_column_fails_the_run_with_its_name(
    tmp_path: Path, job: NotebookJobConfig, request_of_the_job: dict[str, Any]
) -> None:
    data = write_churn(tmp_path / "latest.csv", rows=50)
    parameters = {"input_path": str(data), "group_column": "region", "output_dir": str(tmp_path / "out")}
    with pytest.raises(PapermillExecutionError, match="has no column region"):
        _execute(tmp_path, parameters, job, request_of_the_job)
