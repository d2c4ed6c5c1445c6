"""Names and S3 layout shared by the DAG modules (plain Python, no SDK).

Layout in the artifact bucket (the serving accounts may read exactly `models/`):
- `s3://<bucket>/pipelines/<pipeline name>/<execution id>/<step>/<output>/`: everything a run writes
  except what the serving accounts read, one prefix per execution so runs never overwrite each other's
  reports;
- `models/`, what a registered model package points at and the serving accounts read:
  - `s3://<bucket>/models/<pipeline name>/<training job name>/output/model.tar.gz`: model artifacts;
  - `s3://<bucket>/models/<pipeline name>/<execution id>/data-quality/{statistics,constraints}.json`: the
    data-quality baseline registered with the model (its ModelDataQuality metrics and drift check
    baselines), which the endpoints' monitoring schedules start from.
  Training job names start with `<pipeline name>-` and execution ids have no '-', so the two never meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from pipeline_defs.context import RenderContext

# SageMaker's patterns: a pipeline name, and a job (or model) name, which the definition may carry as a
# custom prefix (CreatePipeline rejects a longer one; the service shortens it when it adds its suffix).
PIPELINE_NAME_PATTERN: Final = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
JOB_NAME_PATTERN: Final = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")

PIPELINES_PREFIX: Final = "pipelines"
MODELS_PREFIX: Final = "models"


def check_pipeline_name(name: str) -> None:
    if not PIPELINE_NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"pipeline name {name!r} is not a SageMaker pipeline name: letters, digits and '-', "
            "starting and ending with a letter or digit, at most 256 characters"
        )


def job_prefix(pipeline_name: str, job: str) -> str:
    """The explicit job name prefix of one step's job, e.g. `churn-build-train`."""
    prefix = f"{pipeline_name}-{job}"
    if not JOB_NAME_PATTERN.fullmatch(prefix):
        raise ValueError(
            f"job name prefix {prefix!r} is not a SageMaker job name (at most 63 letters, digits and '-'): "
            f"shorten the pipeline name {pipeline_name!r}"
        )
    return prefix


def model_output_path(context: RenderContext, pipeline_name: str) -> str:
    """Where training jobs write model artifacts: under `models/`, the prefix serving accounts may read."""
    return f"s3://{context.bucket}/{MODELS_PREFIX}/{pipeline_name}"


def require_code(context: RenderContext, scripts: Iterable[str], dag: str) -> None:
    """Every script the DAG runs must have an s3:// URI: a local path would be uploaded during rendering."""
    missing = sorted(set(scripts) - set(context.code_uris))
    if missing:
        raise ValueError(
            f"{dag} needs code_uris for {', '.join(missing)} "
            f"(the s3:// URIs of the shipped assets; given: {sorted(context.code_uris) or 'none'})"
        )
