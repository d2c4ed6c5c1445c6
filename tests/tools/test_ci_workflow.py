"""The GitHub workflow runs what `make test` runs with one synth, caches what is slow to rebuild, re-runs
the diff's verdict when the acknowledgement label changes, reports the diff on the pull request with the
least permissions, and pins every action. .ci/run stays the README's test command."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from synth_checks import assembly_cache, cfn_lint_cache, template_validation

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PATH = ROOT / ".github" / "workflows" / "ci.yml"
DATA_LOSS_LABEL = "data-loss-acknowledged"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW_PATH.read_text())
    return loaded


def _steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return steps


def _make_targets(workflow: dict[Any, Any]) -> list[str]:
    """`make <target>` of each run step of the main job, in order."""
    targets = []
    for step in _steps(workflow, "synth-and-test"):
        for line in str(step.get("run", "")).splitlines():
            match = re.match(r"\s*make ([a-z-]+)", line)
            if match:
                targets.append(match.group(1))
    return targets


def _makefile_prerequisites(target: str) -> list[str]:
    (line,) = [line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(f"{target}:")]
    return line.split(":", 1)[1].split()


def test_the_test_targets_run_with_exactly_one_synth_before_its_readers(workflow: dict[Any, Any]) -> None:
    targets = _make_targets(workflow)

    assert set(_makefile_prerequisites("test")) <= set(targets)
    assert "test" not in targets  # make test synthesizes again
    assert targets.count("synth") == 1
    assert targets.index("synth") < targets.index("cfn-lint")
    assert targets.index("synth") < targets.index("pytest")


def test_the_diff_reuses_the_runs_cdk_out(workflow: dict[Any, Any]) -> None:
    (diff,) = [step for step in _steps(workflow, "synth-and-test") if "make diff" in str(step.get("run"))]
    assert "HEAD_ASSEMBLY=cdk.out" in diff["run"]
    assert "MARKDOWN=diff.md" in diff["run"]


def test_adding_or_removing_the_label_re_runs_the_check(workflow: dict[Any, Any]) -> None:
    triggers: dict[str, Any] = workflow[True]  # YAML 1.1 reads the bare key `on` as true
    assert {"opened", "synchronize", "reopened", "labeled", "unlabeled"} <= set(
        triggers["pull_request"]["types"]
    )
    job = workflow["jobs"]["synth-and-test"]
    assert f"github.event.label.name == '{DATA_LOSS_LABEL}'" in job["if"]
    (diff,) = [step for step in job["steps"] if "make diff" in str(step.get("run"))]
    assert f"labels.*.name, '{DATA_LOSS_LABEL}')" in diff["env"]["ACK"]
    assert f"`{DATA_LOSS_LABEL}`" in (ROOT / "README.md").read_text()


def test_slow_rebuilds_are_cached(workflow: dict[Any, Any]) -> None:
    cached = {
        path
        for step in _steps(workflow, "synth-and-test")
        if str(step.get("uses", "")).startswith("actions/cache@")
        for path in str(step["with"]["path"]).split()
    }
    makefile = (ROOT / "Makefile").read_text()
    (mypy_cache,) = re.findall(r"export MYPY_CACHE_DIR \?= \$\(HOME\)/(\S+)", makefile)
    (bytecode,) = re.findall(r"export PYTHONPYCACHEPREFIX \?= \$\(CURDIR\)/(\S+)", makefile)
    synth_checks = {
        str(module.DEFAULT_DIR.relative_to(ROOT))
        for module in (template_validation, cfn_lint_cache, assembly_cache)
    }
    assert cached == {
        "~/.cache/pip",
        "~/.npm",
        "~/.cache/aws/jsii/package-cache",
        f"~/{mypy_cache}",
        bytecode,
        *synth_checks,
    }


def test_the_diff_goes_to_the_summary_and_to_one_pull_request_comment(workflow: dict[Any, Any]) -> None:
    runs = "\n".join(str(step.get("run", "")) for step in _steps(workflow, "synth-and-test"))
    assert 'cat diff.md >> "$GITHUB_STEP_SUMMARY"' in runs
    comment = workflow["jobs"]["diff-comment"]
    assert comment["needs"] == "synth-and-test"
    assert "needs.synth-and-test.outputs.diff-report" in comment["if"]
    (post,) = comment["steps"]
    assert "gh pr comment" in post["run"] and "--edit-last --create-if-none" in post["run"]
    assert all("uses" not in step for step in comment["steps"])  # no checkout: never runs the PR's code


def test_permissions_are_least(workflow: dict[Any, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    writers = {name: job["permissions"] for name, job in workflow["jobs"].items() if "permissions" in job}
    assert writers == {"diff-comment": {"pull-requests": "write"}}


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    uses = [line.strip() for line in WORKFLOW_PATH.read_text().splitlines() if "uses:" in line]
    assert uses
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line


def test_ci_run_is_the_readmes_test_command() -> None:
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "make test"
    assert [command for command in commands if "make" in command or "pytest" in command] == ["make test"]
    assert "make test    # everything CI checks" in (ROOT / "README.md").read_text()


def test_dependabot_watches_pip_npm_and_the_actions() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    ecosystems = {(update["package-ecosystem"], update["directory"]) for update in config["updates"]}
    assert {("pip", "/"), ("npm", "/"), ("github-actions", "/")} <= ecosystems
