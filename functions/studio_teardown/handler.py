"""Two custom resources that take a Studio domain down with its stack, so `cdk destroy` reaches the VPC.

Users start apps (CloudFormation does not know them), and while an app runs SageMaker refuses to delete its
user profile or space; once the domain is gone, its home EFS (CloudFormation's delete keeps it) and
SageMaker's NFS security groups keep the VPC from being deleted. Runs behind the CDK
`custom_resources.Provider` framework with an isComplete handler, in disposable environments only. The
platform's permissions boundary denies every role `sagemaker:DeleteDomain`: CloudFormation deletes the
domain, between the two phases.

- Phase `Contents` (a resource that depends on the domain, its user profiles and spaces: deleted first):
  each poll deletes every app of every user profile and space (`ListApps` with `DomainIdEquals`; apps
  already `Deleted` or `Deleting` are left to finish), then, once no app is left, every space, then every
  user profile, those users created in Studio included. CloudFormation then deletes the domain and finds the
  template's profiles and spaces already gone.
- Phase `Leftovers` (a resource the domain depends on: deleted after it): each poll finds, in the VPC, the
  NFS security groups (`security-group-for-{inbound,outbound}-nfs-<domain id>`) and home EFS file systems
  (mount targets in the VPC) that SageMaker tagged `ManagedByAmazonSageMakerResource` with the ARN of a
  domain that no longer exists, deletes each file system's mount targets, then the file system, then the
  groups once no network interface uses them, each rule referencing the other group revoked first. A
  domain that still exists (another stack's, in the same VPC) keeps all of its.

`on_event` Create and Update record what the resource is for (the domain id, or the VPC id) as the physical
resource id; Delete records when it began (`Data.TeardownStartedAt`, epoch seconds, passed on by the
framework to every poll) and leaves the work to `is_complete`. A Delete tears down only while its stack is
being deleted (`DELETE_IN_PROGRESS`, or `ROLLBACK_IN_PROGRESS` after a failed create): a resource removed
from the template or replaced while its stack lives (`UPDATE_*`) leaves everything alone.

Every step reads the state from AWS, so a poll may run any number of times, and a failed or timed-out
delete resumes where it stopped when the destroy runs again. Throttling the client's retries could not
absorb leaves the resource incomplete until the next poll. A Failed app, or a space or user profile whose
deletion failed, raises an error naming it; so does anything still there `GiveUpAfterSeconds` after the
Delete began, a little before the framework's own timeout, whose message ("Operation timed out") names
nothing.

ResourceProperties (CloudFormation passes every value as a string): `Phase` ("Contents" or "Leftovers"),
`GiveUpAfterSeconds`; for Contents `DomainId` and `DomainArn`, for Leftovers `VpcId`.

The asset is this package and functions/_runtime (shared logging): standard library and boto3 only.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from functions._runtime.logs import event_log

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import IpPermissionTypeDef
    from mypy_boto3_efs import EFSClient
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.literals import AppTypeType

# SageMaker tags the resources it creates for a domain (home EFS, NFS security groups) with the domain's ARN.
SAGEMAKER_TAG: Final = "ManagedByAmazonSageMakerResource"
DOMAIN_ID_PATTERN: Final = re.compile(r"^d-[a-z0-9]{1,63}$")
DOMAIN_ARN_PATTERN: Final = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:[0-9]{12}:domain/d-[a-z0-9]+$"
)
VPC_ID_PATTERN: Final = re.compile(r"^vpc-[0-9a-f]{8,17}$")
SECONDS_PATTERN: Final = re.compile(r"^[1-9][0-9]{0,5}$")
# Stack statuses in which a Delete of this resource means the domain goes too.
TEARDOWN_STACK_STATUSES: Final = frozenset({"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})
THROTTLING_ERRORS: Final = frozenset(
    {"ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException"}
)
NOT_FOUND_ERRORS: Final = frozenset(
    {"ResourceNotFound", "InvalidGroup.NotFound", "FileSystemNotFound", "MountTargetNotFound"}
)
APP_DONE: Final = frozenset({"Deleted"})
APP_IN_PROGRESS: Final = frozenset({"Deleting"})
# Spaces and user profiles: a delete that failed; the rest (InService, Failed, Pending, Updating...) is
# asked to delete, and Deleting is waited for.
DELETE_FAILED: Final = "Delete_Failed"
DELETING: Final = "Deleting"

log = event_log("studio_teardown")


class TeardownError(RuntimeError):
    """Something of the domain cannot be deleted without a person; the message names it and what to do."""


class PropertyError(ValueError):
    """The custom resource's properties are wrong (a bug in the stack that declares it)."""


