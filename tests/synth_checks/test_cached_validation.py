"""The template validator behind its cache: a hit reports what the validator reported (a finding still fails
the synth), a changed template or flag misses, and the plugin is the built-in one by name and version."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from synth_checks import cached_validation
from synth_checks.cached_validation import CachedCloudFormationValidation

UNEXPECTED_PROPERTY = "CloudFormation-Validate::F3002"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "validation-cache"
    monkeypatch.setenv(cached_validation.DIR_VARIABLE, str(folder))
    return folder


def _synth(outdir: Path, *, bad_property: str | None = None, strict: bool = True) -> None:
    """One stack with a bucket, optionally with a property the bucket's schema does not have."""
    app = cdk.App(
        outdir=str(outdir),
        context={cached_validation.STRICT_RULES_CONTEXT: strict},
        builtin_cloud_formation_validation=False,
    )
    cdk.Validations.of(app).add_plugins(CachedCloudFormationValidation())
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    bucket = s3.CfnBucket(stack, "Bucket")
    if bad_property is not None:
        bucket.add_property_override(bad_property, 1)
    app.synth()


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_the_plugin_is_the_built_in_validator_by_name_and_version() -> None:
    built_in = cdk.CloudFormationValidatePlugin()
    assert (
        built_in.name,
        built_in.version,
    ) == (cached_validation.VALIDATOR_NAME, cached_validation.VALIDATOR_VERSION)


def test_a_finding_fails_the_synth_on_a_miss_and_on_a_hit(cache: Path, tmp_path: Path) -> None:
    for attempt in ("miss", "hit"):
        with pytest.raises(RuntimeError, match="ValidationFailed"):
            _synth(tmp_path / attempt, bad_property="NotAProperty")
        report = json.loads((tmp_path / attempt / "validation-report.json").read_text())
        rules = [
            violation["ruleName"]
            for plugin in report["pluginReports"]
            for violation in plugin["violations"]
            if violation["severity"] == "error"
        ]
        assert rules == ["F3002"], attempt
        # The construct path is derived from the cached logical id and template path, as on a miss.
        (violation,) = report["pluginReports"][0]["violations"]
        assert [c["constructPath"] for c in violation["violatingConstructs"]] == ["Test/Bucket"]
    assert len(_entries(cache)) == 1


def test_a_hit_returns_the_stored_report(cache: Path, tmp_path: Path) -> None:
    _synth(tmp_path / "first")
    (entry,) = _entries(cache)
    stored = json.loads(entry.read_text())
    assert stored["success"] is True
    stored["success"] = False
    stored["violations"] = [
        {
            "rule_name": "E9999",
            "description": "planted in the cache",
            "fix": None,
            "severity": "error",
            "rule_metadata": {},
            "violating_resources": [
                {
                    "locations": ["Properties"],
                    "construct_path": None,
                    "resource_logical_id": "Bucket",
                    "template_path": "Test.template.json",
                }
            ],
        }
    ]
    entry.write_text(json.dumps(stored))
    with pytest.raises(RuntimeError, match="planted in the cache"):
        _synth(tmp_path / "second")


def test_a_changed_template_or_flag_misses(cache: Path, tmp_path: Path) -> None:
    _synth(tmp_path / "plain")
    _synth(tmp_path / "plain-again")
    assert len(_entries(cache)) == 1
    _synth(tmp_path / "lenient", strict=False)
    assert len(_entries(cache)) == 2
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        _synth(tmp_path / "changed", bad_property="NotAProperty")
    assert len(_entries(cache)) == 3


def test_an_empty_folder_setting_validates_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cached_validation.DIR_VARIABLE, "")
    assert cached_validation.cache_dir() is None
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        _synth(tmp_path / "uncached", bad_property="NotAProperty")
