"""cdk-nag (AwsSolutions, NIST 800-53 R5) and the template validator gate every synth of every stage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_s3 as s3

from platform_config import PlatformConfig
from stacks.platform_stage import build_app
from tests.conftest import SynthesizedApp


def _plugin_reports(synthesized: SynthesizedApp) -> list[dict[str, Any]]:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    reports: list[dict[str, Any]] = report["pluginReports"]
    return reports


def test_the_synth_report_has_no_unacknowledged_finding(synthesized: SynthesizedApp) -> None:
    reports = _plugin_reports(synthesized)
    assert reports
    for report in reports:
        assert report["violations"] == [], f"{report['pluginName']} has unacknowledged findings"


def test_every_acknowledgement_has_a_reason_next_to_its_resource(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    acknowledged: dict[str, dict[str, str]] = {}
    for path, rules in synthesized.acknowledgements.items():
        # CDK acknowledges some of its own template-validator warnings; ours are the nag packs'.
        ours = {rule: reason for rule, reason in rules.items() if "AwsSolutions-" in rule or "NIST." in rule}
        if ours:
            acknowledged[path] = ours
    assert acknowledged, "expected the documented acknowledgements (IAM wildcards, access-log bucket, ...)"
    for path, rules in acknowledged.items():
        # Never on a whole stack or stage: next to the resource it concerns.
        assert path.count("/") >= 2, f"acknowledgement on {path} is too broad"
        for rule_id, reason in rules.items():
            assert rule_id.removeprefix("Annotation::").startswith(("AwsSolutions-", "NIST.800.53.R5-")), (
                rule_id
            )
            assert len(reason.split()) >= 6, f"{path} {rule_id}: '{reason}' is not a reason"
    # Every environment's stage is checked and carries its acknowledgements.
    assert {path.split("/")[0] for path in acknowledged} == set(sample_platform.environments)


def test_no_acknowledgement_on_a_stage_or_the_app(synthesized: SynthesizedApp) -> None:
    """The assembly records the metadata of the constructs in stacks only: these are checked on the tree."""
    for construct in (synthesized.app, *synthesized.stages.values()):
        kinds = [entry.type for entry in construct.node.metadata]
        assert "aws:cdk:acknowledged-rules" not in kinds, construct.node.path or "the app"


def test_an_unacknowledged_finding_fails_the_synth(
    sample_platform: PlatformConfig, cdk_context: dict[str, Any], tmp_path: Any
) -> None:
    app, stages = build_app(
        sample_platform, environments=["staging"], context=cdk_context, outdir=str(tmp_path)
    )
    # A bucket with no logging, no TLS-only policy and no versioning: several rules of both packs.
    s3.Bucket(stages["staging"].data, "CarelessBucket")
    with pytest.raises(Exception, match="AwsSolutions-S1") as failure:
        app.synth()
    assert "NIST.800.53.R5-S3BucketLoggingEnabled" in str(failure.value)
