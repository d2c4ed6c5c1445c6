"""Offline diff of two synthesized cloud assemblies: what each stack adds, removes, modifies and replaces.

Pure functions over `cdk.out` directories; nothing here calls AWS or imports aws_cdk. Whether a change
replaces a resource is judged from the `createOnlyProperties` of the CloudFormation resource schemas that
cfn-lint ships (read lazily, once per type). A change is dangerous when it removes or replaces a resource
that holds data (see STATEFUL_TYPES); a removal under `DeletionPolicy: Retain` only orphans the resource, so
it is reported as kept instead.

A replacement *collides* when the resource's name is fixed: the template sets the properties that name it
(see name_properties) to the same values on both sides. CloudFormation creates the replacement before it
deletes the old resource, so the create fails on the existing name and the update rolls back. For the same
reason an added resource collides with a removed one of the same type and name in the same stack (a changed
logical id). A collision is not data loss that can be accepted; the deploy cannot succeed as written.

Limits: only the `Resources` section is compared (not Parameters, Outputs or Rules), the `Metadata` attribute
and the `AWS::CDK::Metadata` resource are ignored, and a replacement is not propagated to resources that
reference the replaced one (CloudFormation may replace those too when the reference is create-only).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from platform_cli.cfn_schemas import resource_schema

Template = dict[str, Any]
Assembly = dict[str, dict[str, Template]]
ChangesByStack = Mapping[str, Mapping[str, Sequence["ResourceChange"]]]
CreateOnlyLookup = Callable[[str], tuple[str, ...]]
NameLookup = Callable[[str], tuple[str, ...]]

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
# The properties that name a resource, where the schema cannot tell (see name_properties): its
# primaryIdentifier is generated (an ARN or id) and no property is called `<Type>Name` or `Name`.
NAME_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "AWS::SageMaker::DataQualityJobDefinition": ("JobDefinitionName",),
    # A security group's name is unique within its VPC only.
    "AWS::EC2::SecurityGroup": ("GroupName", "VpcId"),
    # An inline policy is named within its role, user or group only, and putting one under a name that is
    # taken replaces it rather than failing.
    "AWS::IAM::Policy": (),
    # A domain is identified by its generated DomainId; SageMaker does not document DomainName as unique, so
    # a replaced domain is judged as data loss only.
    "AWS::SageMaker::Domain": (),
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
    differ, which is what makes a change a replacement. `colliding` names the properties of a replaced
    resource whose fixed values give the replacement the old one's name (empty when the name changes or
    CloudFormation generates it); for an added resource, the properties it shares with `collides_with`, a
    resource of the same type and name that the same deploy removes (a changed logical id). `before` and
    `after` are the resource definitions.
    """

    kind: ChangeKind
    logical_id: str
    resource_type: str
    properties: tuple[str, ...] = ()
    replacing: tuple[str, ...] = ()
    colliding: tuple[str, ...] = ()
    collides_with: str | None = None
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


def _property_names(paths: Sequence[str]) -> tuple[str, ...]:
    return tuple(path.removeprefix("/properties/") for path in paths)


@cache
def create_only_paths(resource_type: str) -> tuple[str, ...]:
    """The schema's createOnlyProperties of a type, e.g. `/properties/KmsKeyId`; () for unknown types."""
    paths: list[str] = resource_schema(resource_type).get("createOnlyProperties", [])
    return tuple(paths)


@cache
def name_properties(resource_type: str) -> tuple[str, ...]:
    """The top-level properties whose values together name a resource of this type; () when none does.

    From the schema: its primaryIdentifier when the template can set it (`RoleName`; `DomainId` and
    `SpaceName` for a space). When the identifier is generated (an ARN or id), the property called
    `<Type>Name` (`ModelPackageGroupName`) or `Name`. NAME_PROPERTIES decides where the schema cannot.
    """
    if resource_type in NAME_PROPERTIES:
        return NAME_PROPERTIES[resource_type]
    schema = resource_schema(resource_type)
    identifiers = _property_names(schema.get("primaryIdentifier", []))
    generated = set(_property_names(schema.get("readOnlyProperties", [])))
    if identifiers and generated.isdisjoint(identifiers):
        return identifiers
    properties: Mapping[str, Any] = schema.get("properties", {})
    for candidate in (f"{resource_type.rsplit('::', 1)[-1]}Name", "Name"):
        if candidate in properties and candidate not in generated:
            return (candidate,)
    return ()


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


