"""The model package baseline custom resource: against moto's model registry, and botocore's Stubber where
moto cannot say what SageMaker says (another account's ARN, access denied)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from functions.model_package_baseline import handler as baseline_module
from functions.model_package_baseline.handler import (
    Baseline,
    ModelPackageError,
    Properties,
    PropertyError,
    find_baseline,
    handler,
    on_event,
    parse_properties,
)
from tests.functions.support import REGION

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

GROUP: Final = "churn-model"
BUILD_ACCOUNT: Final = "110000000001"
FOREIGN_ARN: Final = f"arn:aws:sagemaker:{REGION}:{BUILD_ACCOUNT}:model-package/{GROUP}/3"
IMAGE: Final = "110000000001.dkr.ecr.eu-west-1.amazonaws.com/churn-model:2026.11.1"
MODEL_DATA: Final = "s3://dev-artifacts/models/churn/3/model.tar.gz"
DRIFT_CONSTRAINTS: Final = "s3://dev-artifacts/baselines/drift/constraints.json"
DRIFT_STATISTICS: Final = "s3://dev-artifacts/baselines/drift/statistics.json"
METRICS_CONSTRAINTS: Final = "s3://dev-artifacts/baselines/metrics/constraints.json"
METRICS_STATISTICS: Final = "s3://dev-artifacts/baselines/metrics/statistics.json"
OVERRIDE_CONSTRAINTS: Final = "s3://staging-monitoring/baseline/constraints.json"
OVERRIDE_STATISTICS: Final = "s3://staging-monitoring/baseline/statistics.json"
JSON: Final = "application/json"


def data_quality(constraints: str | None, statistics: str | None) -> dict[str, Any]:
    section: dict[str, Any] = {}
    if constraints is not None:
        section["Constraints"] = {"ContentType": JSON, "S3Uri": constraints}
    if statistics is not None:
        section["Statistics"] = {"ContentType": JSON, "S3Uri": statistics}
    return {"ModelDataQuality": section}


def inference_specification(model_data: str | None = MODEL_DATA) -> dict[str, Any]:
    container: dict[str, Any] = {"Image": IMAGE}
    if model_data is not None:
        container["ModelDataUrl"] = model_data
    return {
        "Containers": [container, {"Image": "second-container:latest"}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    }


def request(request_type: str = "Create", **properties: Any) -> dict[str, Any]:
    """A request as the Provider framework passes it to onEvent."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": f"arn:aws:lambda:{REGION}:220000000002:function:provider-framework-onEvent",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/",
        "StackId": f"arn:aws:cloudformation:{REGION}:220000000002:stack/staging-Serving/abc",
        "RequestId": "4f2c6a57-3c8f-4a1e-9d3b-0b6d2f1e8a90",
        "LogicalResourceId": "ChurnModelPackage",
        "ResourceType": "Custom::ModelPackageBaseline",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", **properties},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = properties.get("ModelPackageArn", FOREIGN_ARN)
        event["OldResourceProperties"] = {
            "ServiceToken": "arn:aws:lambda:...",
            "ModelPackageArn": FOREIGN_ARN,
        }
    return event


class Registry:
    """A model registry in moto; moto has one account, so the packages' ARNs are in it."""

    def __init__(self, session: boto3.Session) -> None:
        self.sagemaker: SageMakerClient = session.client("sagemaker")
        self.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)

    def register(
        self,
        *,
        status: str = "Approved",
        drift_check: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        specification: dict[str, Any] | None = None,
    ) -> str:
        arguments: dict[str, Any] = {"ModelPackageGroupName": GROUP, "ModelApprovalStatus": status}
        if drift_check is not None:
            arguments["DriftCheckBaselines"] = drift_check
        if metrics is not None:
            arguments["ModelMetrics"] = metrics
        arguments["InferenceSpecification"] = specification or inference_specification()
        return self.sagemaker.create_model_package(**arguments)["ModelPackageArn"]

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        return on_event(event, None, sagemaker=self.sagemaker)


@pytest.fixture(autouse=True)
def cold_start() -> Iterator[None]:
    baseline_module.default_sagemaker_client.cache_clear()
    yield
    baseline_module.default_sagemaker_client.cache_clear()


@pytest.fixture
def registry(boto_session: boto3.Session) -> Iterator[Registry]:
    with mock_aws():
        yield Registry(boto_session)


@pytest.fixture
def stubbed(boto_session: boto3.Session) -> Iterator[tuple[SageMakerClient, Stubber]]:
    """A real client whose every call must have been expected: no moto, no network."""
    client: SageMakerClient = boto_session.client("sagemaker")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


