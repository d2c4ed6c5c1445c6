"""The README's first-deploy plan is the plan of config/ (the sample it documents)."""

from __future__ import annotations

import re

import pytest

from platform_cli.first_deploy_plan import first_deploy_plan, render
from platform_config import load_platform
from tests.conftest import ROOT, SAMPLE_CONFIG_DIR

pytestmark = pytest.mark.your_config


def test_the_readme_shows_the_plan_of_the_sample() -> None:
    sample_platform = load_platform(SAMPLE_CONFIG_DIR)
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- first-deploy-plan -->\n```text\n(.*?)```\n", readme, re.DOTALL)

    assert block is not None, "README.md has no first-deploy-plan block"
    assert block.group(1) == render(first_deploy_plan(sample_platform), sample_platform)