def _referenced_ids(value: Any) -> set[str]:
    """Logical ids a template value refers to through Ref or Fn::GetAtt (pseudo parameters included)."""
    if isinstance(value, list):
        return {found for item in value for found in _referenced_ids(item)}
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, inner in value.items():
        if key == "Ref" and isinstance(inner, str):
            found.add(inner)
        elif key == "Fn::GetAtt" and isinstance(inner, list) and inner and isinstance(inner[0], str):
            found.add(inner[0])
        elif key == "Fn::GetAtt" and isinstance(inner, str):
            found.add(inner.split(".", 1)[0])
        else:
            found |= _referenced_ids(inner)
    return found


def _colliding_names(change: ResourceChange, replaced: set[str], names: NameLookup) -> tuple[str, ...]:
    """The name properties of a replacement that keep their values, when all of them do; () otherwise.

    A name that refers to a resource replaced in the same deploy (a space's DomainId when the domain is
    replaced) gets a new value, so it does not collide.
    """
    if change.kind is not ChangeKind.REPLACED or "Type" in change.replacing:
        return ()
    identifying = names(change.resource_type)
    old: Mapping[str, Any] = (change.before or {}).get("Properties") or {}
    new: Mapping[str, Any] = (change.after or {}).get("Properties") or {}
    for name in identifying:
        if name not in old or name not in new or old[name] != new[name]:
            return ()
        if _referenced_ids(new[name]) & replaced:
            return ()
    return identifying