# --- Create and Update -----------------------------------------------------------------------------------


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_an_approved_package_gives_its_drift_check_baseline_image_and_model(
    registry: Registry, request_type: str
) -> None:
    arn = registry.register(
        drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS),
        metrics=data_quality(METRICS_CONSTRAINTS, METRICS_STATISTICS),
    )

    response = registry.handle(request(request_type, ModelPackageArn=arn))

    assert response == {
        "PhysicalResourceId": arn,
        "Data": {
            "ConstraintsUri": DRIFT_CONSTRAINTS,
            "StatisticsUri": DRIFT_STATISTICS,
            "BaselineSource": "DriftCheckBaselines.ModelDataQuality",
            "ApprovalStatus": "Approved",
            "ModelPackageArn": arn,
            "ImageUri": IMAGE,
            "ModelDataUrl": MODEL_DATA,
        },
    }


def test_the_baseline_falls_back_to_the_model_metrics(registry: Registry) -> None:
    arn = registry.register(metrics=data_quality(METRICS_CONSTRAINTS, METRICS_STATISTICS))

    data = registry.handle(request(ModelPackageArn=arn))["Data"]

    assert (data["ConstraintsUri"], data["StatisticsUri"]) == (METRICS_CONSTRAINTS, METRICS_STATISTICS)
    assert data["BaselineSource"] == "ModelMetrics.ModelDataQuality"


def test_an_incomplete_drift_check_baseline_is_not_mixed_with_the_model_metrics(registry: Registry) -> None:
    arn = registry.register(
        drift_check=data_quality(DRIFT_CONSTRAINTS, None),
        metrics=data_quality(METRICS_CONSTRAINTS, METRICS_STATISTICS),
    )

    data = registry.handle(request(ModelPackageArn=arn))["Data"]

    assert (data["ConstraintsUri"], data["StatisticsUri"]) == (METRICS_CONSTRAINTS, METRICS_STATISTICS)


def test_overrides_win_even_without_a_baseline_in_the_package(registry: Registry) -> None:
    arn = registry.register()

    data = registry.handle(
        request(ModelPackageArn=arn, ConstraintsUri=OVERRIDE_CONSTRAINTS, StatisticsUri=OVERRIDE_STATISTICS)
    )["Data"]

    assert (data["ConstraintsUri"], data["StatisticsUri"]) == (OVERRIDE_CONSTRAINTS, OVERRIDE_STATISTICS)
    assert data["BaselineSource"] == "ConstraintsUri/StatisticsUri properties"


def test_one_override_completes_the_package_baseline(registry: Registry) -> None:
    arn = registry.register(drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS))

    data = registry.handle(request(ModelPackageArn=arn, StatisticsUri=OVERRIDE_STATISTICS))["Data"]

    assert (data["ConstraintsUri"], data["StatisticsUri"]) == (DRIFT_CONSTRAINTS, OVERRIDE_STATISTICS)
    assert data["BaselineSource"] == "DriftCheckBaselines.ModelDataQuality and properties"


def test_empty_overrides_count_as_absent(registry: Registry) -> None:
    arn = registry.register(drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS))

    data = registry.handle(request(ModelPackageArn=arn, ConstraintsUri="", StatisticsUri=""))["Data"]

    assert data["ConstraintsUri"] == DRIFT_CONSTRAINTS


def test_a_container_without_model_data_gives_an_empty_url(registry: Registry) -> None:
    arn = registry.register(
        drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS),
        specification=inference_specification(model_data=None),
    )

    data = registry.handle(request(ModelPackageArn=arn))["Data"]

    assert data["ModelDataUrl"] == ""
    assert data["ImageUri"] == IMAGE


def test_an_update_to_another_version_changes_the_physical_id(registry: Registry) -> None:
    baseline = data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS)
    first = registry.register(drift_check=baseline)
    second = registry.register(drift_check=baseline)
    event = request("Update", ModelPackageArn=second)
    event["PhysicalResourceId"] = first
    event["OldResourceProperties"]["ModelPackageArn"] = first

    response = registry.handle(event)

    # A new physical id: CloudFormation then deletes the old one, which calls nothing.
    assert response["PhysicalResourceId"] == second != first


# --- approval --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_a_package_that_is_not_approved_fails_the_deployment(registry: Registry, status: str) -> None:
    arn = registry.register(status=status, drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS))

    with pytest.raises(ModelPackageError) as raised:
        registry.handle(request(ModelPackageArn=arn))

    assert str(raised.value) == (
        f"model package {arn} is {status}, not Approved: approve it in the model registry of the build "
        "account, or pin an approved version in the environment's config"
    )


