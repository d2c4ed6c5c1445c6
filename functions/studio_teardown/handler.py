"""A custom resource that tears a Studio domain down when its stack is deleted: apps, spaces, user profiles,
the domain with its home EFS, and the two NFS security groups SageMaker created in the VPC.

Runs behind the CDK `custom_resources.Provider` framework with an isComplete handler, in disposable
environments only. Users start apps (CloudFormation does not know them), and while an app runs SageMaker
refuses to delete its user profile or space; once the domain is gone, its home EFS (kept by CloudFormation's
delete) and SageMaker's NFS security groups keep the VPC from being deleted.

- `on_event` Create and Update record the domain id: it is the physical resource id and `Data.DomainId`.
  Delete calls nothing: the work is done by `is_complete`, one step per poll.
- `is_complete` Delete first reads the stack's status. Only a stack being deleted (`DELETE_IN_PROGRESS`,
  or `ROLLBACK_IN_PROGRESS` after a failed create) is torn down; a resource removed from the template or
  replaced while its stack lives (`UPDATE_*`) leaves the domain alone. Then, each poll, it looks at what
  is left and asks for the next deletions: apps of every user profile and space (`ListApps` with
  `DomainIdEquals`; apps already `Deleted` or `Deleting` are left to finish), then spaces, then user
  profiles, then `DeleteDomain` with `RetentionPolicy.HomeEfsFileSystem=Delete`; once the domain is gone,
  the home EFS file systems SageMaker tagged with the domain's ARN (`ManagedByAmazonSageMakerResource`):
  mount targets, then the file system; then the NFS security groups
  (`security-group-for-{inbound,outbound}-nfs-<domain id>` in the VPC), once no network interface uses
  them, each rule referencing the other group revoked first. It is complete when nothing is left.

Every step reads the state from AWS, so a poll may run any number of times, and a failed or timed-out
delete resumes where it stopped when `cdk destroy` runs again. Throttling the client's retries could not
absorb leaves the resource incomplete until the next poll. A Failed app, or a space, user profile or
domain whose deletion failed, raises an error naming it and what SageMaker said.

ResourceProperties (CloudFormation passes every value as a string):
- `DomainId` (required), `DomainArn` (required: the EFS and security groups carry it in their tag),
  `VpcId` (required: where the security groups are).
- `GiveUpAfterSeconds` (required): how long after the Delete began `is_complete` stops with an error that
  names what is still there (an app that takes longer, for instance), a little before the framework's own
  timeout, whose message ("Operation timed out") would name nothing. `on_event` records when the Delete
  began in `Data.TeardownStartedAt` (epoch seconds), which the framework passes on to every poll.

This module is the whole asset: standard library and boto3 only, nothing else from the project.
"""

from __future__ import annotations

import functools
import json
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

logger = logging.getLogger("studio_teardown")
if "AWS_LAMBDA_LOG_LEVEL" not in os.environ:
    # Lambda's text log format leaves the root logger at WARNING; with its JSON format and an application log
    # level, the runtime sets AWS_LAMBDA_LOG_LEVEL and the level is left to it.
    logger.setLevel(logging.INFO)


def log(level: int, message: str, **fields: object) -> None:
    """One searchable line: the message, then key=value pairs (values JSON-encoded)."""
    rendered = " ".join(f"{key}={json.dumps(value, default=str)}" for key, value in fields.items())
    logger.log(level, "%s %s", message, rendered, extra=fields)


class TeardownError(RuntimeError):
    """Something of the domain cannot be deleted without a person; the message names it and what to do."""


class PropertyError(ValueError):
    """The custom resource's properties are wrong (a bug in the stack that declares it)."""


@dataclass(frozen=True)
class Properties:
    domain_id: str
    domain_arn: str
    vpc_id: str
    give_up_after_seconds: int


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
    domain_id = _required(properties, "DomainId", DOMAIN_ID_PATTERN, "a Studio domain id (d-...)")
    domain_arn = _required(properties, "DomainArn", DOMAIN_ARN_PATTERN, "a Studio domain ARN")
    if not domain_arn.endswith(f"/{domain_id}"):
        raise PropertyError(f"DomainArn {domain_arn} is not the ARN of domain {domain_id}")
    vpc_id = _required(properties, "VpcId", VPC_ID_PATTERN, "a VPC id (vpc-...)")
    give_up = _required(properties, "GiveUpAfterSeconds", SECONDS_PATTERN, "a whole number of seconds")
    return Properties(
        domain_id=domain_id, domain_arn=domain_arn, vpc_id=vpc_id, give_up_after_seconds=int(give_up)
    )


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


