"""notebook_jobs: each bad value is one problem naming the file, the field and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from platform_config import load_platform
from platform_config.models import NOTEBOOKS_DIR
from tests.config.conftest import (
    Change,
    EditConfig,
    check_problem,
    combine,
    delete,
    only_problem,
    set_value,
)

JOB = ("notebook_jobs", 0)


def test_the_sample_schedules_a_notebook_of_the_repository(config_copy: EditConfig) -> None:
    (job,) = load_platform(config_copy()).environments["dev"].notebook_jobs
    assert job.notebook_path == NOTEBOOKS_DIR / "churn-report" / "churn-report.ipynb"
    assert job.notebook_path.is_file()
    assert job.image.sagemaker_distribution is not None
    assert job.schedule is not None
    assert job.studio_view is not None


@pytest.mark.parametrize(
    ("change", "field_path", "words"),
    [
        (
            set_value(*JOB, "notebook", value="churn-report/missing.ipynb"),
            "notebook_jobs[0].notebook",
            ("notebook 'churn-report/missing.ipynb' not found", str(NOTEBOOKS_DIR)),
        ),
        (
            set_value(*JOB, "notebook", value="../config/dev.yaml"),
            "notebook_jobs[0].notebook",
            ("is not a notebook path relative to notebooks/",),
        ),
        (
            set_value(*JOB, "image", "studio_image", value="jupyterlab-data-science"),
            "notebook_jobs[0].image",
            ("set exactly one of sagemaker_distribution", "or studio_image"),
        ),
        (
            set_value(*JOB, "image", "sagemaker_distribution", value="latest"),
            "notebook_jobs[0].image.sagemaker_distribution",
            ("'latest' is not an image version; give one such as 3.0.0",),
        ),
        (
            combine(
                delete(*JOB, "image", "sagemaker_distribution"),
                set_value(*JOB, "image", "studio_image", value="decision-tree"),
            ),
            "notebook_jobs[0].image.studio_image",
            ("'decision-tree' is not a repository with a studio_image", "jupyterlab-data-science"),
        ),
        (
            set_value(*JOB, "parameters", "2nd", value="x"),
            "notebook_jobs[0].parameters",
            ("2nd are not Python identifiers",),
        ),
        (
            set_value(*JOB, "schedule", value="every day"),
            "notebook_jobs[0].schedule",
            ("'every day' is not a schedule; use one such as rate(1 day) or cron(0 6 * * ? *)",),
        ),
        (
            set_value(*JOB, "instance_type", value="m5.large"),
            "notebook_jobs[0].instance_type",
            ("'m5.large' is not a SageMaker training instance type",),
        ),
        (
            set_value(*JOB, "name", value="churn-model-build"),
            "notebook_jobs[0].name",
            ("'churn-model-build' is already the name of a pipeline",),
        ),
        (
            set_value(*JOB, "studio_view", "domain", value="research"),
            "notebook_jobs[0].studio_view.domain",
            ("'research' is not a domain of studio.domains", "ml-research, platform-ops"),
        ),
        (
            set_value(*JOB, "studio_view", "user_profile", value="zoe"),
            "notebook_jobs[0].studio_view.user_profile",
            ("'zoe' is not a user of domain 'ml-research'", "alice, bob, carol"),
        ),
        (
            set_value(*JOB, "run_as", value={"persona": "data-scientist", "domain": "research"}),
            "notebook_jobs[0].run_as.domain",
            ("'research' is not a domain of studio.domains", "ml-research, platform-ops"),
        ),
        (
            set_value(*JOB, "run_as", value={"persona": "data-scientist", "domain": "platform-ops"}),
            "notebook_jobs[0].run_as.persona",
            ("'data-scientist' has no execution role in domain 'platform-ops'", "ml-engineer"),
        ),
        (
            set_value(*JOB, "run_as", value={"persona": "analyst", "domain": "ml-research"}),
            "notebook_jobs[0].run_as.persona",
            ("persona 'analyst' may not start training jobs", "capability", "remove run_as"),
        ),
        (
            combine(
                set_value(*JOB, "run_as", value={"persona": "data-scientist", "domain": "ml-research"}),
                set_value(*JOB, "instance_type", value="ml.c5.xlarge"),
            ),
            "notebook_jobs[0].run_as.persona",
            ("instance_type 'ml.c5.xlarge' is not one of persona 'data-scientist''s job_instance_types",),
        ),
        (
            combine(
                set_value(*JOB, "run_as", value={"persona": "ml-engineer", "domain": "platform-ops"}),
                set_value(*JOB, "studio_view", value={"domain": "ml-research"}),
            ),
            "notebook_jobs[0].run_as.domain",
            ("'platform-ops' differs from studio_view.domain 'ml-research'", "domain isolation"),
        ),
        (
            set_value(*JOB, "run_as", value={"persona": "data-scientist"}),
            "notebook_jobs[0].run_as.domain",
            ("required but missing",),
        ),
        (
            set_value(*JOB, "max_runtime_minutes", value="60"),
            "notebook_jobs[0].max_runtime_minutes",
            ("is not a whole number",),
        ),
    ],
    ids=[
        "missing-notebook",
        "path-outside-notebooks",
        "two-images",
        "bad-distribution-version",
        "not-a-studio-image",
        "parameter-name",
        "schedule",
        "instance-type",
        "name-of-a-pipeline",
        "unknown-domain",
        "unknown-user",
        "run-as-unknown-domain",
        "run-as-persona-without-role-in-domain",
        "run-as-persona-without-jobs",
        "run-as-persona-instance-type",
        "run-as-other-domain-than-view",
        "run-as-without-domain",
        "runtime-as-string",
    ],
)
def test_bad_notebook_job(
    config_copy: EditConfig, change: Change, field_path: str, words: tuple[str, ...]
) -> None:
    config_dir = config_copy("dev", change)
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", field_path, *words)


def test_a_platform_studio_image_is_accepted(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        combine(
            delete(*JOB, "image", "sagemaker_distribution"),
            set_value(*JOB, "image", "studio_image", value="jupyterlab-data-science"),
        ),
    )
    (job,) = load_platform(config_dir).environments["dev"].notebook_jobs
    assert job.image.studio_image == "jupyterlab-data-science"


def test_the_environment_role_by_default_and_a_persona_role_by_name(config_copy: EditConfig) -> None:
    (default,) = load_platform(config_copy()).environments["dev"].notebook_jobs
    assert default.run_as is None
    config_dir = config_copy(
        "dev", set_value(*JOB, "run_as", value={"persona": "data-scientist", "domain": "ml-research"})
    )
    (job,) = load_platform(config_dir).environments["dev"].notebook_jobs
    assert job.run_as is not None
    assert (job.run_as.persona, job.run_as.domain) == ("data-scientist", "ml-research")


def test_a_persona_that_requires_network_isolation_cannot_run_a_notebook(config_copy: EditConfig) -> None:
    def isolate(data: dict[str, Any]) -> None:
        data["studio"]["personas"]["ml-engineer"]["network_isolation"] = True
        data["notebook_jobs"][0]["run_as"] = {"persona": "ml-engineer", "domain": "ml-research"}

    config_dir = config_copy("dev", isolate)
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "notebook_jobs[0].run_as.persona",
        "persona 'ml-engineer' requires network isolation",
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            set_value("studio", "personas", "analyst", "capabilities", value=["notebook_jobs"]),
            "job_instance_types",
            ("the 'notebook_jobs' capability needs job_instance_types",),
        ),
        (
            combine(
                set_value("studio", "personas", "analyst", "capabilities", value=["jobs", "notebook_jobs"]),
                set_value("studio", "personas", "analyst", "job_instance_types", value=["ml.m5.large"]),
                set_value("studio", "personas", "analyst", "network_isolation", value=True),
            ),
            "network_isolation",
            ("'notebook_jobs' capability cannot go with network_isolation", "remove one of the two"),
        ),
    ],
    ids=["without-instance-types", "with-network-isolation"],
)
def test_bad_notebook_jobs_capability(
    config_copy: EditConfig, change: Change, field: str, words: tuple[str, ...]
) -> None:
    config_dir = config_copy("dev", change)
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", f"studio.personas.analyst.{field}", *words
    )


def test_a_persona_with_the_notebook_jobs_capability_alone_may_run_a_notebook_job(
    config_copy: EditConfig,
) -> None:
    config_dir = config_copy(
        "dev",
        combine(
            set_value("studio", "personas", "analyst", "capabilities", value=["notebook_jobs"]),
            set_value("studio", "personas", "analyst", "job_instance_types", value=["ml.m5.large"]),
            set_value(*JOB, "run_as", value={"persona": "analyst", "domain": "ml-research"}),
        ),
    )
    (job,) = load_platform(config_dir).environments["dev"].notebook_jobs
    assert job.run_as is not None and job.run_as.persona == "analyst"