@pytest.mark.parametrize("flag", ["false", "False", " FALSE "])
def test_approval_is_not_required_when_turned_off(registry: Registry, flag: str) -> None:
    arn = registry.register(
        status="PendingManualApproval", drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS)
    )

    data = registry.handle(request(ModelPackageArn=arn, RequireApproved=flag))["Data"]

    assert data["ApprovalStatus"] == "PendingManualApproval"


def test_approval_is_required_when_asked_explicitly(registry: Registry) -> None:
    arn = registry.register(status="Rejected", drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS))

    with pytest.raises(ModelPackageError, match="is Rejected, not Approved"):
        registry.handle(request(ModelPackageArn=arn, RequireApproved="true"))


# --- a missing baseline or image -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drift_check", "metrics"),
    [
        (None, None),
        (data_quality(DRIFT_CONSTRAINTS, None), data_quality(None, METRICS_STATISTICS)),
        (None, {"ModelQuality": {"Statistics": {"ContentType": JSON, "S3Uri": METRICS_STATISTICS}}}),
    ],
    ids=["none", "halves in two places", "model quality only"],
)
def test_a_package_without_a_data_quality_baseline_fails_the_deployment(
    registry: Registry, drift_check: dict[str, Any] | None, metrics: dict[str, Any] | None
) -> None:
    arn = registry.register(drift_check=drift_check, metrics=metrics)

    with pytest.raises(ModelPackageError) as raised:
        registry.handle(request(ModelPackageArn=arn))

    message = str(raised.value)
    assert message.startswith(f"model package {arn} has no data-quality baseline")
    assert "DriftCheckBaselines.ModelDataQuality nor ModelMetrics.ModelDataQuality" in message
    assert "register the package with data-quality baselines" in message
    assert "QualityCheckStep" in message
    assert "monitoring.baseline" in message


# --- another account's package, AWS errors (Stubber) -----------------------------------------------------


def described(
    *,
    status: str = "Approved",
    drift_check: dict[str, Any] | None = None,
    specification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """DescribeModelPackage's answer for FOREIGN_ARN: the fields the resource reads, and the required ones."""
    response: dict[str, Any] = {
        "ModelPackageName": GROUP,
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": 3,
        "ModelPackageArn": FOREIGN_ARN,
        "CreationTime": "2026-01-01T12:00:00Z",
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": []},
        "ModelApprovalStatus": status,
    }
    if drift_check is not None:
        response["DriftCheckBaselines"] = drift_check
    if specification is not None:
        response["InferenceSpecification"] = specification
    return response


def test_a_package_without_a_container_image_fails_the_deployment(
    stubbed: tuple[SageMakerClient, Stubber],
) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "describe_model_package",
        described(drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS), specification=None),
        {"ModelPackageName": FOREIGN_ARN},
    )

    with pytest.raises(ModelPackageError, match=f"model package {FOREIGN_ARN} has no container image"):
        on_event(request(ModelPackageArn=FOREIGN_ARN), None, sagemaker=client)


def test_another_accounts_package_is_described_by_its_arn(stubbed: tuple[SageMakerClient, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "describe_model_package",
        described(
            drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS),
            specification=inference_specification(),
        ),
        {"ModelPackageName": FOREIGN_ARN},
    )

    response = on_event(request(ModelPackageArn=FOREIGN_ARN), None, sagemaker=client)

    assert response["PhysicalResourceId"] == FOREIGN_ARN
    assert response["Data"]["ImageUri"] == IMAGE


@pytest.mark.parametrize("code", ["AccessDeniedException", "AccessDenied"])
def test_access_denied_names_the_package_and_the_build_accounts_policy(
    stubbed: tuple[SageMakerClient, Stubber], code: str
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "describe_model_package",
        service_error_code=code,
        service_message="User is not authorized to perform: sagemaker:DescribeModelPackage",
        http_status_code=400,
        expected_params={"ModelPackageName": FOREIGN_ARN},
    )

    with pytest.raises(ModelPackageError) as raised:
        on_event(request(ModelPackageArn=FOREIGN_ARN), None, sagemaker=client)

    message = str(raised.value)
    assert f"may not describe model package {FOREIGN_ARN}" in message
    assert f"resource policy in the build account (account {BUILD_ACCOUNT}) must allow this role" in message
    assert f"AWS said {code}: User is not authorized" in message
    assert raised.value.__cause__ is not None


def test_a_package_that_does_not_exist_says_to_check_the_config(registry: Registry) -> None:
    arn = registry.register(drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS))
    missing = arn.rsplit("/", 1)[0] + "/42"

    with pytest.raises(ModelPackageError) as raised:
        registry.handle(request(ModelPackageArn=missing))

    message = str(raised.value)
    assert f"model package {missing} cannot be read" in message
    assert "check that the ARN and version in the environment's config" in message
    assert "AWS said ValidationException" in message