CONTENTS: Final = "Contents"
LEFTOVERS: Final = "Leftovers"


@dataclass(frozen=True)
class Properties:
    phase: str
    give_up_after_seconds: int
    domain_id: str = ""  # Contents
    domain_arn: str = ""  # Contents
    vpc_id: str = ""  # Leftovers

    @property
    def physical_id(self) -> str:
        return self.domain_id if self.phase == CONTENTS else f"studio-leftovers-{self.vpc_id}"


@dataclass(frozen=True)
class Clients:
    sagemaker: SageMakerClient
    ec2: EC2Client
    efs: EFSClient
    cloudformation: CloudFormationClient


def _required(properties: Mapping[str, object], name: str, pattern: re.Pattern[str], what: str) -> str:
    value = properties.get(name)
    if not isinstance(value, str) or not pattern.match(value):
        raise PropertyError(f"{name} must be {what}, got {value!r}")
    return value


def parse_properties(properties: object) -> Properties:
    """The resource's properties; raises PropertyError naming the property."""
    if not isinstance(properties, Mapping):
        raise PropertyError("ResourceProperties is missing or not an object")
    phase = properties.get("Phase")
    give_up = int(_required(properties, "GiveUpAfterSeconds", SECONDS_PATTERN, "a whole number of seconds"))
    if phase == CONTENTS:
        domain_id = _required(properties, "DomainId", DOMAIN_ID_PATTERN, "a Studio domain id (d-...)")
        domain_arn = _required(properties, "DomainArn", DOMAIN_ARN_PATTERN, "a Studio domain ARN")
        if not domain_arn.endswith(f"/{domain_id}"):
            raise PropertyError(f"DomainArn {domain_arn} is not the ARN of domain {domain_id}")
        return Properties(phase, give_up, domain_id=domain_id, domain_arn=domain_arn)
    if phase == LEFTOVERS:
        vpc_id = _required(properties, "VpcId", VPC_ID_PATTERN, "a VPC id (vpc-...)")
        return Properties(phase, give_up, vpc_id=vpc_id)
    raise PropertyError(f"Phase must be {CONTENTS!r} or {LEFTOVERS!r}, got {phase!r}")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


@functools.cache
def default_clients() -> Clients:
    """Clients for Lambda's region, made once per execution environment; throttling is retried first."""
    region = os.environ.get("AWS_REGION") or None  # None: boto3's own resolution (AWS_DEFAULT_REGION, config)
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)
    return Clients(
        sagemaker=boto3.client("sagemaker", region_name=region, config=config),
        ec2=boto3.client("ec2", region_name=region, config=config),
        efs=boto3.client("efs", region_name=region, config=config),
        cloudformation=boto3.client("cloudformation", region_name=region, config=config),
    )


# --- what is left of the domain ---------------------------------------------------------------------------


@dataclass(frozen=True)
class App:
    app_type: AppTypeType
    app_name: str
    status: str
    user_profile_name: str | None
    space_name: str | None

    @property
    def owner(self) -> dict[str, str]:
        """The DeleteApp/DescribeApp argument naming whose app it is."""
        if self.space_name:
            return {"SpaceName": self.space_name}
        return {"UserProfileName": self.user_profile_name or ""}

    @property
    def label(self) -> str:
        whose = f"space {self.space_name}" if self.space_name else f"user profile {self.user_profile_name}"
        return f"{self.app_type} app {self.app_name} of {whose}"


