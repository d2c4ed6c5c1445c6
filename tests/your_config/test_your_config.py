"""Your configuration (config/), not the tests' fixture: it loads, and app.py, run as the CDK CLI runs it,
synthesizes it clean (cdk-nag, the template validator and the platform's checks raise on any finding) and
byte-identical to an in-process synth of the same folder (synth is deterministic), and prints no
deprecation warning. The app renders its
pipeline definitions afresh (render cache off) while the in-process synth may read them from the cache:
the cache changes no byte of any template. Run this group alone with `pytest -m your_config`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline_defs import render_cache
from platform_cli.revision_diff import cdk_environment
from platform_config import load_platform
from stacks.platform_stage import build_app
from tests.conftest import ROOT, SAMPLE_CONFIG_DIR

pytestmark = pytest.mark.your_config
# jsii prints `[WARNING] aws-cdk-lib.<type>#<member> is deprecated, ...` once per member and process;
# Python warns `DeprecationWarning: ...`.
DEPRECATION = re.compile(r"is deprecated|DeprecationWarning", re.IGNORECASE)


def _templates(outdir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(outdir)): path.read_bytes()
        for path in sorted(outdir.glob("assembly-*/*.template.json"))
    }


def test_your_configuration_loads() -> None:
    platform = load_platform(SAMPLE_CONFIG_DIR)
    assert platform.environments


def test_app_py_synthesizes_your_configuration_clean_and_byte_identical(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    ours = tmp_path / "in-process"
    app, _ = build_app(load_platform(SAMPLE_CONFIG_DIR), context=cdk_context, outdir=str(ours))
    app.synth()  # raises on any unacknowledged finding
    theirs = tmp_path / "app.py"
    environment = {
        # The Node line the Makefile runs (node_modules/.bin first on PATH), nothing silenced.
        **cdk_environment(),
        # What the CLI hands the app: the output folder and cdk.json's context.
        "CDK_OUTDIR": str(theirs),
        "CDK_CONTEXT_JSON": json.dumps(cdk_context),
        render_cache.DIR_VARIABLE: "",
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
    in_process, from_app = _templates(ours), _templates(theirs)
    assert len(in_process) >= 8
    assert sorted(in_process) == sorted(from_app)
    assert [name for name in in_process if in_process[name] != from_app[name]] == []
    output = result.stdout + result.stderr
    assert [line for line in output.splitlines() if DEPRECATION.search(line)] == []


def test_the_deprecation_pattern_matches_jsii_and_python_warnings() -> None:
    jsii = "[WARNING] aws-cdk-lib.aws_events.CfnEventBusPolicy#principal is deprecated, and will be removed"
    assert DEPRECATION.search(jsii)
    assert DEPRECATION.search("app.py:3: DeprecationWarning: datetime.utcnow() is deprecated")
    assert not DEPRECATION.search("Successfully synthesized to cdk.out")
