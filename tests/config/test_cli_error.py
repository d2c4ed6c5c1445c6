"""`python app.py` with a bad configuration prints every problem and exits 2, without a traceback.

app.py reads config/ next to itself, so the app is copied with a bad config/ folder into tmp_path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from platform_cli.revision_diff import cdk_environment
from tests.conftest import CONFIG_DIR, ROOT

APP_FILES = ("app.py", "cdk.json")
APP_PACKAGES = (
    "platform_config",
    "stacks",
    "constructs_lib",
    "k8s_manifests",
    "synth_checks",
    "pipeline_defs",
    "functions",
    "notebooks",  # the scheduled notebooks the configuration names
)


def _copy_app(target: Path) -> Path:
    for file in APP_FILES:
        shutil.copy(ROOT / file, target / file)
    for package in APP_PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(CONFIG_DIR, target / "config")
    return target / "config"


def _run_app(cwd: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in cdk_environment().items()
        if key not in {"PYTHONPATH", "PLATFORM_ENVIRONMENTS"}
    }
    env.update(**extra_env)
    return subprocess.run(
        [sys.executable, "app.py"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_bad_configuration_exits_2_with_every_problem(tmp_path: Path) -> None:
    config_dir = _copy_app(tmp_path)
    dev_path = config_dir / "dev.yaml"
    dev = yaml.safe_load(dev_path.read_text())
    dev["studio"]["domains"][0]["users"][1]["name"] = "bob_b"
    dev_path.write_text(yaml.safe_dump(dev, sort_keys=False))
    prod_path = config_dir / "prod.yaml"
    prod_path.write_text(prod_path.read_text().replace("region: eu-west-1", "region: eu-west-9"))

    result = _run_app(tmp_path)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "invalid platform configuration (2 problem(s))" in result.stderr
    assert (
        "  - config/dev.yaml: studio.domains[0].users[1].name: 'bob_b' is not a valid SageMaker name"
        in result.stderr
    ), result.stderr
    assert "  - config/prod.yaml: region: unknown region 'eu-west-9'" in result.stderr, result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "cdk.out").exists()


def test_unconfigured_environment_requested_exits_2(tmp_path: Path) -> None:
    _copy_app(tmp_path)

    result = _run_app(tmp_path, PLATFORM_ENVIRONMENTS="dev,qa")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "invalid platform configuration (1 problem(s))" in result.stderr
    assert "environment 'qa' has no configuration file config/qa.yaml; configured: dev, prod, staging" in (
        result.stderr
    )