def list_apps(sagemaker: SageMakerClient, domain_id: str) -> list[App]:
    """Every app of the domain that is not Deleted, of user profiles and spaces alike."""
    apps = []
    for page in sagemaker.get_paginator("list_apps").paginate(DomainIdEquals=domain_id):
        for app in page.get("Apps", []):
            status = str(app.get("Status", ""))
            if status in APP_DONE:
                continue
            apps.append(
                App(
                    app_type=app["AppType"],
                    app_name=str(app.get("AppName", "")),
                    status=status,
                    user_profile_name=app.get("UserProfileName") or None,
                    space_name=app.get("SpaceName") or None,
                )
            )
    return apps


def _names(pages: Iterator[Mapping[str, Any]], key: str, name_key: str) -> dict[str, str]:
    """name -> status of the items of a paginated list (spaces or user profiles)."""
    return {str(item[name_key]): str(item.get("Status", "")) for page in pages for item in page.get(key, [])}


def _raise_for_failed_deletes(kind: str, domain_id: str, statuses: Mapping[str, str]) -> None:
    failed = sorted(name for name, status in statuses.items() if status == DELETE_FAILED)
    if failed:
        raise TeardownError(
            f"SageMaker could not delete the {kind}(s) {', '.join(failed)} of domain {domain_id} "
            f"(status {DELETE_FAILED}); describe each for its FailureReason, delete it in the console or "
            "with the AWS CLI, then run the destroy again (it resumes where it stopped)"
        )


# --- the steps ----------------------------------------------------------------------------------------------


def delete_apps(sagemaker: SageMakerClient, domain_id: str) -> list[App]:
    """Ask for the deletion of every app not already Deleting; returns the apps still there."""
    apps = list_apps(sagemaker, domain_id)
    failed = [app for app in apps if app.status == "Failed"]
    if failed:
        reasons = []
        for app in failed:
            try:
                described = sagemaker.describe_app(
                    DomainId=domain_id,
                    AppType=app.app_type,
                    AppName=app.app_name,
                    **app.owner,
                )
                reason = str(described.get("FailureReason") or "no reason given")
            except ClientError as error:
                reason = f"could not describe it: {_code(error)}"
            reasons.append(f"{app.label} ({reason})")
        raise TeardownError(
            f"SageMaker reports Failed for {'; '.join(reasons)} in domain {domain_id}: delete each in the "
            "console or with `aws sagemaker delete-app`, then run the destroy again (it resumes where it "
            "stopped)"
        )
    for app in apps:
        if app.status in APP_IN_PROGRESS:
            continue
        try:
            sagemaker.delete_app(
                DomainId=domain_id,
                AppType=app.app_type,
                AppName=app.app_name,
                **app.owner,
            )
            log(logging.INFO, "deleting app", domain_id=domain_id, app=app.label, status=app.status)
        except ClientError as error:
            code = _code(error)
            if code in THROTTLING_ERRORS:
                raise
            if code in NOT_FOUND_ERRORS:
                continue
            # A Pending app cannot be deleted until it is InService: the next poll asks again.
            log(logging.INFO, "app not deletable yet", app=app.label, status=app.status, error=code)
    return apps


# Per kind of domain member: its List operation, the list's key, the name key and the Delete operation.
_MEMBERS: Final = {
    "space": ("list_spaces", "Spaces", "SpaceName", "delete_space"),
    "user profile": ("list_user_profiles", "UserProfiles", "UserProfileName", "delete_user_profile"),
}