def diff_templates(
    base: Mapping[str, Any],
    head: Mapping[str, Any],
    *,
    lookup: CreateOnlyLookup = create_only_paths,
    names: NameLookup = name_properties,
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
    replaced = {change.logical_id for change in changes if change.kind is ChangeKind.REPLACED}
    removed_by_name = {
        key: change.logical_id
        for change in changes
        if change.kind is ChangeKind.REMOVED
        and (key := _fixed_name(change.resource_type, change.before, names))
    }
    return [_judged(change, replaced, removed_by_name, names) for change in changes]


def _judged(
    change: ResourceChange,
    replaced: set[str],
    removed_by_name: Mapping[tuple[str, str], str],
    names: NameLookup,
) -> ResourceChange:
    """The change with its collision, if any: a replacement under its own name, or an addition under the name
    of a resource the same deploy removes."""
    if colliding := _colliding_names(change, replaced, names):
        return replace(change, colliding=colliding)
    if change.kind is ChangeKind.ADDED:
        key = _fixed_name(change.resource_type, change.after, names)
        if key is not None and key in removed_by_name:
            return replace(change, colliding=names(change.resource_type), collides_with=removed_by_name[key])
    return change


def _fixed_name(
    resource_type: str, definition: Mapping[str, Any] | None, names: NameLookup
) -> tuple[str, str] | None:
    """The type and the name values of a resource whose template sets every name property, else None.

    Within one stack, CloudFormation creates added resources before it deletes removed ones, so an added
    resource with the name of a removed one (a renamed construct, a changed logical id) collides.
    """
    identifying = names(resource_type)
    properties: Mapping[str, Any] = (definition or {}).get("Properties") or {}
    if not identifying or not all(name in properties for name in identifying):
        return None
    return resource_type, json.dumps([properties[name] for name in identifying], sort_keys=True)


def diff_assemblies(
    base: Assembly,
    head: Assembly,
    *,
    lookup: CreateOnlyLookup = create_only_paths,
    names: NameLookup = name_properties,
) -> dict[str, dict[str, list[ResourceChange]]]:
    """Changes per environment and stack; a stack only on one side is wholly added or removed.

    Stacks without changes are left out, and so are environments without changed stacks.
    """
    result: dict[str, dict[str, list[ResourceChange]]] = {}
    for environment in sorted(base.keys() | head.keys()):
        base_stacks, head_stacks = base.get(environment, {}), head.get(environment, {})
        for stack in sorted(base_stacks.keys() | head_stacks.keys()):
            changes = diff_templates(
                base_stacks.get(stack, {}), head_stacks.get(stack, {}), lookup=lookup, names=names
            )
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
    """Why a change loses data (a stateful resource removed or replaced), or None when it does not.

    A replacement that collides on its name is not data loss: its deploy fails before anything is deleted
    (see collision). Renaming or removing the resource instead is, and is judged when it is proposed.
    """
    if change.colliding:
        return None
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


def _name_text(change: ResourceChange) -> str:
    properties: Mapping[str, Any] = (change.after or {}).get("Properties") or {}
    return ", ".join(f"{name} {_short(properties.get(name), 60)}" for name in change.colliding)


def collision(change: ResourceChange) -> str | None:
    """Why deploying a change fails on a name (a replacement that keeps a fixed name), or None."""
    if not change.colliding:
        return None
    if change.collides_with is not None:
        return (
            f"deploy will fail: name collision. It has the same {_name_text(change)} as "
            f"{change.collides_with}, which this deploy removes; CloudFormation creates "
            f"{change.logical_id} first, the name is taken, the create fails and the update rolls back (a "
            "changed logical id, such as a renamed construct)"
        )
    return (
        f"deploy will fail: name collision. Create-only {', '.join(change.replacing)} changed, so "
        f"CloudFormation creates a replacement first, with the same {_name_text(change)}; that name is "
        "taken by the resource it replaces, so the create fails and the update rolls back"
    )


def collision_fix(change: ResourceChange) -> str:
    """The ways to make a colliding change deployable."""
    names = " and ".join(change.colliding)
    if change.collides_with is not None:
        return (
            f"keep the logical id {change.collides_with} (restore the construct id, or override the "
            f"logical id); or give the new resource a new {names}; or remove the old one in one deploy and "
            "add the new one in the next"
        )
    replacing = ", ".join(change.replacing)
    text = (
        f"keep the old value of {replacing}; or give the resource a new {names} in the same change; or "
        "remove the resource in one deploy and add it back, changed, in the next"
    )
    if _is_stateful(change.resource_type, change.before):
        text += f". Renaming or removing a {STATEFUL_TYPES[change.resource_type]} loses its data"
    return text


def collisions(changes_by_stack: ChangesByStack) -> list[tuple[str, ResourceChange, str]]:
    """(stack, change, reason) of every change whose deploy fails on a name collision."""
    return [
        (stack, change, reason)
        for stacks in changes_by_stack.values()
        for stack, changes in stacks.items()
        for change in changes
        if (reason := collision(change)) is not None
    ]


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


# --- changed values -------------------------------------------------------------------------------------

# A value shown in a report is cut to this many characters; a resource shows at most this many values.
VALUE_WIDTH = 100
MAX_VALUE_CHANGES = 12


class _Absent:
    """The side of a value change where the value is not set."""

    def __repr__(self) -> str:
        return "(not set)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class ValueChange:
    """One value that differs inside a modified or replaced resource: `Path.To.Key` or `Items[2]`."""

    path: str
    before: Any
    after: Any


def _embedded_json(value: Any) -> Any:
    """A JSON document held in a string (a pipeline definition body), parsed; otherwise the value itself."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _value_changes(path: str, before: Any, after: Any) -> list[ValueChange]:
    before, after = _embedded_json(before), _embedded_json(after)
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            found
            for key in sorted(before.keys() | after.keys())
            for found in _value_changes(
                f"{path}.{key}" if path else str(key), before.get(key, ABSENT), after.get(key, ABSENT)
            )
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            found
            for index, (old, new) in enumerate(zip(before, after, strict=True))
            for found in _value_changes(f"{path}[{index}]", old, new)
        ]
    return [ValueChange(path, before, after)]


def value_changes(change: ResourceChange) -> list[ValueChange]:
    """The leaf values that differ in a modified or replaced resource, properties then attributes.

    Objects are compared key by key and lists of equal length item by item, so a long policy or pipeline
    definition shows only what changed; a list that grows or shrinks is shown whole.
    """
    if change.kind not in (ChangeKind.MODIFIED, ChangeKind.REPLACED):
        return []
    before, after = change.before or {}, change.after or {}
    found = _value_changes("", before.get("Properties") or {}, after.get("Properties") or {})
    for name in ("Type", *COMPARED_ATTRIBUTES):
        found += _value_changes(f"@{name}", before.get(name, ABSENT), after.get(name, ABSENT))
    return found


def _short(value: Any, width: int = VALUE_WIDTH) -> str:
    text = repr(value) if value is ABSENT else json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return _cut(text, width)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def value_pair(before: Any, after: Any, width: int = VALUE_WIDTH) -> tuple[str, str]:
    """Both sides as short JSON; two long values that share a start are cut to show where they differ."""
    old, new = _short(before, sys.maxsize), _short(after, sys.maxsize)
    if max(len(old), len(new)) <= width:
        return old, new
    common = 0
    for old_char, new_char in zip(old, new, strict=False):
        if old_char != new_char:
            break
        common += 1
    skip = common - width // 4
    if skip > 1:
        old, new = "…" + old[skip:], "…" + new[skip:]
    return _cut(old, width), _cut(new, width)


def requires_replacement(change: ResourceChange, path: str) -> bool:
    """Whether a changed value's path (`EncryptionConfiguration.KmsKey`, `Items[0].Name`) lies under one of
    the create-only paths that make the change a replacement (the CDK toolkit's "requires replacement")."""
    parts = [part for part in re.split(r"[.\[\]]", path) if part and not part.isdigit()]
    for replacing in change.replacing:
        prefix = [part for part in replacing.split("/") if part != "*"]
        if parts[: len(prefix)] == prefix:
            return True
    return False


def _value_lines(change: ResourceChange) -> list[tuple[str, str, str]]:
    """(path, before, after) for a report: at most MAX_VALUE_CHANGES, then a line saying how many more."""
    found = value_changes(change)
    lines = [
        (
            f"{item.path} (requires replacement)" if requires_replacement(change, item.path) else item.path,
            *value_pair(item.before, item.after),
        )
        for item in found[:MAX_VALUE_CHANGES]
    ]
    if len(found) > MAX_VALUE_CHANGES:
        lines.append((f"... {len(found) - MAX_VALUE_CHANGES} more changed value(s)", "", ""))
    return lines


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
                if (failure := collision(change)) is not None:
                    lines.append(f"      FAILS: {failure}")
                    lines.append(f"      FIX: {collision_fix(change)}")
                if (reason := dangerous(change)) is not None:
                    lines.append(f"      DANGER: {reason}")
                for path, old, new in _value_lines(change):
                    lines.append(f"        ~ {path}")
                    if old or new:
                        lines.append(f"            - {old}")
                        lines.append(f"            + {new}")
    lines.append("")
    lines.extend(_summary(changes_by_stack, acknowledgement))
    return "\n".join(lines) + "\n"


def _summary(changes_by_stack: ChangesByStack, acknowledgement: str | None) -> list[str]:
    """The verdict: name collisions first (they cannot be acknowledged), then data loss."""
    lines = []
    failing = len(collisions(changes_by_stack))
    if failing:
        lines.append(
            f"{failing} change(s) will fail to deploy: a replacement would reuse a fixed name. A name "
            "collision cannot be acknowledged; make the change another way, as the report says."
        )
    count = len(dangerous_changes(changes_by_stack))
    if count == 0:
        lines.append("No other dangerous changes." if failing else "No dangerous changes.")
        return lines
    text = f"{count} dangerous change(s): stateful resources would be deleted or replaced."
    if acknowledgement is not None:
        lines.append(f"{text} Data loss acknowledged: {acknowledgement}")
    else:
        lines.append(f"{text} Rerun with --acknowledge-data-loss REASON if this is intended.")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(changes_by_stack: ChangesByStack, *, acknowledgement: str | None = None) -> str:
    """A Markdown report for a pull-request comment: a warning first, then a table per stack."""
    lines = ["## Infrastructure changes", ""]
    if not any(changes_by_stack.values()):
        return "\n".join([*lines, "No resource changes.", ""])
    failing = collisions(changes_by_stack)
    if failing:
        lines.append("> [!CAUTION]")
        lines.append(
            f"> **{len(failing)} change(s) will fail to deploy**: a replacement would reuse a fixed name. "
            "This cannot be acknowledged."
        )
        for stack, change, reason in failing:
            lines.append(f"> - `{_cell(stack)}` `{_cell(change.logical_id)}`: {_cell(reason)}.")
            lines.append(f">   To make the change: {_cell(collision_fix(change))}.")
        lines.append("")
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
                failure, loss = collision(change), dangerous(change)
                mark = ":x:" if failure is not None else ":warning:" if loss is not None else ""
                details = failure or loss or note(change) or ""
                lines.append(
                    f"| {mark} | {change.kind.value} | `{_cell(change.logical_id)}` | "
                    f"`{_cell(change.resource_type)}` | {_cell(', '.join(change.properties))} | "
                    f"{_cell(details)} |"
                )
            lines.append("")
            lines.extend(_markdown_values(changes))
    for verdict in _summary(changes_by_stack, acknowledgement):
        lines.extend([verdict, ""])
    return "\n".join(lines)


def _fenced(text: str) -> str:
    """A line safe inside a fenced code block (no fence of its own)."""
    return text.replace("`" * 3, "'" * 3)


def _markdown_values(changes: Sequence[ResourceChange]) -> list[str]:
    """Before and after values of a stack's modified and replaced resources, folded, as a diff block."""
    body: list[str] = []
    for change in changes:
        for path, old, new in _value_lines(change):
            body.append(_fenced(f"~ {change.logical_id} {path}"))
            if old or new:
                body.extend([_fenced(f"- {old}"), _fenced(f"+ {new}")])
    if not body:
        return []
    fence = "`" * 3
    return [
        "<details><summary>Changed values</summary>",
        "",
        f"{fence}diff",
        *body,
        fence,
        "",
        "</details>",
        "",
    ]
