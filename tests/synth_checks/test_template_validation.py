"""The template validator outside the jsii kernel, its verdicts cached by template content: the same report as
CDK's built-in validator, on a miss and on a hit; a changed template misses; strict rules still fail."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.shared.compliance import acknowledge
from synth_checks import template_validation
from synth_checks.template_validation import CachedTemplateValidation

STRICT_RULES = "@aws-cdk/core:validateAgainstDefaultRules"
# Stack traces name the jsii kernel's temporary folder, which differs between processes and runs.
KERNEL_FOLDER = re.compile(r"/tmp/jsii-kernel-[^/]+/")


def _app(outdir: Path, *, cached: bool, status: str = "Sometimes", strict: bool = False) -> cdk.App:
    """Two stacks in two accounts, a bucket in each: an enum value the validator warns about (W3030), and with
    `strict`, the strict-rules flag and an error (F1020, a GetAtt of a resource that does not exist)."""
    app = cdk.App(
        outdir=str(outdir),
        context={STRICT_RULES: True} if strict else None,
        builtin_cloud_formation_validation=not cached,
    )
    for name, account in (("One", "444455556666"), ("Two", "777788889999")):
        stack = cdk.Stack(app, name, env=cdk.Environment(account=account, region="eu-west-1"))
        bucket = cdk.CfnResource(
            stack,
            "Bucket",
            type="AWS::S3::Bucket",
            properties={
                "VersioningConfiguration": {"Status": status},
                **({"BucketName": {"Fn::GetAtt": ["Missing", "Arn"]}} if strict else {}),
            },
        )
        # Acknowledged, the warning stays in the report (suppressed) but is not printed: the jsii kernel's
        # stderr reaches Python late, into whichever test of this worker runs next.
        acknowledge(bucket, "CloudFormation-Validate::W3030", "the warning this test compares, not printed")
    if cached:
        cdk.Validations.of(app).add_plugins(CachedTemplateValidation())
    return app


def _report(outdir: Path) -> Any:
    text = (outdir / "validation-report.json").read_text()
    return json.loads(KERNEL_FOLDER.sub("/tmp/jsii-kernel/", text))


@pytest.fixture
def node_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """The number of templates each Node run validated; the cache in tmp_path."""
    monkeypatch.setenv(template_validation.DIR_VARIABLE, str(tmp_path / "cache"))
    runs: list[int] = []
    validate = template_validation.validate_in_node

    def counted(stacks: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        runs.append(len(stacks))
        return validate(stacks)

    monkeypatch.setattr(template_validation, "validate_in_node", counted)
    return runs


def test_the_report_is_the_builtin_validators_on_a_miss_and_on_a_hit(
    tmp_path: Path, node_runs: list[int]
) -> None:
    _app(tmp_path / "builtin", cached=False).synth()
    _app(tmp_path / "miss", cached=True).synth()
    _app(tmp_path / "hit", cached=True).synth()
    assert node_runs == [2]
    builtin = _report(tmp_path / "builtin")
    assert [report["pluginName"] for report in builtin["pluginReports"]] == ["CloudFormation Validate"]
    assert "W3030" in json.dumps(builtin)
    assert _report(tmp_path / "miss") == builtin
    assert _report(tmp_path / "hit") == builtin


def test_a_changed_template_misses_and_the_others_hit(tmp_path: Path, node_runs: list[int]) -> None:
    _app(tmp_path / "first", cached=True).synth()
    _app(tmp_path / "changed", cached=True, status="Enabled").synth()
    assert node_runs == [2, 2]
    _app(tmp_path / "again", cached=True, status="Enabled").synth()
    assert node_runs == [2, 2]
    assert "W3030" not in json.dumps(_report(tmp_path / "again"))


def test_strict_rules_fail_the_synth_on_a_miss_and_on_a_hit(tmp_path: Path, node_runs: list[int]) -> None:
    for folder in ("miss", "hit"):
        with pytest.raises(RuntimeError, match="F1020"):
            _app(tmp_path / folder, cached=True, strict=True).synth()
    assert node_runs == [2]


def test_an_empty_setting_validates_every_time(
    tmp_path: Path, node_runs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(template_validation.DIR_VARIABLE, "")
    _app(tmp_path / "first", cached=True).synth()
    _app(tmp_path / "second", cached=True).synth()
    assert node_runs == [2, 2]
    assert not (tmp_path / "cache").exists()


def test_cdk_validation_false_turns_it_off_as_it_does_cdks_own(monkeypatch: pytest.MonkeyPatch) -> None:
    assert template_validation.enabled()
    monkeypatch.setenv("CDK_VALIDATION", "false")
    assert not template_validation.enabled()


def test_one_node_process_serves_the_misses_of_a_process_and_a_dead_one_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(template_validation.DIR_VARIABLE, "")
    validator = template_validation._VALIDATOR
    _app(tmp_path / "first", cached=True).synth()
    process = validator._process
    assert process is not None
    _app(tmp_path / "second", cached=True, status="Enabled").synth()
    assert validator._process is process
    process.kill()
    process.wait()
    _app(tmp_path / "third", cached=True).synth()
    assert validator._process is not None and validator._process is not process
    assert _report(tmp_path / "third") == _report(tmp_path / "first")
