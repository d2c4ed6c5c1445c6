"""StudioFileSystem: encrypted with the given key, a mount target per domain subnet, NFS only from the
Studio security group, removal policy as given, and no cdk-nag finding left unanswered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.studio.studio_file_system import StudioFileSystem
from tests.constructs.support import (
    SECURITY_GROUP_ID,
    SUBNET_IDS,
    Synthesized,
    bare_stack,
    imported_subnets,
    imported_vpc,
    logical_id,
    resource,
    synthesize,
)

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


@dataclass(frozen=True)
class FileSystems:
    template: Template
    retained: str  # RETAIN, automatic backups on
    disposable: str  # DESTROY, automatic backups off
    retained_group: str

    def properties(self, file_system: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, getattr(self, file_system))["Properties"]
        return written


def _build(stack: cdk.Stack) -> tuple[StudioFileSystem, StudioFileSystem]:
    vpc = imported_vpc(stack)
    subnets = imported_subnets(stack)
    studio_group = ec2.SecurityGroup.from_security_group_id(stack, "StudioGroup", SECURITY_GROUP_ID)
    key = kms.Key.from_key_arn(stack, "StudioKey", KEY_ARN)

    def file_system(name: str, *, backups: bool, removal_policy: cdk.RemovalPolicy) -> StudioFileSystem:
        return StudioFileSystem(
            stack,
            f"FileSystem-{name}",
            vpc=vpc,
            subnets=subnets,
            studio_security_group=studio_group,
            encryption_key=key,
            description=f"Studio domain ml-research team file system {name}",
            automatic_backups=backups,
            removal_policy=removal_policy,
        )

    return (
        file_system("churn-team", backups=True, removal_policy=cdk.RemovalPolicy.RETAIN),
        file_system("scratch", backups=False, removal_policy=cdk.RemovalPolicy.DESTROY),
    )


@pytest.fixture(scope="module")
def file_systems(cdk_context: dict[str, Any]) -> FileSystems:
    stack = bare_stack(cdk_context)
    retained, disposable = _build(stack)
    return FileSystems(
        Template.from_stack(stack),
        retained=logical_id(retained.file_system),
        disposable=logical_id(disposable.file_system),
        retained_group=logical_id(retained.security_group),
    )


@pytest.fixture(scope="module")
def nagged(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir: Path = tmp_path_factory.mktemp("studio-file-system")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    _build(stack)
    return synthesize(stack, outdir)


@pytest.mark.parametrize("file_system", ["retained", "disposable"])
def test_encrypted_with_the_given_key(file_systems: FileSystems, file_system: str) -> None:
    properties = file_systems.properties(file_system)
    assert properties["Encrypted"] is True
    assert properties["KmsKeyId"] == KEY_ARN


@pytest.mark.parametrize(
    ("file_system", "policy"), [("retained", "Retain"), ("disposable", "Delete")], ids=["retain", "destroy"]
)
def test_removal_policy_applies(file_systems: FileSystems, file_system: str, policy: str) -> None:
    written = resource(file_systems.template, getattr(file_systems, file_system))
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


@pytest.mark.parametrize(("file_system", "status"), [("retained", "ENABLED"), ("disposable", "DISABLED")])
def test_automatic_backups_as_given(file_systems: FileSystems, file_system: str, status: str) -> None:
    assert file_systems.properties(file_system)["BackupPolicy"] == {"Status": status}


def test_no_file_system_policy(file_systems: FileSystems) -> None:
    # SageMaker mounts without IAM authorization: a policy refusing anonymous clients would refuse Studio.
    assert "FileSystemPolicy" not in file_systems.properties("retained")


def test_one_mount_target_per_subnet_in_its_own_group(file_systems: FileSystems) -> None:
    targets = [
        target["Properties"]
        for target in file_systems.template.find_resources("AWS::EFS::MountTarget").values()
        if target["Properties"]["FileSystemId"] == {"Ref": file_systems.retained}
    ]
    assert sorted(target["SubnetId"] for target in targets) == sorted(SUBNET_IDS)
    group_id = {"Fn::GetAtt": [file_systems.retained_group, "GroupId"]}
    assert all(target["SecurityGroups"] == [group_id] for target in targets)


def test_nfs_from_the_studio_group_is_the_only_ingress(file_systems: FileSystems) -> None:
    group = resource(file_systems.template, file_systems.retained_group)["Properties"]
    group_id = {"Fn::GetAtt": [file_systems.retained_group, "GroupId"]}
    ingress = [
        rule["Properties"]
        for rule in file_systems.template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == group_id
    ]
    inline = group.get("SecurityGroupIngress", [])
    assert inline + ingress == [
        {
            "GroupId": group_id,
            "SourceSecurityGroupId": SECURITY_GROUP_ID,
            "IpProtocol": "tcp",
            "FromPort": 2049,
            "ToPort": 2049,
            "Description": "NFS from the Studio domain's apps",
        }
    ]


def test_no_egress(file_systems: FileSystems) -> None:
    # CDK writes a rule that matches no traffic when a group may not send anything.
    egress = resource(file_systems.template, file_systems.retained_group)["Properties"]["SecurityGroupEgress"]
    assert [rule["CidrIp"] for rule in egress] == ["255.255.255.255/32"]


def test_no_unanswered_compliance_finding(nagged: Synthesized) -> None:
    assert nagged.nag_errors == []
