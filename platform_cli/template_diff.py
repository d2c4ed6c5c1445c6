"""Offline diff of two synthesized cloud assemblies: what each stack adds, removes, modifies and replaces.

Pure functions over `cdk.out` directories; nothing here calls AWS or imports aws_cdk. Whether a change
replaces a resource is judged from the `createOnlyProperties` of the CloudFormation resource schemas that
cfn-lint ships (read lazily, once per type). A change is dangerous when it removes or replaces a resource
that holds data (see STATEFUL_TYPES); a removal under `DeletionPolicy: Retain` only orphans the resource, so
it is reported as kept instead.

Limits: only the `Resources` section is compared (not Parameters, Outputs or Rules), the `Metadata` attribute
and the `AWS::CDK::Metadata` resource are ignored, and a replacement is not propagated to resources that
reference the replaced one (CloudFormation may replace those too when the reference is create-only).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

Template = dict[str, Any]
Assembly = dict[str, dict[str, Template]]
ChangesByStack = Mapping[str, Mapping[str, Sequence["ResourceChange"]]]
CreateOnlyLookup = Callable[[str], tuple[str, ...]]

MANIFEST = "manifest.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
NESTED_ASSEMBLY_PREFIX = "assembly-"
TEMPLATE_SUFFIX = ".template.json"
# Stacks defined outside any Stage (directly in the app) are listed under this environment name.
ROOT_ENVIRONMENT = "(app)"

IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})
# Resource attributes compared besides Properties (Metadata only carries CDK paths and hints).
COMPARED_ATTRIBUTES = ("Condition", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy", "UpdatePolicy")
RETAIN_POLICIES = frozenset({"Retain", "RetainExceptOnCreate"})
LOG_GROUP = "AWS::Logs::LogGroup"
# Types whose removal or replacement loses data (or, for a KMS key, the ability to read it). A log group
# counts only when it sets RetentionInDays: someone chose to keep those logs for a while.
STATEFUL_TYPES: Mapping[str, str] = {
    "AWS::SageMaker::Domain": "Studio domain (home EFS volume, user and space state)",
    "AWS::SageMaker::UserProfile": "Studio user profile (the user's apps and settings)",
    "AWS::SageMaker::Space": "Studio space (its storage volume)",
    "AWS::S3::Bucket": "S3 bucket (its objects)",
    "AWS::KMS::Key": "KMS key (data encrypted with it becomes unreadable)",
    "AWS::ECR::Repository": "ECR repository (its images)",
    "AWS::SageMaker::ModelPackageGroup": "model package group (registered model versions)",
    LOG_GROUP: "log group with retention (its log events)",
}


class AssemblyError(ValueError):
    """A cloud assembly directory that cannot be read (no templates, a missing or broken file)."""


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"
    REPLACED = "replaced"


@dataclass(frozen=True)
class ResourceChange:
    """One resource of a stack that differs between the base and the head template.

    `properties` names the changed top-level properties (and, prefixed with `@`, changed resource
    attributes such as `@DeletionPolicy`); `replacing` lists the create-only schema paths whose values
    differ, which is what makes a change a replacement. `before` and `after` are the resource definitions.
    """

    kind: ChangeKind
    logical_id: str
    resource_type: str
    properties: tuple[str, ...] = ()
    replacing: tuple[str, ...] = ()
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


# --- reading cloud assemblies -------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise AssemblyError(f"{path} does not exist") from error
    except (OSError, ValueError) as error:
        raise AssemblyError(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise AssemblyError(f"{path} does not hold a JSON object")
    return data


def _stacks_in(directory: Path, environment: str) -> tuple[dict[str, Template], dict[str, Path]]:
    """Templates of the stacks listed in one manifest, keyed by display name, and its nested assemblies."""
    manifest_path = directory / MANIFEST
    stacks: dict[str, Template] = {}
    nested: dict[str, Path] = {}
    if not manifest_path.is_file():
        for template_path in sorted(directory.glob(f"*{TEMPLATE_SUFFIX}")):
            stack = template_path.name.removesuffix(TEMPLATE_SUFFIX)
            stacks[f"{environment}/{stack}" if environment != ROOT_ENVIRONMENT else stack] = _read_json(
                template_path
            )
        for child in sorted(directory.glob(f"{NESTED_ASSEMBLY_PREFIX}*")):
            if child.is_dir():
                nested[child.name.removeprefix(NESTED_ASSEMBLY_PREFIX)] = child
        return stacks, nested
    artifacts = _read_json(manifest_path).get("artifacts", {})
    for artifact_id, artifact in artifacts.items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == STACK_ARTIFACT:
            template_file = properties.get("templateFile", f"{artifact_id}{TEMPLATE_SUFFIX}")
            name = artifact.get("displayName") or artifact_id
            stacks[name] = _read_json(directory / template_file)
        elif artifact.get("type") == NESTED_ASSEMBLY_ARTIFACT:
            child_name = properties.get("directoryName", artifact_id)
            display = properties.get("displayName") or child_name.removeprefix(NESTED_ASSEMBLY_PREFIX)
            nested[display] = directory / child_name
    return stacks, nested


def load_assembly(cdk_out: Path) -> Assembly:
    """The templates of a cloud assembly, keyed by environment (the Stage) and stack display name.

    Stacks of a nested assembly `assembly-dev` are listed under `dev` as `dev/Data`; stacks defined at the
    app's root go under ROOT_ENVIRONMENT. Without manifests, `*.template.json` files and `assembly-*`
    folders are used instead.
    """
    if not cdk_out.is_dir():
        raise AssemblyError(f"{cdk_out} is not a directory")
    root_stacks, nested = _stacks_in(cdk_out, ROOT_ENVIRONMENT)
    assembly: Assembly = {}
    if root_stacks:
        assembly[ROOT_ENVIRONMENT] = root_stacks
    for environment, directory in nested.items():
        stacks, _ = _stacks_in(directory, environment)
        assembly[environment] = stacks
    if not any(assembly.values()):
        raise AssemblyError(f"{cdk_out} holds no stack templates: is it a synthesized cdk.out?")
    return assembly


# --- create-only properties -----------------------------------------------------------------------------


@cache
def _schema_directory() -> Path:
    import cfnlint.data.schemas  # noqa: PLC0415 - cfn-lint is imported only when a schema is needed

    return Path(cfnlint.data.schemas.__file__).parent


@cache
def _providers() -> Mapping[str, str]:
    providers: dict[str, str] = json.loads((_schema_directory() / "providers" / "us-east-1.json").read_text())
    return providers


@cache
def create_only_paths(resource_type: str) -> tuple[str, ...]:
    """The schema's createOnlyProperties of a type, e.g. `/properties/KmsKeyId`; () for unknown types."""
    schema_name = _providers().get(resource_type)
    if schema_name is None:
        return ()
    schema = json.loads((_schema_directory() / "resources" / f"{schema_name}.json").read_text())
    paths: list[str] = schema.get("createOnlyProperties", [])
    return tuple(paths)


