"""A custom resource that clears what blocks CloudFormation from deleting a resource of a disposable
environment, when the stack is deleted.

Runs behind the CDK `custom_resources.Provider` framework with `is_complete` polling. The resource depends on
the resource it clears, so CloudFormation deletes it first. Create and Update do nothing (the physical id
names what is cleared). Delete starts the work in `on_event`, and `is_complete` repeats it until nothing is
left, so a slow service or a throttled call only means another round:

- `ModelPackageVersions` (`ModelPackageGroupName`): SageMaker refuses to delete a model package group that
  still has versions: every version is deleted, whatever its approval status.
- `PipelineExecutions` (`PipelineName`): SageMaker refuses to delete a pipeline with running executions:
  every `Executing` execution is stopped, and the resource waits until none is `Executing` or `Stopping`.

Delete acts only while the resource's own stack is being deleted (`DELETE_IN_PROGRESS`, or
`ROLLBACK_IN_PROGRESS` after a failed create): a resource removed from a stack that stays (the environment
turned to `retain_stateful_resources: true`, say) leaves everything alone. A group or pipeline that no
longer exists has nothing to clear. Every failure raises with the resource's
name, what failed and what to do; the framework reports it to CloudFormation, and deleting the stack again
resumes where it stopped. The asset is this package and functions/_runtime: standard library and boto3 only.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from functions._runtime.logs import event_log

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_sagemaker import SageMakerClient

MODEL_PACKAGE_VERSIONS: Final = "ModelPackageVersions"
PIPELINE_EXECUTIONS: Final = "PipelineExecutions"
# The property that names what each kind clears.
NAME_PROPERTIES: Final = {
    MODEL_PACKAGE_VERSIONS: "ModelPackageGroupName",
    PIPELINE_EXECUTIONS: "PipelineName",
}
RUNNING: Final = frozenset({"Executing", "Stopping"})
# The statuses of the resource's own stack in which a Delete clears anything.
TEARDOWN_STACK_STATUSES: Final = frozenset({"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})
# Errors that mean "try again in the next round", not "fail the deletion".
RETRYABLE: Final = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException"})
NOT_FOUND: Final = frozenset({"ResourceNotFound", "ValidationException"})

_event_log = event_log("disposable_cleanup")


class CleanupError(Exception):
    """Fails the deletion with a message for the person deleting the stack."""


def log(message: str, **fields: object) -> None:
    _event_log(logging.INFO, message, **fields)


@functools.cache
def default_sagemaker_client() -> SageMakerClient:
    # Standard retries back off on throttling before an error reaches the round.
    return boto3.client("sagemaker", config=Config(retries={"max_attempts": 8, "mode": "standard"}))


@functools.cache
def default_cloudformation_client() -> CloudFormationClient:
    return boto3.client("cloudformation", config=Config(retries={"max_attempts": 8, "mode": "standard"}))


def stack_is_being_deleted(cloudformation: CloudFormationClient, stack_id: str) -> bool:
    stacks = cloudformation.describe_stacks(StackName=stack_id).get("Stacks", [])
    status = str(stacks[0].get("StackStatus", "")) if stacks else ""
    log("stack status", stack_id=stack_id, status=status)
    return status in TEARDOWN_STACK_STATUSES


def target(event: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, name) from the resource properties; a malformed resource fails with what to fix."""
    properties = event.get("ResourceProperties") or {}
    kind = properties.get("Kind")
    if kind not in NAME_PROPERTIES:
        raise CleanupError(f"Kind {kind!r} is not one of {', '.join(sorted(NAME_PROPERTIES))}")
    name = properties.get(NAME_PROPERTIES[kind])
    if not isinstance(name, str) or not name:
        raise CleanupError(f"{kind} needs {NAME_PROPERTIES[kind]}")
    return kind, name


