"""The Studio teardown custom resources: the Contents phase against a SageMaker Studio that deletes things
over time (tests/functions/studio_fake.py, behind real botocore clients), the Leftovers phase against moto's
EC2 and EFS, and botocore's Stubber for the scripted failures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from functions.studio_teardown.handler import (
    Clients,
    PropertyError,
    TeardownError,
    is_complete,
    nfs_security_group_names,
    on_event,
)
from tests.functions.studio_fake import FakeStudio, Item, answer_with, polls, stack_status
from tests.functions.support import ACCOUNT, REGION

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_efs import EFSClient

DOMAIN_ID: Final = "d-abc123xyz789"
DOMAIN_ARN: Final = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{DOMAIN_ID}"
OTHER_DOMAIN_ARN: Final = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/d-otherdomain01"
STACK_ID: Final = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/dev-Studio-research/4f2c6a57"
GIVE_UP_AFTER: Final = 3300
STARTED: Final = 1_800_000_000
TAG: Final = "ManagedByAmazonSageMakerResource"
DELETES: Final = ("DeleteApp", "DeleteSpace", "DeleteUserProfile", "DeleteDomain")
VPC_ID: Final = "vpc-0a1b2c3d4e5f60001"


def leftovers_properties(vpc_id: str) -> dict[str, Any]:
    return {
        "ServiceToken": "arn:aws:lambda:...",
        "Phase": "Leftovers",
        "VpcId": vpc_id,
        "GiveUpAfterSeconds": str(GIVE_UP_AFTER),
    }


def request(request_type: str, *, vpc_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A request as the Provider framework passes it to onEvent (and, with its answer, to isComplete); the
    Contents phase's, or with `vpc_id` the Leftovers phase's."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider-framework-onEvent",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/",
        "StackId": STACK_ID,
        "RequestId": "4f2c6a57-3c8f-4a1e-9d3b-0b6d2f1e8a90",
        "LogicalResourceId": "TeardownResource",
        "ResourceType": "Custom::StudioTeardown",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:...",
            "Phase": "Contents",
            "DomainId": DOMAIN_ID,
            "DomainArn": DOMAIN_ARN,
            "GiveUpAfterSeconds": str(GIVE_UP_AFTER),
        }
        if vpc_id is None
        else leftovers_properties(vpc_id),
        **extra,
    }
    if request_type != "Create":
        event.setdefault("PhysicalResourceId", DOMAIN_ID if vpc_id is None else f"studio-leftovers-{vpc_id}")
    return event


def delete_request(vpc_id: str | None = None) -> dict[str, Any]:
    """What isComplete receives for a Delete: the request merged with onEvent's answer."""
    event = request("Delete", vpc_id=vpc_id)
    return {**event, **on_event(event, None, now=STARTED)}


@dataclass
class World:
    studio: FakeStudio
    clients: Clients
    calls: list[tuple[str, dict[str, Any]]]
    ec2: EC2Client
    efs: EFSClient
    vpc_id: str
    subnet_id: str

    def poll(self, *, now: float = STARTED + 60) -> dict[str, Any]:
        """One poll of the Contents phase."""
        return is_complete(delete_request(), None, clients=self.clients, now=now)

    def poll_leftovers(self, *, now: float = STARTED + 60) -> dict[str, Any]:
        return is_complete(delete_request(self.vpc_id), None, clients=self.clients, now=now)

    def run(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(polls(self.poll, self.studio, limit))

    def run_leftovers(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(polls(self.poll_leftovers, self.studio, limit))

    def called(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def deletes(self) -> list[str]:
        return [name for name, _ in self.calls if name in DELETES]


@pytest.fixture
def world(boto_session: boto3.Session) -> Iterator[World]:
    """A domain with apps in two user profiles and a shared space, in a moto VPC; its stack being deleted."""
    with mock_aws():
        ec2 = boto_session.client("ec2")
        efs = boto_session.client("efs")
        vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        studio = FakeStudio(domain_id=DOMAIN_ID, domain_arn=DOMAIN_ARN)
        studio.profiles = {"alice": Item("InService"), "bob": Item("InService")}
        studio.spaces = {"team-notebooks": Item("InService")}
        studio.apps = {
            ("UserProfileName", "alice", "JupyterLab", "default"): Item("InService"),
            ("UserProfileName", "alice", "CodeEditor", "default"): Item("InService"),
            ("UserProfileName", "bob", "JupyterLab", "default"): Item("Deleting"),
            ("UserProfileName", "bob", "JupyterLab", "old"): Item("Deleted"),
            ("SpaceName", "team-notebooks", "JupyterLab", "default"): Item("InService"),
        }
        sagemaker = boto_session.client("sagemaker")
        cloudformation = boto_session.client("cloudformation")
        calls = answer_with(sagemaker, studio.answers())
        answer_with(cloudformation, stack_status("DELETE_IN_PROGRESS"))
        clients = Clients(sagemaker=sagemaker, ec2=ec2, efs=efs, cloudformation=cloudformation)
        yield World(studio, clients, calls, ec2, efs, vpc_id, subnet_id)


def add_home_efs(world: World, domain_arn: str = DOMAIN_ARN) -> tuple[str, list[str]]:
    """SageMaker's home EFS and NFS security groups for a domain: (file system id, [inbound, outbound])."""
    domain_id = domain_arn.rsplit("/", 1)[1]
    groups = []
    for name in nfs_security_group_names(domain_id):
        group_id = world.ec2.create_security_group(
            GroupName=name,
            Description=f"[DO NOT DELETE] NFS for SageMaker domain [{domain_id}]",
            VpcId=world.vpc_id,
            TagSpecifications=[
                {"ResourceType": "security-group", "Tags": [{"Key": TAG, "Value": domain_arn}]}
            ],
        )["GroupId"]
        groups.append(group_id)
    inbound, outbound = groups
    # Each group references the other, as SageMaker creates them.
    world.ec2.authorize_security_group_ingress(
        GroupId=inbound,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "UserIdGroupPairs": [{"GroupId": outbound}],
            }
        ],
    )
    world.ec2.authorize_security_group_egress(
        GroupId=outbound,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "UserIdGroupPairs": [{"GroupId": inbound}],
            }
        ],
    )
    file_system_id = world.efs.create_file_system(
        CreationToken=f"home-{domain_id}", Encrypted=True, Tags=[{"Key": TAG, "Value": domain_arn}]
    )["FileSystemId"]
    world.efs.create_mount_target(
        FileSystemId=file_system_id, SubnetId=world.subnet_id, SecurityGroups=[inbound]
    )
    return file_system_id, groups