# --- comparing templates --------------------------------------------------------------------------------


def _values_at(value: Any, parts: Sequence[str]) -> list[Any]:
    """Values found at a schema path below `value` (`*` stands for every item of a list)."""
    if not parts:
        return [value]
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(value, list):
            return [found for item in value for found in _values_at(item, rest)]
        return [] if value is None else [value]
    if isinstance(value, dict) and head in value:
        return _values_at(value[head], rest)
    return []


def _replacing_paths(
    resource_type: str, before: Mapping[str, Any], after: Mapping[str, Any], lookup: CreateOnlyLookup
) -> tuple[str, ...]:
    replacing = []
    for path in lookup(resource_type):
        parts = path.split("/")
        if parts[:2] != ["", "properties"] or len(parts) < 3:
            continue
        if _values_at(before, parts[2:]) != _values_at(after, parts[2:]):
            replacing.append(path.removeprefix("/properties/"))
    return tuple(replacing)


def _compare(
    logical_id: str, before: Mapping[str, Any], after: Mapping[str, Any], lookup: CreateOnlyLookup
) -> ResourceChange | None:
    old_type = str(before.get("Type", ""))
    new_type = str(after.get("Type", ""))
    old_properties: Mapping[str, Any] = before.get("Properties") or {}
    new_properties: Mapping[str, Any] = after.get("Properties") or {}
    if old_type != new_type:
        # CloudFormation refuses to change a type in place; deploying it means replacing the resource.
        return ResourceChange(
            ChangeKind.REPLACED, logical_id, new_type, ("@Type",), ("Type",), before=before, after=after
        )
    changed = tuple(
        sorted(
            key
            for key in old_properties.keys() | new_properties.keys()
            if old_properties.get(key) != new_properties.get(key)
        )
    ) + tuple(f"@{name}" for name in COMPARED_ATTRIBUTES if before.get(name) != after.get(name))
    if not changed:
        return None
    replacing = _replacing_paths(new_type, old_properties, new_properties, lookup)
    kind = ChangeKind.REPLACED if replacing else ChangeKind.MODIFIED
    return ResourceChange(kind, logical_id, new_type, changed, replacing, before=before, after=after)