def delete_spaces(sagemaker: SageMakerClient, domain_id: str) -> list[str]:
    spaces = _names(
        iter(sagemaker.get_paginator("list_spaces").paginate(DomainIdEquals=domain_id)),
        "Spaces",
        "SpaceName",
    )
    _raise_for_failed_deletes("space", domain_id, spaces)
    for name, status in sorted(spaces.items()):
        if status == DELETING:
            continue
        _delete_ignoring_not_found(
            functools.partial(sagemaker.delete_space, DomainId=domain_id, SpaceName=name),
            "deleting space",
            domain_id=domain_id,
            space=name,
        )
    return sorted(spaces)


def delete_user_profiles(sagemaker: SageMakerClient, domain_id: str) -> list[str]:
    profiles = _names(
        iter(sagemaker.get_paginator("list_user_profiles").paginate(DomainIdEquals=domain_id)),
        "UserProfiles",
        "UserProfileName",
    )
    _raise_for_failed_deletes("user profile", domain_id, profiles)
    for name, status in sorted(profiles.items()):
        if status == DELETING:
            continue
        _delete_ignoring_not_found(
            functools.partial(sagemaker.delete_user_profile, DomainId=domain_id, UserProfileName=name),
            "deleting user profile",
            domain_id=domain_id,
            user_profile=name,
        )
    return sorted(profiles)


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


def delete_domain(sagemaker: SageMakerClient, domain_id: str, domain: Mapping[str, Any]) -> None:
    status = str(domain.get("Status", ""))
    if status == DELETE_FAILED:
        raise TeardownError(
            f"SageMaker could not delete domain {domain_id}: "
            f"{domain.get('FailureReason') or 'no reason given'}; fix the cause, then run the destroy again "
            "(it resumes where it stopped)"
        )
    if status == DELETING:
        return
    _delete_ignoring_not_found(
        functools.partial(
            sagemaker.delete_domain, DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"}
        ),
        "deleting domain and its home EFS",
        domain_id=domain_id,
    )


def delete_home_file_systems(efs: EFSClient, domain_arn: str) -> list[str]:
    """Delete the mount targets, then the file system, of every EFS tagged with the domain's ARN; returns
    the file systems still there."""
    left = []
    for page in efs.get_paginator("describe_file_systems").paginate():
        for file_system in page.get("FileSystems", []):
            tags = {tag["Key"]: tag["Value"] for tag in file_system.get("Tags", [])}
            if tags.get(SAGEMAKER_TAG) != domain_arn:
                continue
            file_system_id = file_system["FileSystemId"]
            left.append(file_system_id)
            if file_system.get("LifeCycleState") in {"deleting", "deleted"}:
                continue
            try:
                mount_targets = efs.describe_mount_targets(FileSystemId=file_system_id).get(
                    "MountTargets", []
                )
            except ClientError as error:
                if _code(error) in NOT_FOUND_ERRORS:
                    continue
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
                _delete_ignoring_not_found(
                    functools.partial(efs.delete_file_system, FileSystemId=file_system_id),
                    "deleting home EFS",
                    file_system_id=file_system_id,
                )
    return left


def nfs_security_group_names(domain_id: str) -> tuple[str, str]:
    return (f"security-group-for-inbound-nfs-{domain_id}", f"security-group-for-outbound-nfs-{domain_id}")


def delete_nfs_security_groups(ec2: EC2Client, properties: Properties) -> list[str]:
    """Delete SageMaker's NFS security groups of the domain once no network interface uses them (their
    rules referencing each other revoked first); returns the groups still there."""
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [properties.vpc_id]},
            {"Name": "group-name", "Values": list(nfs_security_group_names(properties.domain_id))},
        ]
    ).get("SecurityGroups", [])
    groups = [
        group
        for group in groups
        if {tag["Key"]: tag["Value"] for tag in group.get("Tags", [])}.get(SAGEMAKER_TAG)
        == properties.domain_arn
    ]
    if not groups:
        return []
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
    """What a poll found still there; empty when the domain and everything of it is gone."""

    apps: Sequence[App] = ()
    spaces: Sequence[str] = ()
    user_profiles: Sequence[str] = ()
    domain: str | None = None
    file_systems: Sequence[str] = ()
    security_groups: Sequence[str] = ()

    @property
    def done(self) -> bool:
        return not (
            self.apps
            or self.spaces
            or self.user_profiles
            or self.domain
            or self.file_systems
            or self.security_groups
        )

    def summary(self) -> dict[str, object]:
        return {
            "apps": [f"{app.label} ({app.status})" for app in self.apps],
            "spaces": list(self.spaces),
            "user_profiles": list(self.user_profiles),
            "domain": self.domain,
            "file_systems": list(self.file_systems),
            "security_groups": list(self.security_groups),
        }


