"""StudioSpace: sharing, owner, EBS size, app settings per app type, created after its owner's profile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aws_cdk as cdk
import pytest
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_lib.studio.studio_space import StudioSpace
from constructs_lib.studio.studio_user_profile import StudioUserProfile
from tests.constructs.support import (
    SECURITY_GROUP_ID,
    bare_stack,
    logical_id,
    mount_targets_of,
    resource,
    team_file_system,
)

DOMAIN_ID = "d-abc123def456"


@dataclass(frozen=True)
class Spaces:
    template: Template
    owner: str
    private_lab: str  # Private, JupyterLab on ml.t3.medium, 20 GB, display name, retained
    shared_editor: str  # Shared, CodeEditor on ml.m5.large, 50 GB, deleted with the stack
    default_lab: str  # Private, JupyterLab on the domain's default instance type
    team_lab: str  # Shared, JupyterLab, mounts the team file system
    file_system: str

    def properties(self, space: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, getattr(self, space))["Properties"]
        return written


@pytest.fixture(scope="module")
def spaces(cdk_context: dict[str, Any]) -> Spaces:
    stack = bare_stack(cdk_context)
    owner = StudioUserProfile(
        stack,
        "User-alice",
        domain_id=DOMAIN_ID,
        user_profile_name="alice",
        execution_role=iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/persona"),
        security_group_id=SECURITY_GROUP_ID,
        sso_user_name=None,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )

    def space(
        name: str,
        sharing: Literal["Private", "Shared"],
        app_type: Literal["JupyterLab", "CodeEditor"],
        *,
        storage_gb: int,
        instance_type: str | None = None,
        display_name: str | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        file_systems: Sequence[efs.IFileSystem] = (),
    ) -> str:
        built = StudioSpace(
            stack,
            f"Space-{name}",
            domain_id=DOMAIN_ID,
            space_name=name,
            owner=owner,
            sharing=sharing,
            app_type=app_type,
            storage_gb=storage_gb,
            instance_type=instance_type,
            display_name=display_name,
            file_systems=file_systems,
            removal_policy=removal_policy,
        )
        return logical_id(built)

    private_lab = space(
        "alice-lab",
        "Private",
        "JupyterLab",
        storage_gb=20,
        instance_type="ml.t3.medium",
        display_name="Alice's lab",
    )
    shared_editor = space(
        "team-editor",
        "Shared",
        "CodeEditor",
        storage_gb=50,
        instance_type="ml.m5.large",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    default_lab = space("alice-scratch", "Private", "JupyterLab", storage_gb=5)
    file_system = team_file_system(stack)
    team_lab = space("team-lab", "Shared", "JupyterLab", storage_gb=5, file_systems=[file_system])
    return Spaces(
        Template.from_stack(stack),
        owner=logical_id(owner),
        private_lab=private_lab,
        shared_editor=shared_editor,
        default_lab=default_lab,
        team_lab=team_lab,
        file_system=logical_id(file_system),
    )


@pytest.mark.parametrize(("space", "sharing"), [("private_lab", "Private"), ("shared_editor", "Shared")])
def test_sharing_and_owner(spaces: Spaces, space: str, sharing: str) -> None:
    properties = spaces.properties(space)
    assert properties["DomainId"] == DOMAIN_ID
    assert properties["SpaceSharingSettings"] == {"SharingType": sharing}
    assert properties["OwnershipSettings"] == {"OwnerUserProfileName": "alice"}


def test_jupyterlab_space_settings(spaces: Spaces) -> None:
    properties = spaces.properties("private_lab")
    assert properties["SpaceName"] == "alice-lab"
    assert properties["SpaceDisplayName"] == "Alice's lab"
    assert properties["SpaceSettings"] == {
        "AppType": "JupyterLab",
        "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 20}},
        "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}},
    }


def test_code_editor_space_settings(spaces: Spaces) -> None:
    properties = spaces.properties("shared_editor")
    assert "SpaceDisplayName" not in properties
    assert properties["SpaceSettings"] == {
        "AppType": "CodeEditor",
        "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 50}},
        "CodeEditorAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.m5.large"}},
    }


def test_without_instance_type_the_domain_default_applies(spaces: Spaces) -> None:
    assert spaces.properties("default_lab")["SpaceSettings"] == {
        "AppType": "JupyterLab",
        "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 5}},
    }


@pytest.mark.parametrize("space", ["private_lab", "shared_editor", "default_lab"])
def test_created_after_and_deleted_before_its_owners_profile(spaces: Spaces, space: str) -> None:
    assert resource(spaces.template, getattr(spaces, space))["DependsOn"] == [spaces.owner]


@pytest.mark.parametrize(("space", "policy"), [("private_lab", "Retain"), ("shared_editor", "Delete")])
def test_removal_policy_applies(spaces: Spaces, space: str, policy: str) -> None:
    written = resource(spaces.template, getattr(spaces, space))
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


def test_file_system_is_in_the_space_settings_after_its_mount_targets(spaces: Spaces) -> None:
    written = resource(spaces.template, spaces.team_lab)
    assert written["Properties"]["SpaceSettings"]["CustomFileSystems"] == [
        {"EFSFileSystem": {"FileSystemId": {"Ref": spaces.file_system}}}
    ]
    targets = mount_targets_of(spaces.template, spaces.file_system)
    assert len(targets) == 2
    assert sorted(written["DependsOn"]) == sorted([spaces.owner, *targets])