def diff_templates(
    base: Mapping[str, Any], head: Mapping[str, Any], *, lookup: CreateOnlyLookup = create_only_paths
) -> list[ResourceChange]:
    """The resource changes from `base` to `head` (two CloudFormation templates), sorted by logical id."""
    old: Mapping[str, Mapping[str, Any]] = base.get("Resources") or {}
    new: Mapping[str, Mapping[str, Any]] = head.get("Resources") or {}
    changes: list[ResourceChange] = []
    for logical_id in sorted(old.keys() | new.keys()):
        before, after = old.get(logical_id), new.get(logical_id)
        resource_type = str((after or before or {}).get("Type", ""))
        if resource_type in IGNORED_TYPES:
            continue
        if before is None and after is not None:
            changes.append(ResourceChange(ChangeKind.ADDED, logical_id, resource_type, after=after))
        elif after is None and before is not None:
            changes.append(ResourceChange(ChangeKind.REMOVED, logical_id, resource_type, before=before))
        elif before is not None and after is not None:
            change = _compare(logical_id, before, after, lookup)
            if change is not None:
                changes.append(change)
    return changes


def diff_assemblies(
    base: Assembly, head: Assembly, *, lookup: CreateOnlyLookup = create_only_paths
) -> dict[str, dict[str, list[ResourceChange]]]:
    """Changes per environment and stack; a stack only on one side is wholly added or removed.

    Stacks without changes are left out, and so are environments without changed stacks.
    """
    result: dict[str, dict[str, list[ResourceChange]]] = {}
    for environment in sorted(base.keys() | head.keys()):
        base_stacks, head_stacks = base.get(environment, {}), head.get(environment, {})
        for stack in sorted(base_stacks.keys() | head_stacks.keys()):
            changes = diff_templates(base_stacks.get(stack, {}), head_stacks.get(stack, {}), lookup=lookup)
            if changes:
                result.setdefault(environment, {})[stack] = changes
    return result


# --- judging changes ------------------------------------------------------------------------------------


def _is_stateful(resource_type: str, definition: Mapping[str, Any] | None) -> bool:
    if resource_type not in STATEFUL_TYPES:
        return False
    if resource_type == LOG_GROUP:
        properties: Mapping[str, Any] = (definition or {}).get("Properties") or {}
        return "RetentionInDays" in properties
    return True


def is_retained(change: ResourceChange) -> bool:
    """A removal CloudFormation carries out by orphaning the resource (DeletionPolicy Retain)."""
    return (
        change.kind is ChangeKind.REMOVED and (change.before or {}).get("DeletionPolicy") in RETAIN_POLICIES
    )


def dangerous(change: ResourceChange) -> str | None:
    """Why a change loses data (a stateful resource removed or replaced), or None when it does not."""
    if change.kind is ChangeKind.REMOVED:
        if is_retained(change) or not _is_stateful(change.resource_type, change.before):
            return None
        return f"deletes the {STATEFUL_TYPES[change.resource_type]}"
    if change.kind is ChangeKind.REPLACED and _is_stateful(change.resource_type, change.before):
        reason = (
            f"replaces the {STATEFUL_TYPES[change.resource_type]} because create-only "
            f"{', '.join(change.replacing)} changed: the new one starts empty"
        )
        if (change.before or {}).get("UpdateReplacePolicy") in RETAIN_POLICIES:
            reason += " (the old one is kept, UpdateReplacePolicy Retain)"
        return reason
    return None