def teardown_step(clients: Clients, properties: Properties) -> Progress:
    """One poll: ask for the next deletions, and say what is still there."""
    domain_id = properties.domain_id
    domain = describe_domain(clients.sagemaker, domain_id)
    if domain is not None:
        status = str(domain.get("Status", ""))
        if status != DELETING:
            apps = delete_apps(clients.sagemaker, domain_id)
            if apps:
                return Progress(apps=apps, domain=domain_id)
            spaces = delete_spaces(clients.sagemaker, domain_id)
            if spaces:
                return Progress(spaces=spaces, domain=domain_id)
            profiles = delete_user_profiles(clients.sagemaker, domain_id)
            if profiles:
                return Progress(user_profiles=profiles, domain=domain_id)
        delete_domain(clients.sagemaker, domain_id, domain)
        return Progress(domain=domain_id)
    file_systems = delete_home_file_systems(clients.efs, properties.domain_arn)
    security_groups = delete_nfs_security_groups(clients.ec2, properties)
    return Progress(file_systems=file_systems, security_groups=security_groups)


# --- the custom resource ---------------------------------------------------------------------------------


def stack_is_being_deleted(cloudformation: CloudFormationClient, stack_id: str) -> bool:
    stacks = cloudformation.describe_stacks(StackName=stack_id).get("Stacks", [])
    status = str(stacks[0].get("StackStatus", "")) if stacks else ""
    log(logging.INFO, "stack status", stack_id=stack_id, status=status)
    return status in TEARDOWN_STACK_STATUSES


def on_event(event: Mapping[str, Any], context: object, *, now: float | None = None) -> dict[str, Any]:
    """The Provider framework's onEvent handler: records the domain id; a Delete records when it began and
    leaves the work to `is_complete`. `now` (epoch seconds) is for tests."""
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
        "studio teardown recorded the domain",
        request_type=request_type,
        domain_id=properties.domain_id,
    )
    return {"PhysicalResourceId": properties.domain_id, "Data": {"DomainId": properties.domain_id}}


def _started_at(event: Mapping[str, Any]) -> float | None:
    data = event.get("Data")
    value = data.get("TeardownStartedAt") if isinstance(data, Mapping) else None
    return float(value) if isinstance(value, str) and value.isdigit() else None


def _domain_of_delete(event: Mapping[str, Any], properties: Properties) -> Properties | None:
    """The domain the Delete is for: the recorded one (the physical id), which differs from the properties'
    when the domain was replaced; None when no domain was recorded."""
    physical_id = event.get("PhysicalResourceId")
    if physical_id == properties.domain_id:
        return properties
    if not isinstance(physical_id, str) or not DOMAIN_ID_PATTERN.match(physical_id):
        return None
    arn = properties.domain_arn.rsplit("/", 1)[0] + f"/{physical_id}"
    return Properties(
        domain_id=physical_id,
        domain_arn=arn,
        vpc_id=properties.vpc_id,
        give_up_after_seconds=properties.give_up_after_seconds,
    )


def is_complete(
    event: Mapping[str, Any], context: object, *, clients: Clients | None = None, now: float | None = None
) -> dict[str, Any]:
    """The Provider framework's isComplete handler. `clients` and `now` are for tests; Lambda passes event and
    context."""
    if event.get("RequestType") != "Delete":
        return {"IsComplete": True}
    properties = _domain_of_delete(event, parse_properties(event.get("ResourceProperties")))
    if properties is None:
        log(
            logging.INFO,
            "no domain recorded: nothing to tear down",
            physical_id=event.get("PhysicalResourceId"),
        )
        return {"IsComplete": True}
    domain_id = properties.domain_id
    clients = clients or default_clients()
    try:
        if not stack_is_being_deleted(clients.cloudformation, str(event.get("StackId", ""))):
            log(logging.INFO, "resource removed while its stack lives: the domain stays", domain_id=domain_id)
            return {"IsComplete": True}
        progress = teardown_step(clients, properties)
    except ClientError as error:
        if _code(error) in THROTTLING_ERRORS:
            log(logging.WARNING, "throttled: trying again at the next poll", error=_message(error))
            return {"IsComplete": False}
        raise TeardownError(
            f"tearing down domain {domain_id} failed: {_code(error)}: {_message(error)}"
        ) from error
    if progress.done:
        log(logging.INFO, "studio domain torn down", domain_id=domain_id)
        return {"IsComplete": True}
    log(logging.INFO, "studio teardown in progress", domain_id=domain_id, **progress.summary())
    started = _started_at(event)
    elapsed = (time.time() if now is None else now) - started if started is not None else 0.0
    if elapsed >= properties.give_up_after_seconds:
        left = "; ".join(
            f"{kind}: {', '.join(map(str, names)) if isinstance(names, list) else names}"
            for kind, names in progress.summary().items()
            if names
        )
        raise TeardownError(
            f"domain {domain_id} is not torn down after {int(elapsed)} s; still there: {left}. SageMaker is "
            "still deleting them (or cannot): check them in the console, then run the destroy again; it "
            "resumes where it stopped"
        )
    return {"IsComplete": False}