def file_system_ids(world: World) -> set[str]:
    return {file_system["FileSystemId"] for file_system in world.efs.describe_file_systems()["FileSystems"]}


def group_ids(world: World) -> set[str]:
    return {group["GroupId"] for group in world.ec2.describe_security_groups()["SecurityGroups"]}


# --- create and update ---------------------------------------------------------------------------------


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_record_the_domain_id(request_type: str) -> None:
    answer = on_event(request(request_type), None)
    assert answer == {"PhysicalResourceId": DOMAIN_ID, "Data": {"DomainId": DOMAIN_ID}}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_of_the_leftovers_record_the_vpc_id(request_type: str) -> None:
    answer = on_event(request(request_type, vpc_id=VPC_ID), None)
    assert answer == {"PhysicalResourceId": f"studio-leftovers-{VPC_ID}", "Data": {"VpcId": VPC_ID}}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_are_complete_at_once(request_type: str) -> None:
    # No client is made: a Create or Update calls nothing.
    assert is_complete(request(request_type), None) == {"IsComplete": True}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DomainId", "", "DomainId must be a Studio domain id"),
        ("DomainArn", OTHER_DOMAIN_ARN, f"is not the ARN of domain {DOMAIN_ID}"),
        ("Phase", "Everything", "Phase must be 'Contents' or 'Leftovers'"),
        ("GiveUpAfterSeconds", "soon", "GiveUpAfterSeconds must be a whole number of seconds"),
    ],
)
def test_bad_properties_are_refused(name: str, value: str, message: str) -> None:
    event = request("Create")
    event["ResourceProperties"][name] = value
    with pytest.raises(PropertyError, match=message):
        on_event(event, None)


def test_a_leftovers_resource_needs_a_vpc_id() -> None:
    event = request("Create", vpc_id="subnet-0a1b2c3d")
    with pytest.raises(PropertyError, match="VpcId must be a VPC id"):
        on_event(event, None)


def test_delete_keeps_the_physical_id_and_records_when_it_began() -> None:
    answer = on_event(request("Delete"), None, now=STARTED)
    assert answer == {"PhysicalResourceId": DOMAIN_ID, "Data": {"TeardownStartedAt": str(STARTED)}}


# --- delete: apps, spaces, profiles, domain ----------------------------------------------------------------


def test_apps_of_profiles_and_spaces_are_deleted_before_anything_else(world: World) -> None:
    first = world.poll()
    assert first == {"IsComplete": False}
    deleted = {
        (params.get("UserProfileName") or params.get("SpaceName"), params["AppType"])
        for params in world.called("DeleteApp")
    }
    # Every live app, paginated (page size 2), of user profiles and the space alike; not the app already
    # Deleting, nor the Deleted one.
    assert deleted == {("alice", "JupyterLab"), ("alice", "CodeEditor"), ("team-notebooks", "JupyterLab")}
    assert all(params["DomainIdEquals"] == DOMAIN_ID for params in world.called("ListApps"))
    assert len(world.called("ListApps")) == 3
    # Nothing else while apps are left.
    assert world.deletes() == ["DeleteApp"] * 3