def note(change: ResourceChange) -> str | None:
    """What a reviewer should know besides danger: a retained removal, or why a replacement happens."""
    if is_retained(change) and change.before is not None:
        return f"orphaned, data kept (DeletionPolicy {change.before['DeletionPolicy']})"
    if change.kind is ChangeKind.REPLACED:
        return f"create-only: {', '.join(change.replacing)}"
    return None


def dangerous_changes(changes_by_stack: ChangesByStack) -> list[tuple[str, ResourceChange, str]]:
    """(stack, change, reason) of every dangerous change."""
    return [
        (stack, change, reason)
        for stacks in changes_by_stack.values()
        for stack, changes in stacks.items()
        for change in changes
        if (reason := dangerous(change)) is not None
    ]


# --- rendering ------------------------------------------------------------------------------------------

_TEXT_MARKS = {
    ChangeKind.ADDED: "+",
    ChangeKind.REMOVED: "-",
    ChangeKind.MODIFIED: "~",
    ChangeKind.REPLACED: "!",
}


def render_text(changes_by_stack: ChangesByStack, *, acknowledgement: str | None = None) -> str:
    """A plain-text report: one block per environment and stack, dangerous changes marked DANGER."""
    if not any(changes_by_stack.values()):
        return "No resource changes.\n"
    lines: list[str] = []
    for environment, stacks in changes_by_stack.items():
        lines.append(f"Environment {environment}")
        for stack, changes in stacks.items():
            lines.append(f"  Stack {stack}")
            for change in changes:
                text = f"    {_TEXT_MARKS[change.kind]} {change.kind.value:<8} {change.logical_id} "
                text += f"({change.resource_type})"
                if change.properties:
                    text += f" [{', '.join(change.properties)}]"
                if (extra := note(change)) is not None:
                    text += f" -- {extra}"
                lines.append(text)
                if (reason := dangerous(change)) is not None:
                    lines.append(f"      DANGER: {reason}")
    lines.append("")
    lines.append(_summary(changes_by_stack, acknowledgement))
    return "\n".join(lines) + "\n"


def _summary(changes_by_stack: ChangesByStack, acknowledgement: str | None) -> str:
    count = len(dangerous_changes(changes_by_stack))
    if count == 0:
        return "No dangerous changes."
    text = f"{count} dangerous change(s): stateful resources would be deleted or replaced."
    if acknowledgement is not None:
        return f"{text} Data loss acknowledged: {acknowledgement}"
    return f"{text} Rerun with --acknowledge-data-loss REASON if this is intended."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(changes_by_stack: ChangesByStack, *, acknowledgement: str | None = None) -> str:
    """A Markdown report for a pull-request comment: a warning first, then a table per stack."""
    lines = ["## Infrastructure changes", ""]
    if not any(changes_by_stack.values()):
        return "\n".join([*lines, "No resource changes.", ""])
    found = dangerous_changes(changes_by_stack)
    if found:
        lines.append("> [!WARNING]")
        lines.append(
            f"> **{len(found)} dangerous change(s)**: stateful resources would be deleted or replaced."
        )
        lines.extend(
            f"> - `{_cell(stack)}` `{_cell(change.logical_id)}`: {_cell(reason)}"
            for stack, change, reason in found
        )
        if acknowledgement is not None:
            lines.append(">")
            lines.append(f"> Data loss acknowledged: {_cell(acknowledgement)}")
        lines.append("")
    for environment, stacks in changes_by_stack.items():
        lines.append(f"### {environment}")
        lines.append("")
        for stack, changes in stacks.items():
            lines.append(f"#### {stack}")
            lines.append("")
            lines.append("| | Change | Logical ID | Type | Properties | Note |")
            lines.append("|---|---|---|---|---|---|")
            for change in changes:
                reason = dangerous(change)
                mark = ":warning:" if reason is not None else ""
                details = reason if reason is not None else (note(change) or "")
                lines.append(
                    f"| {mark} | {change.kind.value} | `{_cell(change.logical_id)}` | "
                    f"`{_cell(change.resource_type)}` | {_cell(', '.join(change.properties))} | "
                    f"{_cell(details)} |"
                )
            lines.append("")
    lines.append(_summary(changes_by_stack, acknowledgement))
    lines.append("")
    return "\n".join(lines)