def _delete_members(sagemaker: SageMakerClient, domain_id: str, kind: str) -> list[str]:
    """Ask SageMaker to delete every space (or user profile) of the domain; the names still listed."""
    list_operation, list_key, name_key, delete_operation = _MEMBERS[kind]
    members = _names(
        iter(sagemaker.get_paginator(list_operation).paginate(DomainIdEquals=domain_id)),  # type: ignore[call-overload]
        list_key,
        name_key,
    )
    _raise_for_failed_deletes(kind, domain_id, members)
    for name, status in sorted(members.items()):
        if status == DELETING:
            continue
        _delete_ignoring_not_found(
            functools.partial(getattr(sagemaker, delete_operation), DomainId=domain_id, **{name_key: name}),
            f"deleting {kind}",
            domain_id=domain_id,
            **{kind.replace(" ", "_"): name},
        )
    return sorted(members)


def delete_spaces(sagemaker: SageMakerClient, domain_id: str) -> list[str]:
    return _delete_members(sagemaker, domain_id, "space")


def delete_user_profiles(sagemaker: SageMakerClient, domain_id: str) -> list[str]:
    return _delete_members(sagemaker, domain_id, "user profile")


def _delete_ignoring_not_found(call: Callable[[], object], message: str, **fields: object) -> None:
    try:
        call()
        log(logging.INFO, message, **fields)
    except ClientError as error:
        if _code(error) not in NOT_FOUND_ERRORS:
            raise


def describe_domain(sagemaker: SageMakerClient, domain_id: str) -> Mapping[str, Any] | None:
    """The domain, or None when SageMaker no longer knows it."""
    try:
        return sagemaker.describe_domain(DomainId=domain_id)
    except ClientError as error:
        if _code(error) in NOT_FOUND_ERRORS:
            return None
        raise


def domain_exists(sagemaker: SageMakerClient, domain_id: str) -> bool:
    return describe_domain(sagemaker, domain_id) is not None


@dataclass
class Leftovers:
    """What SageMaker left in the VPC for one domain: its NFS security groups and home file systems."""

    security_groups: list[Mapping[str, Any]]
    file_systems: list[str]


def _sagemaker_domain(tags: Sequence[Mapping[str, Any]]) -> str | None:
    """The domain ARN SageMaker tagged a resource with, or None."""
    value = next((tag.get("Value") for tag in tags if tag.get("Key") == SAGEMAKER_TAG), None)
    return value if isinstance(value, str) and DOMAIN_ARN_PATTERN.match(value) else None


def find_leftovers(clients: Clients, vpc_id: str) -> dict[str, Leftovers]:
    """Domain ARN -> its NFS security groups in the VPC and its home file systems with mount targets in it
    (or none left, once its groups are in the VPC)."""
    found: dict[str, Leftovers] = {}
    for page in clients.ec2.get_paginator("describe_security_groups").paginate(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    ):
        for group in page.get("SecurityGroups", []):
            domain_arn = _sagemaker_domain(group.get("Tags", []))
            if domain_arn is None or group.get("GroupName") not in nfs_security_group_names(
                domain_arn.rsplit("/", 1)[1]
            ):
                continue
            found.setdefault(domain_arn, Leftovers([], [])).security_groups.append(group)
    subnets = {
        subnet["SubnetId"]
        for page in clients.ec2.get_paginator("describe_subnets").paginate(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        )
        for subnet in page.get("Subnets", [])
    }
    for file_system_page in clients.efs.get_paginator("describe_file_systems").paginate():
        for file_system in file_system_page.get("FileSystems", []):
            domain_arn = _sagemaker_domain(file_system.get("Tags", []))
            if domain_arn is None or file_system.get("LifeCycleState") in {"deleting", "deleted"}:
                continue
            file_system_id = file_system["FileSystemId"]
            try:
                mount_targets = clients.efs.describe_mount_targets(FileSystemId=file_system_id)[
                    "MountTargets"
                ]
            except ClientError as error:
                if _code(error) in NOT_FOUND_ERRORS:
                    continue
                raise
            in_vpc = any(
                target.get("VpcId") == vpc_id or target.get("SubnetId") in subnets for target in mount_targets
            )
            if in_vpc or (not mount_targets and domain_arn in found):
                found.setdefault(domain_arn, Leftovers([], [])).file_systems.append(file_system_id)
    return found


