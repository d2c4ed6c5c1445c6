"""app.py, run as the CDK CLI runs it, writes byte-identical templates to the tests' synth of the same
commit (the tests check what is deployed, and synth is deterministic), and prints no deprecation warning."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from platform_cli.revision_diff import cdk_environment
from tests.conftest import ROOT, SynthesizedApp

# jsii prints `[WARNING] aws-cdk-lib.<type>#<member> is deprecated, ...` once per member and process;
# Python warns `DeprecationWarning: ...`.
DEPRECATION = re.compile(r"is deprecated|DeprecationWarning", re.IGNORECASE)


@dataclass(frozen=True)
class AppRun:
    result: subprocess.CompletedProcess[str]
    outdir: Path


@pytest.fixture(scope="module")
def app_run(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> AppRun:
    outdir = tmp_path_factory.mktemp("app-py-out")
    environment = {
        **cdk_environment(),
        # What the CLI hands the app: the output folder and cdk.json's context.
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(cdk_context),
    }
    environment.pop("PLATFORM_ENVIRONMENTS", None)
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return AppRun(result, outdir)


def _templates(outdir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(outdir)): path.read_bytes()
        for path in sorted(outdir.glob("assembly-*/*.template.json"))
    }


def test_app_py_synth_is_byte_identical_to_the_test_synth(
    synthesized: SynthesizedApp, app_run: AppRun
) -> None:
    ours, theirs = _templates(synthesized.outdir), _templates(app_run.outdir)
    assert len(ours) >= 8
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []


def test_synth_prints_no_deprecation_warning(app_run: AppRun) -> None:
    output = app_run.result.stdout + app_run.result.stderr
    assert [line for line in output.splitlines() if DEPRECATION.search(line)] == []


def test_the_deprecation_pattern_matches_jsii_and_python_warnings() -> None:
    jsii = "[WARNING] aws-cdk-lib.aws_events.CfnEventBusPolicy#principal is deprecated, and will be removed"
    assert DEPRECATION.search(jsii)
    assert DEPRECATION.search("app.py:3: DeprecationWarning: datetime.utcnow() is deprecated")
    assert not DEPRECATION.search("Successfully synthesized to cdk.out")