def test_the_contents_go_in_order_and_polling_waits(world: World) -> None:
    results = world.run()
    assert results[-1] == {"IsComplete": True}
    assert all(result == {"IsComplete": False} for result in results[:-1])
    deletes = world.deletes()
    # Apps, then spaces, then profiles, each once the previous ones are gone; never the domain (the
    # permissions boundary denies it: CloudFormation deletes it next).
    assert deletes == ["DeleteApp"] * 3 + ["DeleteSpace", "DeleteUserProfile", "DeleteUserProfile"]
    assert world.studio.domain is not None
    assert not world.studio.spaces and not world.studio.profiles


def test_slow_app_deletions_take_several_polls_and_are_asked_for_once(world: World) -> None:
    for app in world.studio.apps.values():
        app.polls_to_delete = 4
    results = world.run()
    assert results[-1] == {"IsComplete": True}
    polls_before_spaces = next(index for index, (name, _) in enumerate(world.calls) if name == "ListSpaces")
    assert world.deletes().count("DeleteApp") == 3  # not asked again while Deleting
    # Spaces are first listed at the fifth poll, once the apps' four polls of deleting are over; then one
    # poll for the space, one for the profiles, one to find nothing left.
    assert sum(1 for name, _ in world.calls[:polls_before_spaces] if name == "DescribeDomain") == 5
    assert results == [{"IsComplete": False}] * 6 + [{"IsComplete": True}]


def test_throttling_is_not_an_error_the_next_poll_goes_on(world: World) -> None:
    world.studio.throttle = {"ListApps", "DeleteSpace"}
    results = world.run()
    assert results[0] == {"IsComplete": False}
    assert results[-1] == {"IsComplete": True}
    assert not world.studio.spaces and not world.studio.profiles


def test_a_domain_that_no_longer_exists_is_nothing_to_do(world: World) -> None:
    world.studio.domain = None
    assert world.poll() == {"IsComplete": True}
    assert world.poll_leftovers() == {"IsComplete": True}
    assert world.deletes() == []


def test_a_space_whose_deletion_failed_is_named(world: World) -> None:
    world.studio.apps = {}
    world.studio.spaces["team-notebooks"].status = "Delete_Failed"
    with pytest.raises(
        TeardownError, match=r"could not delete the space\(s\) team-notebooks of domain d-abc"
    ):
        world.poll()


def test_an_app_still_there_at_the_deadline_is_named(world: World) -> None:
    for app in world.studio.apps.values():
        if app.status == "InService":
            app.polls_to_delete = 10_000
    assert world.poll(now=STARTED + GIVE_UP_AFTER - 30) == {"IsComplete": False}
    with pytest.raises(TeardownError) as raised:
        world.poll(now=STARTED + GIVE_UP_AFTER)
    message = str(raised.value)
    assert f"domain {DOMAIN_ID} is not torn down after {GIVE_UP_AFTER} s" in message
    assert "JupyterLab app default of space team-notebooks (Deleting)" in message
    assert "CodeEditor app default of user profile alice (Deleting)" in message
    assert "run the destroy again" in message


