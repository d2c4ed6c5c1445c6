"""The suite does not depend on the sample configuration's placeholders: adopters replace config/ first.

Tests build from tests/fixtures/config (the sample's shape under account ids of its own); only the
`your_config` group reads config/. Whatever placeholder account ids config/ still holds, no other test
file names them, and no other test reads config/ by its constant.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIG_DIR, ROOT, SAMPLE_CONFIG_DIR

TESTS_DIR = ROOT / "tests"
# Where the sample may appear: the group that checks it, the fixture configuration, and this file.
ALLOWED = (TESTS_DIR / "your_config", TESTS_DIR / "fixtures", Path(__file__))


def _account_ids(folder: Path) -> set[str]:
    return {str(yaml.safe_load(path.read_text())["account_id"]) for path in sorted(folder.glob("*.yaml"))}


def _test_files() -> list[Path]:
    return [
        path
        for path in sorted(TESTS_DIR.rglob("*"))
        if path.is_file()
        and path.suffix in {".py", ".yaml", ".yml", ".json"}
        and "__pycache__" not in path.parts
        and not any(path == allowed or allowed in path.parents for allowed in ALLOWED)
    ]


def test_the_fixture_configuration_shares_no_account_id_with_the_sample() -> None:
    sample, fixture = _account_ids(SAMPLE_CONFIG_DIR), _account_ids(CONFIG_DIR)
    assert sample and len(fixture) == len(sample)
    assert sample & fixture == set()


def _placeholder_account_ids(folder: Path) -> set[str]:
    """The placeholder ids (twelve equal digits, as the shipped sample has) a config folder still holds: an
    adopter's real ids are theirs to use anywhere, e.g. moto's 123456789012."""
    return {account for account in _account_ids(folder) if len(set(account)) == 1}


def test_no_test_names_a_placeholder_account_id_of_config() -> None:
    sample = _placeholder_account_ids(SAMPLE_CONFIG_DIR)
    if not sample:
        pytest.skip("config/ holds no placeholder account id: nothing a test could have copied")
    # As an id, not as digits inside a longer number or as the last group of a key's UUID.
    pattern = re.compile(
        r"(?<!\d{4}-)(?<!\d)(" + "|".join(re.escape(account) for account in sorted(sample)) + r")(?!\d)"
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _test_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_only_the_your_config_group_reads_config() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _test_files()
        if path.suffix == ".py"
        and path != TESTS_DIR / "conftest.py"
        and re.search(r"\bSAMPLE_CONFIG_DIR\b", path.read_text())
    ]
    assert offenders == []
