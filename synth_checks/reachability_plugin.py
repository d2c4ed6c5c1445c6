"""The reachability check as a CDK validation plugin: registered on the app, it fails every synth
(`cdk synth '**'`, `app.synth()`) where compute in the platform's subnets calls an API it cannot reach."""

from __future__ import annotations

import aws_cdk as cdk
import jsii

from synth_checks.reachability import check_stage
from synth_checks.stage_assembly import stage_manifests

RULE_NAME = "Reachability-ServiceWithoutEndpointOrNat"


@jsii.implements(cdk.IPolicyValidationPlugin)
class ReachabilityChecks:
    """Reports every compute resource whose subnets reach neither a NAT gateway nor an endpoint of a
    service its kind calls (synth_checks/reachability.py `COMPUTE_CALLS`), and every Lambda function in the
    subnets whose kind is not declared. Compute in subnets the Stage does not create is not judged."""

    @property
    def name(self) -> str:
        return "ReachabilityChecks"

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
                description=finding.message(),
                fix=finding.fix(),
                violating_resources=[
                    cdk.PolicyViolatingResource(
                        resource_logical_id=finding.compute.logical_id,
                        template_path=str(finding.compute.stack.template_path),
                        locations=[finding.service or "Metadata"],
                    )
                ],
            )
            for manifest in stage_manifests(context)
            for finding in check_stage(manifest).unreachable
        ]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)
