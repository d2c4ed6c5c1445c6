"""docs/configuration.md lists the configuration fields that end up in create-only properties of resources
with fixed names (changing one collides on the name). These tests keep that list true: each row names a real
field and a property the cfn-lint schema declares create-only on a type the review diff treats as named,
and the sample's templates set no other create-only property on a named resource."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from platform_cli.template_diff import create_only_paths, load_assembly, name_properties
from platform_config.models import EnvironmentConfig
from tests.conftest import ROOT, SynthesizedApp

SECTION = "## Changes that replace a named resource"
# Create-only properties the templates set on named resources from code, not from a configuration field.
NOT_FROM_CONFIGURATION = {
    # The Images stack's own key (the docs explain the collision a code change of it causes).
    ("AWS::ECR::Repository", "EncryptionConfiguration"),
    ("AWS::ECR::Repository", "EncryptionConfiguration/EncryptionType"),
    ("AWS::ECR::Repository", "EncryptionConfiguration/KmsKey"),
    # Always "UserName": sso_user_name is the value.
    ("AWS::SageMaker::UserProfile", "SingleSignOnUserIdentifier"),
    # Part of the hash in the config's name (ADR 0005): a change renames it, no collision.
    ("AWS::SageMaker::StudioLifecycleConfig", "StudioLifecycleConfigAppType"),
    ("AWS::SageMaker::StudioLifecycleConfig", "StudioLifecycleConfigContent"),
}


def documented_rows() -> list[tuple[str, str, str]]:
    """(field, resource type, property) of each row of the section's table."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`AWS::"):
            field = re.match(r"`([^`]+)`", cells[0])
            assert field is not None, line
            rows.append((field.group(1), cells[1].strip("`"), cells[2].strip("`")))
    return rows


ROWS = documented_rows()


def test_the_section_has_rows() -> None:
    assert len(ROWS) >= 6


def _field_type(model: type[BaseModel], path: str) -> Any:
    """The annotation a dotted field path (`a.b[].c`) reaches from a model; fails on an unknown key."""
    annotation: Any = model
    for part in path.split("."):
        name, many = part.removesuffix("[]"), part.endswith("[]")
        annotation = _unwrap(annotation)
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel), (path, part)
        assert name in annotation.model_fields, f"{path}: {annotation.__name__} has no field '{name}'"
        annotation = annotation.model_fields[name].annotation
        if many:
            annotation = typing.get_args(_unwrap(annotation))[0]
    return annotation


def _unwrap(annotation: Any) -> Any:
    """`X | None` to X."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return inner
    return annotation


@pytest.mark.parametrize(("field", "resource_type", "property_name"), ROWS)
def test_each_listed_field_is_a_create_only_property_of_a_named_resource(
    field: str, resource_type: str, property_name: str
) -> None:
    _field_type(EnvironmentConfig, field)
    assert f"/properties/{property_name}" in create_only_paths(resource_type)
    names = name_properties(resource_type)
    assert names, f"{resource_type} has no fixed name for the diff, so it cannot collide"
    assert property_name not in names


def test_an_unknown_field_or_a_property_that_is_not_create_only_fails_the_checks() -> None:
    with pytest.raises(AssertionError):
        _field_type(EnvironmentConfig, "studio.domains[].users[].sso_name")
    assert "/properties/Tags" not in create_only_paths("AWS::SageMaker::ModelPackageGroup")


def _set_paths(properties: Any, parts: list[str]) -> bool:
    if not parts:
        return True
    if isinstance(properties, dict) and parts[0] in properties:
        return _set_paths(properties[parts[0]], parts[1:])
    return False


def test_no_other_create_only_property_of_a_named_resource_comes_from_the_sample(
    synthesized: SynthesizedApp,
) -> None:
    documented = {(resource_type, property_name) for _, resource_type, property_name in ROWS}
    found: dict[tuple[str, str], str] = {}
    for stacks in load_assembly(Path(synthesized.outdir)).values():
        for stack, template in stacks.items():
            for logical_id, resource in (template.get("Resources") or {}).items():
                resource_type, properties = resource["Type"], resource.get("Properties") or {}
                names = name_properties(resource_type)
                if not names or not all(name in properties for name in names):
                    continue
                for path in create_only_paths(resource_type):
                    property_path = path.removeprefix("/properties/")
                    if property_path in names or not _set_paths(properties, property_path.split("/")):
                        continue
                    found.setdefault((resource_type, property_path), f"{stack} {logical_id}")

    undocumented = {
        key: where
        for key, where in found.items()
        if key not in documented and key not in NOT_FROM_CONFIGURATION
    }
    assert undocumented == {}
    assert ("AWS::SageMaker::ModelPackageGroup", "ModelPackageGroupDescription") in found