def delete_file_system(efs: EFSClient, file_system_id: str) -> None:
    """Delete its mount targets; once it has none, the file system."""
    try:
        mount_targets = efs.describe_mount_targets(FileSystemId=file_system_id)["MountTargets"]
    except ClientError as error:
        if _code(error) in NOT_FOUND_ERRORS:
            return
        raise
    for mount_target in mount_targets:
        if mount_target.get("LifeCycleState") in {"deleting", "deleted"}:
            continue
        _delete_ignoring_not_found(
            functools.partial(efs.delete_mount_target, MountTargetId=mount_target["MountTargetId"]),
            "deleting home EFS mount target",
            file_system_id=file_system_id,
            mount_target=mount_target["MountTargetId"],
        )
    if not mount_targets:
        try:
            efs.delete_file_system(FileSystemId=file_system_id)
            log(logging.INFO, "deleting home EFS", file_system_id=file_system_id)
        except ClientError as error:
            if _code(error) not in NOT_FOUND_ERRORS | {"FileSystemInUse"}:
                raise


def nfs_security_group_names(domain_id: str) -> tuple[str, str]:
    return (f"security-group-for-inbound-nfs-{domain_id}", f"security-group-for-outbound-nfs-{domain_id}")


def delete_security_groups(ec2: EC2Client, groups: Sequence[Mapping[str, Any]]) -> list[str]:
    """Delete SageMaker's NFS security groups of one domain once no network interface uses them (their
    rules referencing each other revoked first); returns the groups still there."""
    group_ids = sorted(group["GroupId"] for group in groups)
    interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": group_ids}]).get(
        "NetworkInterfaces", []
    )
    if interfaces:
        log(
            logging.INFO,
            "NFS security groups still in use",
            security_groups=group_ids,
            network_interfaces=sorted(interface["NetworkInterfaceId"] for interface in interfaces),
        )
        return group_ids
    for group in groups:
        _revoke_group_references(ec2, group, set(group_ids))
    left = []
    for group_id in group_ids:
        try:
            ec2.delete_security_group(GroupId=group_id)
            log(logging.INFO, "deleted NFS security group", security_group=group_id)
        except ClientError as error:
            code = _code(error)
            if code in NOT_FOUND_ERRORS:
                continue
            if code == "DependencyViolation":
                left.append(group_id)
                continue
            raise
    return left


def _revoke_group_references(ec2: EC2Client, group: Mapping[str, Any], group_ids: set[str]) -> None:
    """Revoke the rules of `group` that name one of `group_ids`: while one group's rule references the
    other, EC2 refuses to delete the other."""
    for direction, key in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
        permissions: list[IpPermissionTypeDef] = []
        for permission in group.get(key, []):
            pairs = [
                pair for pair in permission.get("UserIdGroupPairs", []) if pair.get("GroupId") in group_ids
            ]
            if not pairs:
                continue
            rule: IpPermissionTypeDef = {
                "IpProtocol": permission["IpProtocol"],
                "UserIdGroupPairs": [{"GroupId": pair["GroupId"]} for pair in pairs],
            }
            for port in ("FromPort", "ToPort"):
                if port in permission:
                    rule[port] = permission[port]
            permissions.append(rule)
        if not permissions:
            continue
        revoke = (
            ec2.revoke_security_group_ingress if direction == "ingress" else ec2.revoke_security_group_egress
        )
        try:
            revoke(GroupId=group["GroupId"], IpPermissions=permissions)
            log(logging.INFO, f"revoked {direction} references", security_group=group["GroupId"])
        except ClientError as error:
            if _code(error) not in NOT_FOUND_ERRORS | {"InvalidPermission.NotFound"}:
                raise