def test_a_live_stack_keeps_its_domain(world: World) -> None:
    # The resource left the template (the environment became retained) while the stack lives.
    cloudformation = boto3.Session(region_name=REGION).client("cloudformation")
    answer_with(cloudformation, stack_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"))
    clients = Clients(world.clients.sagemaker, world.ec2, world.efs, cloudformation)
    world.studio.domain = None
    file_system_id, groups = add_home_efs(world)
    for event in (delete_request(), delete_request(world.vpc_id)):
        assert is_complete(event, None, clients=clients, now=STARTED) == {"IsComplete": True}
    assert world.calls == []
    assert file_system_id in file_system_ids(world)
    assert set(groups) <= group_ids(world)


# --- delete, Leftovers: what SageMaker leaves in the VPC -------------------------------------------------


def test_leftovers_of_a_domain_that_exists_stay(world: World) -> None:
    file_system_id, groups = add_home_efs(world)
    assert world.run_leftovers() == [{"IsComplete": True}]
    assert file_system_id in file_system_ids(world)
    assert set(groups) <= group_ids(world)


def test_the_home_efs_and_nfs_groups_left_behind_are_deleted(world: World) -> None:
    world.studio.domain = None  # CloudFormation deleted it
    file_system_id, groups = add_home_efs(world)
    # Another domain's, in the same VPC, which still exists: not touched.
    world.studio.other_domain_ids = {OTHER_DOMAIN_ARN.rsplit("/", 1)[1]}
    other_file_system, other_groups = add_home_efs(world, OTHER_DOMAIN_ARN)
    ec2_calls: list[tuple[str, str]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        body = params.get("body", {})
        ec2_calls.append((model.name, body.get("GroupId", "") if isinstance(body, dict) else ""))

    world.ec2.meta.events.register("before-call.ec2", record)
    results = world.run_leftovers()
    assert results[-1] == {"IsComplete": True}
    assert file_system_id not in file_system_ids(world)
    assert not set(groups) & group_ids(world)
    assert other_file_system in file_system_ids(world)
    assert set(other_groups) <= group_ids(world)
    # EC2 refuses to delete a group another group's rule references (moto does not): revoked first.
    inbound, outbound = groups
    changes = [call for call in ec2_calls if call[0].startswith(("Revoke", "Delete"))]
    assert changes == [
        ("RevokeSecurityGroupIngress", inbound),
        ("RevokeSecurityGroupEgress", outbound),
        ("DeleteSecurityGroup", min(groups)),
        ("DeleteSecurityGroup", max(groups)),
    ]


def test_nfs_groups_wait_for_the_interfaces_that_use_them(world: World) -> None:
    world.studio.domain = None
    _, groups = add_home_efs(world)
    inbound = groups[0]
    interface = world.ec2.create_network_interface(SubnetId=world.subnet_id, Groups=[inbound])
    # The first poll deletes the file system's mount target, the second the file system: the groups stay
    # while another interface still uses the inbound group.
    for _ in range(3):
        assert world.poll_leftovers() == {"IsComplete": False}
    assert set(groups) <= group_ids(world)
    world.ec2.delete_network_interface(NetworkInterfaceId=interface["NetworkInterface"]["NetworkInterfaceId"])
    results = world.run_leftovers()
    assert results[-1] == {"IsComplete": True}
    assert not set(groups) & group_ids(world)


# --- scripted failures (Stubber) ---------------------------------------------------------------------------


@pytest.fixture
def stubbed(boto_session: boto3.Session) -> Iterator[tuple[Clients, Stubber]]:
    sagemaker = boto_session.client("sagemaker")
    cloudformation = boto_session.client("cloudformation")
    answer_with(cloudformation, stack_status("DELETE_IN_PROGRESS"))
    clients = Clients(sagemaker, boto_session.client("ec2"), boto_session.client("efs"), cloudformation)
    with Stubber(sagemaker) as stubber:
        stubber.add_response(
            "describe_domain",
            {"DomainId": DOMAIN_ID, "DomainArn": DOMAIN_ARN, "Status": "InService"},
            {"DomainId": DOMAIN_ID},
        )
        yield clients, stubber
        stubber.assert_no_pending_responses()


def test_throttling_past_the_retries_is_reported_as_not_complete(stubbed: tuple[Clients, Stubber]) -> None:
    clients, stubber = stubbed
    stubber.add_client_error("list_apps", service_error_code="ThrottlingException", http_status_code=400)
    assert is_complete(delete_request(), None, clients=clients) == {"IsComplete": False}


def test_a_failed_app_is_named_with_its_reason(stubbed: tuple[Clients, Stubber]) -> None:
    clients, stubber = stubbed
    stubber.add_response(
        "list_apps",
        {
            "Apps": [
                {
                    "DomainId": DOMAIN_ID,
                    "SpaceName": "team-notebooks",
                    "AppType": "JupyterLab",
                    "AppName": "default",
                    "Status": "Failed",
                }
            ]
        },
        {"DomainIdEquals": DOMAIN_ID},
    )
    stubber.add_response(
        "describe_app",
        {"AppName": "default", "Status": "Failed", "FailureReason": "Instance could not be stopped"},
        {"DomainId": DOMAIN_ID, "SpaceName": "team-notebooks", "AppType": "JupyterLab", "AppName": "default"},
    )
    with pytest.raises(TeardownError) as raised:
        is_complete(delete_request(), None, clients=clients)
    assert (
        "SageMaker reports Failed for JupyterLab app default of space team-notebooks "
        "(Instance could not be stopped) in domain d-abc123xyz789"
    ) in str(raised.value)


def test_other_aws_errors_fail_with_the_domain_named(stubbed: tuple[Clients, Stubber]) -> None:
    clients, stubber = stubbed
    stubber.add_client_error(
        "list_apps",
        service_error_code="AccessDeniedException",
        service_message="not authorized",
        http_status_code=400,
    )
    with pytest.raises(TeardownError, match=f"tearing down domain {DOMAIN_ID} failed: AccessDeniedException"):
        is_complete(delete_request(), None, clients=clients)