def _model_packages(sagemaker: SageMakerClient, group: str) -> Iterator[str]:
    paginator = sagemaker.get_paginator("list_model_packages")
    for page in paginator.paginate(ModelPackageGroupName=group, ModelPackageType="Versioned"):
        for summary in page.get("ModelPackageSummaryList", []):
            yield summary["ModelPackageArn"]


def _running_executions(sagemaker: SageMakerClient, pipeline: str) -> Iterator[tuple[str, str]]:
    paginator = sagemaker.get_paginator("list_pipeline_executions")
    for page in paginator.paginate(PipelineName=pipeline):
        for summary in page.get("PipelineExecutionSummaries", []):
            status = summary.get("PipelineExecutionStatus", "")
            if status in RUNNING:
                yield summary["PipelineExecutionArn"], status


def clear(sagemaker: SageMakerClient, kind: str, name: str) -> int:
    """One round: delete or stop what is left; the number of items still left afterwards (0: done)."""
    try:
        if kind == MODEL_PACKAGE_VERSIONS:
            versions = list(_model_packages(sagemaker, name))
            for arn in versions:
                log("deleting model package version", group=name, model_package=arn)
                sagemaker.delete_model_package(ModelPackageName=arn)
            return len(versions)  # done when a round finds none
        left = 0
        for arn, status in _running_executions(sagemaker, name):
            left += 1
            if status == "Executing":
                log("stopping pipeline execution", pipeline=name, execution=arn)
                sagemaker.stop_pipeline_execution(
                    PipelineExecutionArn=arn, ClientRequestToken=str(uuid.uuid4())
                )
        return left
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code in RETRYABLE:
            log("throttled: trying again in the next round", kind=kind, name=name, error=code)
            return 1
        if code in NOT_FOUND and ("not found" in message.lower() or "does not exist" in message.lower()):
            log("nothing to clear: it no longer exists", kind=kind, name=name)
            return 0
        raise CleanupError(
            f"clearing {kind} of {name} failed: {code}: {message}. Fix the cause (permissions, a version in "
            "use), then delete the stack again: the cleanup resumes."
        ) from error


def _tearing_down(event: Mapping[str, Any], cloudformation: CloudFormationClient | None) -> bool:
    if stack_is_being_deleted(cloudformation or default_cloudformation_client(), str(event.get("StackId"))):
        return True
    log("the stack stays: nothing is cleared", resource=event.get("PhysicalResourceId"))
    return False


def on_event(
    event: Mapping[str, Any],
    context: object,
    *,
    sagemaker: SageMakerClient | None = None,
    cloudformation: CloudFormationClient | None = None,
) -> dict[str, Any]:
    """The framework's onEvent: Create and Update record what the resource clears; Delete starts clearing
    (when its stack is being deleted). The clients are for tests."""
    request_type = event.get("RequestType")
    kind, name = target(event)
    physical_id = f"{kind}:{name}"
    if request_type == "Delete":
        physical_id = str(event.get("PhysicalResourceId") or physical_id)
        if _tearing_down(event, cloudformation):
            clear(sagemaker or default_sagemaker_client(), kind, name)
    elif request_type not in {"Create", "Update"}:
        raise CleanupError(f"RequestType {request_type!r} is not Create, Update or Delete")
    return {"PhysicalResourceId": physical_id}


def is_complete(
    event: Mapping[str, Any],
    context: object,
    *,
    sagemaker: SageMakerClient | None = None,
    cloudformation: CloudFormationClient | None = None,
) -> dict[str, Any]:
    """The framework's isComplete: done at once for Create and Update, and for a Delete while the stack
    stays; otherwise when nothing is left."""
    if event.get("RequestType") != "Delete" or not _tearing_down(event, cloudformation):
        return {"IsComplete": True}
    kind, name = target(event)
    left = clear(sagemaker or default_sagemaker_client(), kind, name)
    log("cleanup round", kind=kind, name=name, left=left)
    return {"IsComplete": left == 0}


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """`on_event` under the platform's usual entry point name (`handler.handler`)."""
    return on_event(event, context)
