"""CDK's built-in CloudFormation template validator, its report kept on disk by the content of the templates.

The validator is most of a synth's cost (about two thirds of the CPU of `cdk synth '**'` on the sample,
measured) and its report is a function of the templates it reads: a synth whose templates did not change
(a second `make synth`, the tests' synth of the same commit, a variation that leaves most stages alone)
reads the report back instead of validating again. The key covers every template's path in the assembly
and its bytes, aws-cdk-lib's version, the validator's version and the context flag that makes its default
rules errors; anything else misses. Acknowledgements apply after the report, as for the built-in plugin (the
same name, so the same `CloudFormation-Validate::<rule>` ids). The app turns the auto-registered validator
off and registers this one (`build_app`).

PLATFORM_VALIDATION_CACHE_DIR moves the folder (default `.cache/template-validation` in the checkout);
an empty string validates every time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
import jsii

DEFAULT_DIR: Final = Path(__file__).resolve().parent.parent / ".cache" / "template-validation"
DIR_VARIABLE: Final = "PLATFORM_VALIDATION_CACHE_DIR"
STRICT_RULES_CONTEXT: Final = "@aws-cdk/core:validateAgainstDefaultRules"
# Bump when the layout of an entry changes.
FORMAT: Final = "1"
# The built-in plugin's name and version (a test compares them): constructing it costs seconds of Node time
# (its rules load), so a hit never does. The name makes the acknowledgement ids, `CloudFormation-Validate::*`.
VALIDATOR_NAME: Final = "CloudFormation Validate"
VALIDATOR_VERSION: Final = "1.12.1"


def cache_dir() -> Path | None:
    configured = os.environ.get(DIR_VARIABLE)
    if configured is None:
        return DEFAULT_DIR
    return Path(configured) if configured else None


@functools.cache
def _library_version() -> str:
    return importlib.metadata.version("aws-cdk-lib")


def _resource_json(resource: cdk.PolicyViolatingResource, root: Path) -> dict[str, Any]:
    template = resource.template_path
    return {
        "locations": list(resource.locations),
        "construct_path": resource.construct_path,
        "resource_logical_id": resource.resource_logical_id,
        # Relative: the same templates in another output folder hit the same entry.
        "template_path": None if template is None else os.path.relpath(template, root),
    }


def _report_json(report: cdk.PolicyValidationPluginReport, root: Path) -> dict[str, Any]:
    return {
        "success": report.success,
        "metadata": dict(report.metadata or {}),
        "plugin_version": report.plugin_version,
        "violations": [
            {
                "rule_name": violation.rule_name,
                "description": violation.description,
                "fix": violation.fix,
                "severity": violation.severity,
                "rule_metadata": dict(violation.rule_metadata or {}),
                "violating_resources": [
                    _resource_json(resource, root) for resource in violation.violating_resources
                ],
            }
            for violation in report.violations
        ],
    }


def _report(data: dict[str, Any], root: Path) -> cdk.PolicyValidationPluginReport:
    return cdk.PolicyValidationPluginReport(
        success=data["success"],
        metadata=data["metadata"] or None,
        plugin_version=data["plugin_version"],
        violations=[
            cdk.PolicyViolation(
                rule_name=violation["rule_name"],
                description=violation["description"],
                fix=violation["fix"],
                severity=violation["severity"],
                rule_metadata=violation["rule_metadata"] or None,
                violating_resources=[
                    cdk.PolicyViolatingResource(
                        locations=resource["locations"],
                        construct_path=resource["construct_path"],
                        resource_logical_id=resource["resource_logical_id"],
                        template_path=None
                        if resource["template_path"] is None
                        else str(root / resource["template_path"]),
                    )
                    for resource in violation["violating_resources"]
                ],
            )
            for violation in data["violations"]
        ],
    )


@jsii.implements(cdk.IPolicyValidationPlugin)
class CachedCloudFormationValidation:
    """`cdk.CloudFormationValidatePlugin` (default rules included), its report cached by template content;
    the plugin is constructed only on a miss."""

    @property
    def name(self) -> str:
        return VALIDATOR_NAME

    @property
    def version(self) -> str | None:
        return VALIDATOR_VERSION

    @property
    def rule_ids(self) -> list[str] | None:
        # Optional (analytics); the built-in plugin's list would need the plugin constructed.
        return None

    @staticmethod
    def _validate(context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        return cdk.CloudFormationValidatePlugin().validate(context)

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        directory = cache_dir()
        paths = sorted(Path(path) for path in context.template_paths)
        if directory is None or not paths:
            return self._validate(context)
        root = Path(os.path.commonpath([path.parent for path in paths]))
        digest = hashlib.sha256()
        strict = context.app_construct.node.try_get_context(STRICT_RULES_CONTEXT)
        digest.update(f"{FORMAT}\0{_library_version()}\0{self.version}\0{strict!r}\0".encode())
        for path in paths:
            digest.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
        entry = directory / f"{digest.hexdigest()}.json"
        try:
            return _report(json.loads(entry.read_text(encoding="utf-8")), root)
        except FileNotFoundError:
            pass
        report = self._validate(context)
        directory.mkdir(parents=True, exist_ok=True)
        # Atomic: parallel test workers and synths share the folder.
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, prefix=".entry-", suffix=".tmp", delete=False
        ) as partial:
            json.dump(_report_json(report, root), partial)
        Path(partial.name).replace(entry)
        return report