@dataclass(frozen=True)
class Progress:
    """What a poll found still there; empty when the phase is done."""

    apps: Sequence[App] = ()
    spaces: Sequence[str] = ()
    user_profiles: Sequence[str] = ()
    file_systems: Sequence[str] = ()
    security_groups: Sequence[str] = ()

    @property
    def done(self) -> bool:
        return not (
            self.apps or self.spaces or self.user_profiles or self.file_systems or self.security_groups
        )

    def summary(self) -> dict[str, list[str]]:
        return {
            "apps": [f"{app.label} ({app.status})" for app in self.apps],
            "spaces": list(self.spaces),
            "user_profiles": list(self.user_profiles),
            "file_systems": list(self.file_systems),
            "security_groups": list(self.security_groups),
        }


def contents_step(sagemaker: SageMakerClient, domain_id: str) -> Progress:
    """One poll of the Contents phase: apps, then spaces, then user profiles; nothing for a missing domain."""
    if not domain_exists(sagemaker, domain_id):
        log(logging.INFO, "the domain no longer exists: nothing to delete", domain_id=domain_id)
        return Progress()
    apps = delete_apps(sagemaker, domain_id)
    if apps:
        return Progress(apps=apps)
    spaces = delete_spaces(sagemaker, domain_id)
    if spaces:
        return Progress(spaces=spaces)
    return Progress(user_profiles=delete_user_profiles(sagemaker, domain_id))


def leftovers_step(clients: Clients, vpc_id: str) -> Progress:
    """One poll of the Leftovers phase: what SageMaker left in the VPC for domains that no longer exist."""
    file_systems: list[str] = []
    security_groups: list[str] = []
    for domain_arn, leftovers in sorted(find_leftovers(clients, vpc_id).items()):
        domain_id = domain_arn.rsplit("/", 1)[1]
        if domain_exists(clients.sagemaker, domain_id):
            log(logging.INFO, "domain still exists: its resources stay", domain_id=domain_id)
            continue
        for file_system_id in leftovers.file_systems:
            delete_file_system(clients.efs, file_system_id)
        file_systems.extend(leftovers.file_systems)
        if leftovers.file_systems:
            # Their mount targets' interfaces are in the groups: the groups wait for the next polls.
            security_groups.extend(group["GroupId"] for group in leftovers.security_groups)
        elif leftovers.security_groups:
            security_groups.extend(delete_security_groups(clients.ec2, leftovers.security_groups))
    return Progress(file_systems=sorted(file_systems), security_groups=sorted(security_groups))


# --- the custom resource ---------------------------------------------------------------------------------


def stack_is_being_deleted(cloudformation: CloudFormationClient, stack_id: str) -> bool:
    stacks = cloudformation.describe_stacks(StackName=stack_id).get("Stacks", [])
    status = str(stacks[0].get("StackStatus", "")) if stacks else ""
    log(logging.INFO, "stack status", stack_id=stack_id, status=status)
    return status in TEARDOWN_STACK_STATUSES


def on_event(event: Mapping[str, Any], context: object, *, now: float | None = None) -> dict[str, Any]:
    """The Provider framework's onEvent handler: records what the resource is for; a Delete records when it
    began and leaves the work to `is_complete`. `now` (epoch seconds) is for tests."""
    request_type = event.get("RequestType")
    if request_type == "Delete":
        physical_id = event.get("PhysicalResourceId")
        started = int(time.time() if now is None else now)
        log(logging.INFO, "studio teardown requested", physical_resource_id=physical_id, started=started)
        # The framework refuses a changed physical id on Delete: keep it.
        return {"PhysicalResourceId": physical_id, "Data": {"TeardownStartedAt": str(started)}}
    if request_type not in {"Create", "Update"}:
        raise PropertyError(f"RequestType {request_type!r} is not Create, Update or Delete")
    properties = parse_properties(event.get("ResourceProperties"))
    log(
        logging.INFO,
        "studio teardown recorded",
        request_type=request_type,
        physical_id=properties.physical_id,
    )
    data = (
        {"DomainId": properties.domain_id} if properties.phase == CONTENTS else {"VpcId": properties.vpc_id}
    )
    return {"PhysicalResourceId": properties.physical_id, "Data": data}


