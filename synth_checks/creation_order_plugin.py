"""The creation-order check as a CDK validation plugin: registered on the app, it fails every synth
(`cdk synth '**'`, `app.synth()`) that has a literal reference without a dependency."""

from __future__ import annotations

import aws_cdk as cdk
import jsii

from synth_checks.creation_order import read_stage_assembly, unordered_references
from synth_checks.stage_assembly import stage_manifests

RULE_NAME = "CreationOrder-LiteralReferenceWithoutDependency"


@jsii.implements(cdk.IPolicyValidationPlugin)
class CreationOrderChecks:
    """Reports every resource that names another of its Stage by a literal and does not depend on it.

    The plugin receives the template paths of the Stage(s) it checks; each Stage's assembly folder holds
    the manifest with its stacks' environments and dependencies, which are read beside the templates.
    """

    @property
    def name(self) -> str:
        return "CreationOrderChecks"

    @property
    def version(self) -> str | None:
        return "1.0.0"

    @property
    def rule_ids(self) -> list[str] | None:
        return [RULE_NAME]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        violations = [
            cdk.PolicyViolation(
                rule_name=RULE_NAME,
                description=reference.message(),
                fix=(
                    f"make {reference.construct_path} depend on {reference.referred_construct_path}: "
                    "`node.add_dependency(...)` in the construct for the same stack, or a stack dependency "
                    "in stacks/platform_stage.py for another stack of the Stage"
                ),
                violating_resources=[
                    cdk.PolicyViolatingResource(
                        resource_logical_id=reference.logical_id,
                        template_path=str(reference.stack.template_path),
                        locations=[reference.location],
                    )
                ],
            )
            for manifest in stage_manifests(context)
            for reference in unordered_references(read_stage_assembly(manifest))
        ]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)