def test_another_aws_error_names_the_package(stubbed: tuple[SageMakerClient, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "describe_model_package", service_error_code="InternalFailure", http_status_code=500
    )

    with pytest.raises(ModelPackageError, match=f"could not describe model package {FOREIGN_ARN}"):
        on_event(request(ModelPackageArn=FOREIGN_ARN), None, sagemaker=client)


# --- Delete ----------------------------------------------------------------------------------------------


def test_delete_calls_nothing_and_keeps_the_physical_id(stubbed: tuple[SageMakerClient, Stubber]) -> None:
    client, _ = stubbed  # no response queued: any call would fail

    response = on_event(request("Delete", ModelPackageArn=FOREIGN_ARN), None, sagemaker=client)

    assert response == {"PhysicalResourceId": FOREIGN_ARN}


def test_delete_succeeds_even_with_broken_properties(stubbed: tuple[SageMakerClient, Stubber]) -> None:
    """A resource whose Create failed must still be deletable, or the stack cannot roll back."""
    client, _ = stubbed
    event = request("Delete", RequireApproved="maybe")
    event["PhysicalResourceId"] = "ChurnModelPackage-failed-create"

    response = on_event(event, None, sagemaker=client)

    assert response == {"PhysicalResourceId": "ChurnModelPackage-failed-create"}


# --- properties ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({}, "ModelPackageArn is required: the ARN of the model package version to serve"),
        ({"ModelPackageArn": ""}, "ModelPackageArn is required"),
        ({"ModelPackageArn": "churn-model/3"}, "ModelPackageArn must be a model package ARN"),
        ({"ModelPackageArn": ["x"]}, "ModelPackageArn must be a model package ARN"),
        ({"ModelPackageArn": FOREIGN_ARN, "RequireApproved": "yes"}, "RequireApproved must be 'true' or"),
        (
            {"ModelPackageArn": FOREIGN_ARN, "ConstraintsUri": "/tmp/constraints.json"},
            "ConstraintsUri must be an s3:// URI",
        ),
        (
            {"ModelPackageArn": FOREIGN_ARN, "StatisticsUri": "s3://bucket-only"},
            "StatisticsUri must be an s3:// URI",
        ),
    ],
)
def test_bad_properties_fail_before_any_aws_call(
    stubbed: tuple[SageMakerClient, Stubber], properties: dict[str, Any], message: str
) -> None:
    client, _ = stubbed

    with pytest.raises(PropertyError) as raised:
        on_event(request(**properties), None, sagemaker=client)

    assert message in str(raised.value)


def test_an_unknown_request_type_is_refused(stubbed: tuple[SageMakerClient, Stubber]) -> None:
    client, _ = stubbed

    with pytest.raises(PropertyError, match="RequestType 'Replace' is not Create, Update or Delete"):
        on_event(request("Replace", ModelPackageArn=FOREIGN_ARN), None, sagemaker=client)


def test_properties_have_defaults() -> None:
    assert parse_properties({"ServiceToken": "x", "ModelPackageArn": FOREIGN_ARN}) == Properties(
        model_package_arn=FOREIGN_ARN, require_approved=True, constraints_uri=None, statistics_uri=None
    )
    assert parse_properties({"ModelPackageArn": FOREIGN_ARN, "RequireApproved": True}).require_approved


def test_find_baseline_prefers_the_drift_check_baseline() -> None:
    package = {
        "DriftCheckBaselines": data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS),
        "ModelMetrics": data_quality(METRICS_CONSTRAINTS, METRICS_STATISTICS),
    }

    assert find_baseline(package) == Baseline(
        constraints_uri=DRIFT_CONSTRAINTS,
        statistics_uri=DRIFT_STATISTICS,
        source="DriftCheckBaselines.ModelDataQuality",
    )
    assert find_baseline({"ModelMetrics": {"ModelDataQuality": "not an object"}}) is None
    assert find_baseline({"DriftCheckBaselines": data_quality("", DRIFT_STATISTICS)}) is None


# --- Lambda's own path -----------------------------------------------------------------------------------


def test_without_an_injected_client_the_handler_uses_the_lambda_region(registry: Registry) -> None:
    arn = registry.register(drift_check=data_quality(DRIFT_CONSTRAINTS, DRIFT_STATISTICS))

    response = on_event(request(ModelPackageArn=arn), None)

    assert response["PhysicalResourceId"] == arn
    assert handler(request(ModelPackageArn=arn), None) == response  # the asset's `handler.handler`
    client = baseline_module.default_sagemaker_client()
    assert client.meta.region_name == REGION
    config = vars(client.meta.config)  # botocore's stubs omit `retries`
    assert config["retries"] == {"mode": "standard", "total_max_attempts": 6}  # 5 retries
