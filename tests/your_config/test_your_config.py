"""app.py, run as the CDK CLI runs it, writes byte-identical templates to the tests' synth of the same
commit: the tests check what is deployed, and synth is deterministic. The app renders its pipeline
definitions afresh (render cache off) while the tests' synth may read them from the cache: the cache
changes no byte of any template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pipeline_defs import render_cache
from tests.conftest import ROOT, SynthesizedApp


def _templates(outdir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(outdir)): path.read_bytes()
        for path in sorted(outdir.glob("assembly-*/*.template.json"))
    }


def test_app_py_synth_is_byte_identical_to_the_test_synth(
    synthesized: SynthesizedApp, cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    environment = {
        **os.environ,
        # What the CLI hands the app: the output folder and cdk.json's context.
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps(cdk_context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
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
    ours, theirs = _templates(synthesized.outdir), _templates(tmp_path)
    assert len(ours) >= 8
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []
