"""The disposable-cleanup custom resource against botocore's Stubber (moto has no DeleteModelPackage or
StopPipelineExecution): what each round deletes or stops, and when the waiter may stop asking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, cast

import boto3
import pytest
from botocore.stub import ANY, Stubber

from functions.disposable_cleanup.handler import CleanupError, is_complete, on_event
from tests.functions.support import REGION

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_sagemaker import SageMakerClient

GROUP: Final = "fraud-scorer"
PIPELINE: Final = "fraud-training"
PREFIX: Final = f"arn:aws:sagemaker:{REGION}:404040404040"
STACK_ID: Final = f"arn:aws:cloudformation:{REGION}:404040404040:stack/mlbuild-Registry/1"


class Stack:
    """The resource's own stack, in one status; counts how often the handler asked."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.asked = 0

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's parameter name
        assert StackName == STACK_ID
        self.asked += 1
        return {"Stacks": [{"StackStatus": self.status}]}


DELETING: Final = cast("CloudFormationClient", Stack("DELETE_IN_PROGRESS"))


def versions_event(request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "StackId": STACK_ID,
        "PhysicalResourceId": f"ModelPackageVersions:{GROUP}",
        "ResourceProperties": {"Kind": "ModelPackageVersions", "ModelPackageGroupName": GROUP},
    }


def executions_event(request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "StackId": STACK_ID,
        "PhysicalResourceId": f"PipelineExecutions:{PIPELINE}",
        "ResourceProperties": {"Kind": "PipelineExecutions", "PipelineName": PIPELINE},
    }


@pytest.fixture
def sagemaker() -> Iterator[tuple[SageMakerClient, Stubber]]:
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def version(number: int) -> dict[str, Any]:
    return {
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": number,
        "ModelPackageArn": f"{PREFIX}:model-package/{GROUP}/{number}",
        "CreationTime": "2026-01-01T00:00:00Z",
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": "Approved" if number == 1 else "Rejected",
    }


def list_versions(
    stubber: Stubber, numbers: list[int], next_token: str | None = None, token: str | None = None
) -> None:
    response: dict[str, Any] = {"ModelPackageSummaryList": [version(n) for n in numbers]}
    if next_token:
        response["NextToken"] = next_token
    params: dict[str, Any] = {"ModelPackageGroupName": GROUP, "ModelPackageType": "Versioned"}
    if token:
        params["NextToken"] = token
    stubber.add_response("list_model_packages", response, params)


def execution(name: str, status: str) -> dict[str, Any]:
    return {
        "PipelineExecutionArn": f"{PREFIX}:pipeline/{PIPELINE}/execution/{name}",
        "PipelineExecutionStatus": status,
        "StartTime": "2026-01-01T00:00:00Z",
    }


def list_executions(stubber: Stubber, executions: list[dict[str, Any]]) -> None:
    stubber.add_response(
        "list_pipeline_executions", {"PipelineExecutionSummaries": executions}, {"PipelineName": PIPELINE}
    )


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_call_nothing(
    request_type: str, sagemaker: tuple[SageMakerClient, Stubber]
) -> None:
    client, _ = sagemaker  # no response is stubbed: any call would fail the test

    assert on_event(versions_event(request_type), None, sagemaker=client) == {
        "PhysicalResourceId": f"ModelPackageVersions:{GROUP}"
    }
    assert is_complete(versions_event(request_type), None, sagemaker=client) == {"IsComplete": True}


def test_delete_removes_every_version_on_every_page_then_completes_when_none_is_left(
    sagemaker: tuple[SageMakerClient, Stubber],
) -> None:
    client, stubber = sagemaker
    list_versions(stubber, [1, 2], next_token="page-2")
    list_versions(stubber, [3], token="page-2")
    for number in (1, 2, 3):
        stubber.add_response(
            "delete_model_package", {}, {"ModelPackageName": f"{PREFIX}:model-package/{GROUP}/{number}"}
        )
    list_versions(stubber, [])

    assert on_event(versions_event("Delete"), None, sagemaker=client, cloudformation=DELETING) == {
        "PhysicalResourceId": f"ModelPackageVersions:{GROUP}"
    }
    assert is_complete(versions_event("Delete"), None, sagemaker=client, cloudformation=DELETING) == {
        "IsComplete": True
    }


def test_a_version_registered_during_the_deletion_takes_another_round(
    sagemaker: tuple[SageMakerClient, Stubber],
) -> None:
    client, stubber = sagemaker
    list_versions(stubber, [4])
    stubber.add_response(
        "delete_model_package", {}, {"ModelPackageName": f"{PREFIX}:model-package/{GROUP}/4"}
    )
    list_versions(stubber, [])

    assert is_complete(versions_event("Delete"), None, sagemaker=client, cloudformation=DELETING) == {
        "IsComplete": False
    }
    assert is_complete(versions_event("Delete"), None, sagemaker=client, cloudformation=DELETING) == {
        "IsComplete": True
    }


def test_running_executions_are_stopped_and_waited_for_over_several_rounds(
    sagemaker: tuple[SageMakerClient, Stubber],
) -> None:
    client, stubber = sagemaker
    list_executions(
        stubber, [execution("a", "Executing"), execution("b", "Stopping"), execution("c", "Succeeded")]
    )
    stubber.add_response(
        "stop_pipeline_execution",
        {"PipelineExecutionArn": f"{PREFIX}:pipeline/{PIPELINE}/execution/a"},
        {"PipelineExecutionArn": f"{PREFIX}:pipeline/{PIPELINE}/execution/a", "ClientRequestToken": ANY},
    )
    list_executions(stubber, [execution("a", "Stopping"), execution("b", "Stopping")])
    list_executions(stubber, [execution("a", "Stopping"), execution("b", "Stopped")])
    list_executions(
        stubber, [execution("a", "Stopped"), execution("b", "Stopped"), execution("c", "Succeeded")]
    )

    on_event(executions_event("Delete"), None, sagemaker=client, cloudformation=DELETING)
    rounds = [
        is_complete(executions_event("Delete"), None, sagemaker=client, cloudformation=DELETING)["IsComplete"]
        for _ in range(3)
    ]

    assert rounds == [False, False, True]


def test_throttling_is_another_round_not_a_failure(sagemaker: tuple[SageMakerClient, Stubber]) -> None:
    client, stubber = sagemaker
    list_versions(stubber, [1])
    stubber.add_client_error("delete_model_package", "ThrottlingException", "Rate exceeded")
    list_versions(stubber, [1])
    stubber.add_response(
        "delete_model_package", {}, {"ModelPackageName": f"{PREFIX}:model-package/{GROUP}/1"}
    )
    list_versions(stubber, [])

    on_event(versions_event("Delete"), None, sagemaker=client, cloudformation=DELETING)
    rounds = [
        is_complete(versions_event("Delete"), None, sagemaker=client, cloudformation=DELETING)["IsComplete"]
        for _ in range(2)
    ]

    assert rounds == [False, True]


def test_a_version_that_cannot_be_deleted_fails_with_the_group_and_what_to_do(
    sagemaker: tuple[SageMakerClient, Stubber],
) -> None:
    client, stubber = sagemaker
    list_versions(stubber, [2])
    stubber.add_client_error(
        "delete_model_package", "ConflictException", "Model package is in use by a model card"
    )

    with pytest.raises(CleanupError) as raised:
        on_event(versions_event("Delete"), None, sagemaker=client, cloudformation=DELETING)

    message = str(raised.value)
    assert f"ModelPackageVersions of {GROUP}" in message
    assert "ConflictException: Model package is in use by a model card" in message
    assert "delete the stack again" in message


def test_a_pipeline_that_no_longer_exists_has_nothing_to_stop(
    sagemaker: tuple[SageMakerClient, Stubber],
) -> None:
    client, stubber = sagemaker
    stubber.add_client_error(
        "list_pipeline_executions", "ResourceNotFound", f"Pipeline '{PIPELINE}' does not exist."
    )

    assert is_complete(executions_event("Delete"), None, sagemaker=client, cloudformation=DELETING) == {
        "IsComplete": True
    }


def test_a_resource_without_its_name_or_with_an_unknown_kind_fails_clearly() -> None:
    with pytest.raises(CleanupError, match="PipelineExecutions needs PipelineName"):
        on_event({"RequestType": "Create", "ResourceProperties": {"Kind": "PipelineExecutions"}}, None)
    with pytest.raises(
        CleanupError, match="Kind 'Buckets' is not one of ModelPackageVersions, PipelineExecutions"
    ):
        on_event({"RequestType": "Delete", "ResourceProperties": {"Kind": "Buckets"}}, None)


@pytest.mark.parametrize("status", ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_a_resource_removed_from_a_stack_that_stays_clears_nothing(
    status: str, sagemaker: tuple[SageMakerClient, Stubber]
) -> None:
    """An environment turned to retaining its data drops the resource: its groups keep their versions."""
    client, _ = sagemaker  # no response is stubbed: any SageMaker call would fail the test
    stack = Stack(status)
    cloudformation = cast("CloudFormationClient", stack)

    assert on_event(versions_event("Delete"), None, sagemaker=client, cloudformation=cloudformation) == {
        "PhysicalResourceId": f"ModelPackageVersions:{GROUP}"
    }
    assert is_complete(executions_event("Delete"), None, sagemaker=client, cloudformation=cloudformation) == {
        "IsComplete": True
    }
    assert stack.asked == 2
