"""StudioUserProfile: bound to the persona role and the domain's group; SSO identity only when given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

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
ROLE_ARN = "arn:aws:iam::123456789012:role/persona-data-scientist"


@dataclass(frozen=True)
class Profiles:
    template: Template
    sso: str  # alice, IAM Identity Center user, retained, mounts the team file system
    iam: str  # bob, IAM auth, deleted with the stack
    file_system: str


@pytest.fixture(scope="module")
def profiles(cdk_context: dict[str, Any]) -> Profiles:
    stack = bare_stack(cdk_context)
    role = iam.Role.from_role_arn(stack, "PersonaRole", ROLE_ARN)

    file_system = team_file_system(stack)

    def profile(
        name: str, sso_user_name: str | None, removal_policy: cdk.RemovalPolicy, *, mounts: bool = False
    ) -> StudioUserProfile:
        built = StudioUserProfile(
            stack,
            f"User-{name}",
            domain_id=DOMAIN_ID,
            user_profile_name=name,
            execution_role=role,
            security_group_id=SECURITY_GROUP_ID,
            sso_user_name=sso_user_name,
            file_systems=[file_system] if mounts else [],
            removal_policy=removal_policy,
        )
        assert built.name == name
        assert stack.resolve(built.arn) == {"Fn::GetAtt": [logical_id(built), "UserProfileArn"]}
        return built

    sso = profile("alice", "alice@example.com", cdk.RemovalPolicy.RETAIN, mounts=True)
    no_sso = profile("bob", None, cdk.RemovalPolicy.DESTROY)
    return Profiles(
        Template.from_stack(stack),
        sso=logical_id(sso),
        iam=logical_id(no_sso),
        file_system=logical_id(file_system),
    )


@pytest.mark.parametrize(("profile", "name"), [("sso", "alice"), ("iam", "bob")])
def test_profile_runs_as_the_persona_role_in_the_domains_group(
    profiles: Profiles, profile: str, name: str
) -> None:
    properties = resource(profiles.template, getattr(profiles, profile))["Properties"]
    assert properties["DomainId"] == DOMAIN_ID
    assert properties["UserProfileName"] == name
    assert properties["UserSettings"]["ExecutionRole"] == ROLE_ARN
    assert properties["UserSettings"]["SecurityGroups"] == [SECURITY_GROUP_ID]


def test_file_systems_are_in_the_user_settings_after_their_mount_targets(profiles: Profiles) -> None:
    alice = resource(profiles.template, profiles.sso)
    assert alice["Properties"]["UserSettings"]["CustomFileSystemConfigs"] == [
        {"EFSFileSystemConfig": {"FileSystemId": {"Ref": profiles.file_system}}}
    ]
    targets = mount_targets_of(profiles.template, profiles.file_system)
    assert len(targets) == 2
    assert set(targets) <= set(alice["DependsOn"])


def test_without_file_systems_none_are_configured(profiles: Profiles) -> None:
    bob = resource(profiles.template, profiles.iam)
    assert bob["Properties"]["UserSettings"] == {
        "ExecutionRole": ROLE_ARN,
        "SecurityGroups": [SECURITY_GROUP_ID],
    }
    assert "DependsOn" not in bob


def test_sso_user_is_identified_by_user_name(profiles: Profiles) -> None:
    profiles.template.has_resource_properties(
        "AWS::SageMaker::UserProfile",
        {
            "UserProfileName": "alice",
            "SingleSignOnUserIdentifier": "UserName",
            "SingleSignOnUserValue": "alice@example.com",
        },
    )


def test_without_sso_user_no_sso_identity(profiles: Profiles) -> None:
    profiles.template.has_resource_properties(
        "AWS::SageMaker::UserProfile",
        {
            "UserProfileName": "bob",
            "SingleSignOnUserIdentifier": Match.absent(),
            "SingleSignOnUserValue": Match.absent(),
        },
    )


@pytest.mark.parametrize(("profile", "policy"), [("sso", "Retain"), ("iam", "Delete")])
def test_removal_policy_applies(profiles: Profiles, profile: str, policy: str) -> None:
    written = resource(profiles.template, getattr(profiles, profile))
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)