def _started_at(event: Mapping[str, Any]) -> float | None:
    data = event.get("Data")
    value = data.get("TeardownStartedAt") if isinstance(data, Mapping) else None
    return float(value) if isinstance(value, str) and value.isdigit() else None


def _recorded(event: Mapping[str, Any], properties: Properties) -> Properties | None:
    """What the Delete is for: what was recorded (the physical id), which differs from the properties when
    the domain was replaced; None when nothing was recorded."""
    physical_id = event.get("PhysicalResourceId")
    if physical_id == properties.physical_id:
        return properties
    if properties.phase == CONTENTS and isinstance(physical_id, str) and DOMAIN_ID_PATTERN.match(physical_id):
        arn = properties.domain_arn.rsplit("/", 1)[0] + f"/{physical_id}"
        return Properties(CONTENTS, properties.give_up_after_seconds, domain_id=physical_id, domain_arn=arn)
    prefix = "studio-leftovers-"
    if properties.phase == LEFTOVERS and isinstance(physical_id, str) and physical_id.startswith(prefix):
        vpc_id = physical_id.removeprefix(prefix)
        if VPC_ID_PATTERN.match(vpc_id):
            return Properties(LEFTOVERS, properties.give_up_after_seconds, vpc_id=vpc_id)
    return None


def is_complete(
    event: Mapping[str, Any], context: object, *, clients: Clients | None = None, now: float | None = None
) -> dict[str, Any]:
    """The Provider framework's isComplete handler. `clients` and `now` are for tests; Lambda passes event and
    context."""
    if event.get("RequestType") != "Delete":
        return {"IsComplete": True}
    properties = _recorded(event, parse_properties(event.get("ResourceProperties")))
    if properties is None:
        log(
            logging.INFO,
            "nothing recorded: nothing to tear down",
            physical_id=event.get("PhysicalResourceId"),
        )
        return {"IsComplete": True}
    what = f"domain {properties.domain_id}" if properties.phase == CONTENTS else f"VPC {properties.vpc_id}"
    clients = clients or default_clients()
    try:
        if not stack_is_being_deleted(clients.cloudformation, str(event.get("StackId", ""))):
            log(logging.INFO, "resource removed while its stack lives: everything stays", target=what)
            return {"IsComplete": True}
        if properties.phase == CONTENTS:
            progress = contents_step(clients.sagemaker, properties.domain_id)
        else:
            progress = leftovers_step(clients, properties.vpc_id)
    except ClientError as error:
        if _code(error) in THROTTLING_ERRORS:
            log(logging.WARNING, "throttled: trying again at the next poll", error=_message(error))
            return {"IsComplete": False}
        raise TeardownError(f"tearing down {what} failed: {_code(error)}: {_message(error)}") from error
    if progress.done:
        log(logging.INFO, "studio teardown done", phase=properties.phase, target=what)
        return {"IsComplete": True}
    log(
        logging.INFO, "studio teardown in progress", phase=properties.phase, target=what, **progress.summary()
    )
    started = _started_at(event)
    elapsed = (time.time() if now is None else now) - started if started is not None else 0.0
    if elapsed >= properties.give_up_after_seconds:
        left = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in progress.summary().items() if names)
        raise TeardownError(
            f"{what} is not torn down after {int(elapsed)} s; still there: {left}. SageMaker is still "
            "deleting them (or cannot): check them in the console, then run the destroy again; it resumes "
            "where it stopped"
        )
    return {"IsComplete": False}
