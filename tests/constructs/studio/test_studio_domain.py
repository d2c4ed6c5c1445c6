"""StudioDomain: VPC-only, KMS-encrypted, with default user and space settings from its arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_lib.shared.platform_key import PlatformKey
from constructs_lib.studio.studio_domain import (
    AppDefaults,
    DockerAccess,
    IdleShutdown,
    PortalRestrictions,
    SpaceStorage,
    StudioDomain,
)
from constructs_lib.studio.studio_lifecycle_config import StudioLifecycleConfig
from tests.constructs.support import (
    SECURITY_GROUP_ID,
    SUBNET_IDS,
    VPC_ID,
    bare_stack,
    imported_subnets,
    imported_vpc,
    logical_id,
    resource,
)

ROLE_ARN = "arn:aws:iam::123456789012:role/persona-default"
IDLE_SETTINGS = {
    "AppLifecycleManagement": {
        "IdleSettings": {
            "LifecycleManagement": "ENABLED",
            "IdleTimeoutInMinutes": 120,
            "MinIdleTimeoutInMinutes": 60,
            "MaxIdleTimeoutInMinutes": 480,
        }
    }
}


@dataclass(frozen=True)
class Domain:
    properties: dict[str, Any]
    deletion_policy: str
    key: str
    lab_configs: list[str]  # logical ids; the first is the default
    editor_config: str


SHARED_SPACE_ROLE_ARN = "arn:aws:iam::123456789012:role/shared-space"
TEAM_FILE_SYSTEM_ID = "fs-0123456789abcdef0"


def build(cdk_context: dict[str, Any], *, full: bool) -> Domain:
    """`full`: lifecycle configs, portal restrictions, Docker with trusted accounts, no home EFS, a file
    system for shared spaces, retained.

    Otherwise the bare minimum: no lifecycle configs, nothing hidden, no Docker, a home EFS, no custom file
    system, deleted with the stack.
    """
    stack = bare_stack(cdk_context)
    key = PlatformKey(
        stack,
        "StudioKey",
        alias="alias/studio",
        description="Studio",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )

    def config(name: str, app_type: str) -> StudioLifecycleConfig:
        return StudioLifecycleConfig(
            stack, name, config_name=name.lower(), app_type=app_type, script_base64="ZWNobw=="
        )

    lab_configs = [config("LabTools", "JupyterLab"), config("LabGit", "JupyterLab")] if full else []
    editor_config = config("EditorTools", "CodeEditor")
    domain = StudioDomain(
        stack,
        "Domain",
        domain_name="ml-research",
        auth_mode="SSO" if full else "IAM",
        vpc=imported_vpc(stack),
        subnets=imported_subnets(stack),
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "Group", SECURITY_GROUP_ID),
        encryption_key=key.key,
        default_execution_role=iam.Role.from_role_arn(stack, "Role", ROLE_ARN),
        shared_space_execution_role=iam.Role.from_role_arn(stack, "SharedRole", SHARED_SPACE_ROLE_ARN)
        if full
        else None,
        idle_shutdown=IdleShutdown(default_minutes=120, min_minutes=60, max_minutes=480),
        jupyterlab=AppDefaults(
            "ml.t3.medium",
            lifecycle_config_arns=[c.arn for c in lab_configs],
            default_lifecycle_config_arn=lab_configs[0].arn if lab_configs else None,
        ),
        code_editor=AppDefaults("ml.t3.large", lifecycle_config_arns=[editor_config.arn] if full else []),
        portal=PortalRestrictions(
            hidden_app_types=["RStudioServerPro", "Canvas"],
            hidden_ml_tools=["Projects", "AutoMl", "DataWrangler"],
            hidden_instance_types=["ml.p4d.24xlarge", "ml.g5.48xlarge"],
        )
        if full
        else PortalRestrictions(),
        space_storage=SpaceStorage(default_gb=5, max_gb=100),
        docker_access=DockerAccess(enabled=True, trusted_accounts=["220000000002", "110000000001"])
        if full
        else DockerAccess(enabled=False),
        home_efs=not full,
        shared_space_file_systems=[
            efs.FileSystem.from_file_system_attributes(
                stack,
                "TeamFileSystem",
                file_system_id=TEAM_FILE_SYSTEM_ID,
                security_group=ec2.SecurityGroup.from_security_group_id(stack, "TeamGroup", "sg-0fff"),
            )
        ]
        if full
        else [],
        removal_policy=cdk.RemovalPolicy.RETAIN if full else cdk.RemovalPolicy.DESTROY,
    )
    assert stack.resolve(domain.domain_id) == {"Fn::GetAtt": [logical_id(domain), "DomainId"]}
    assert stack.resolve(domain.domain_arn) == {"Fn::GetAtt": [logical_id(domain), "DomainArn"]}
    written = resource(Template.from_stack(stack), logical_id(domain))
    assert written["Type"] == "AWS::SageMaker::Domain"
    return Domain(
        properties=written["Properties"],
        deletion_policy=f"{written['DeletionPolicy']}/{written['UpdateReplacePolicy']}",
        key=logical_id(key.key),
        lab_configs=[logical_id(c) for c in lab_configs],
        editor_config=logical_id(editor_config),
    )


@pytest.fixture(scope="module")
def full(cdk_context: dict[str, Any]) -> Domain:
    return build(cdk_context, full=True)


@pytest.fixture(scope="module")
def minimal(cdk_context: dict[str, Any]) -> Domain:
    return build(cdk_context, full=False)


def arn_of(config: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [config, "StudioLifecycleConfigArn"]}


def test_vpc_only_in_the_given_subnets_encrypted_with_the_keys_arn(full: Domain) -> None:
    properties = full.properties
    assert properties["DomainName"] == "ml-research"
    assert properties["AuthMode"] == "SSO"
    assert properties["AppNetworkAccessType"] == "VpcOnly"
    assert properties["VpcId"] == VPC_ID
    assert properties["SubnetIds"] == list(SUBNET_IDS)
    # The ARN, not the key id (a Ref): the domain's encryption must name the key unambiguously.
    assert properties["KmsKeyId"] == {"Fn::GetAtt": [full.key, "Arn"]}
    assert properties["TagPropagation"] == "ENABLED"


def test_domain_settings_name_the_user_and_set_docker_access(full: Domain, minimal: Domain) -> None:
    assert full.properties["DomainSettings"] == {
        "SecurityGroupIds": [SECURITY_GROUP_ID],
        "ExecutionRoleIdentityConfig": "USER_PROFILE_NAME",
        "DockerSettings": {
            "EnableDockerAccess": "ENABLED",
            "VpcOnlyTrustedAccounts": ["110000000001", "220000000002"],
        },
    }
    assert minimal.properties["DomainSettings"]["DockerSettings"] == {"EnableDockerAccess": "DISABLED"}
    assert minimal.properties["DomainSettings"]["ExecutionRoleIdentityConfig"] == "USER_PROFILE_NAME"


def test_default_user_settings(full: Domain) -> None:
    user = full.properties["DefaultUserSettings"]
    assert user["ExecutionRole"] == ROLE_ARN
    assert user["SecurityGroups"] == [SECURITY_GROUP_ID]
    assert (user["StudioWebPortal"], user["DefaultLandingUri"]) == ("ENABLED", "studio::")
    assert user["SharingSettings"] == {"NotebookOutputOption": "Disabled"}
    assert user["SpaceStorageSettings"] == {
        "DefaultEbsStorageSettings": {"DefaultEbsVolumeSizeInGb": 5, "MaximumEbsVolumeSizeInGb": 100}
    }


def test_apps_get_idle_shutdown_lifecycle_configs_and_default_instances(full: Domain) -> None:
    user = full.properties["DefaultUserSettings"]
    assert user["JupyterLabAppSettings"] == {
        **IDLE_SETTINGS,
        "DefaultResourceSpec": {
            "InstanceType": "ml.t3.medium",
            "LifecycleConfigArn": arn_of(full.lab_configs[0]),
        },
        "LifecycleConfigArns": [arn_of(config) for config in full.lab_configs],
    }
    assert user["CodeEditorAppSettings"] == {
        **IDLE_SETTINGS,
        "DefaultResourceSpec": {"InstanceType": "ml.t3.large"},
        "LifecycleConfigArns": [arn_of(full.editor_config)],
    }


def test_without_lifecycle_configs_none_are_listed(minimal: Domain) -> None:
    user = minimal.properties["DefaultUserSettings"]
    for app in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
        assert "LifecycleConfigArns" not in user[app]
        assert "LifecycleConfigArn" not in user[app]["DefaultResourceSpec"]
        assert user[app]["AppLifecycleManagement"] == IDLE_SETTINGS["AppLifecycleManagement"]


def test_portal_hidden_lists_are_sorted(full: Domain, minimal: Domain) -> None:
    assert full.properties["DefaultUserSettings"]["StudioWebPortalSettings"] == {
        "HiddenAppTypes": ["Canvas", "RStudioServerPro"],
        "HiddenMlTools": ["AutoMl", "DataWrangler", "Projects"],
        "HiddenInstanceTypes": ["ml.g5.48xlarge", "ml.p4d.24xlarge"],
    }
    portal = minimal.properties["DefaultUserSettings"].get("StudioWebPortalSettings", {})
    assert not {"HiddenAppTypes", "HiddenMlTools", "HiddenInstanceTypes"} & set(portal)


def test_default_space_settings(full: Domain, minimal: Domain) -> None:
    # Shared spaces run with the shared-space role when one is given, else with the default role.
    assert minimal.properties["DefaultSpaceSettings"]["ExecutionRole"] == ROLE_ARN
    user = full.properties["DefaultUserSettings"]
    assert user["ExecutionRole"] == ROLE_ARN
    assert full.properties["DefaultSpaceSettings"] == {
        "ExecutionRole": SHARED_SPACE_ROLE_ARN,
        "SecurityGroups": [SECURITY_GROUP_ID],
        "JupyterLabAppSettings": user["JupyterLabAppSettings"],
        "SpaceStorageSettings": user["SpaceStorageSettings"],
        "CustomFileSystemConfigs": [{"EFSFileSystemConfig": {"FileSystemId": TEAM_FILE_SYSTEM_ID}}],
    }
    assert "CustomFileSystemConfigs" not in minimal.properties["DefaultSpaceSettings"]


@pytest.mark.parametrize(("home_efs", "setting"), [(False, "Disabled"), (True, "Enabled")], ids=["off", "on"])
def test_home_efs_created_and_mounted_only_when_asked(
    full: Domain, minimal: Domain, home_efs: bool, setting: str
) -> None:
    properties = minimal.properties if home_efs else full.properties
    assert properties["HomeEfsFileSystemCreation"] == setting
    assert properties["DefaultUserSettings"]["AutoMountHomeEFS"] == setting


def test_removal_policy_applies(full: Domain, minimal: Domain) -> None:
    assert (full.deletion_policy, minimal.deletion_policy) == ("Retain/Retain", "Delete/Delete")
