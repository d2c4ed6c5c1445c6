"""What the approval guard tests share: names, the baselines, and a moto-backed model registry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import boto3
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from functions.approval_guard.handler import Clients

if TYPE_CHECKING:
    from mypy_boto3_sagemaker.literals import ModelApprovalStatusType

REGION: Final = "eu-west-1"
ACCOUNT: Final = DEFAULT_ACCOUNT_ID
BUCKET: Final = "model-artifacts"
TOPIC_NAME: Final = "model-approvals"
TOPIC_ARN: Final = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"
CLASSIFIER: Final = "churn-classifier"  # accuracy >= 0.9
REGRESSOR: Final = "demand-regressor"  # rmse <= 2.5
UNGUARDED: Final = "scratch-models"  # no baseline
BASELINES: Final = {
    CLASSIFIER: {"metric": "accuracy", "threshold": 0.9, "comparison": "greater_than_or_equal"},
    REGRESSOR: {"metric": "rmse", "threshold": 2.5, "comparison": "less_than_or_equal"},
}
JSON: Final = "application/json"


def state_change(
    arn: str, group: str, version: int = 1, status: str = "Approved", *, account: str = ACCOUNT
) -> dict[str, Any]:
    """An EventBridge event as SageMaker sends it (the fields the handlers read, and a few they do not);
    `account` is the registry's (forwarded events keep it)."""
    return {
        "version": "0",
        "id": "5c8c5d0a-5b1e-4c3e-9e55-3f1a0f6c2d11",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": account,
        "time": "2026-01-01T12:00:00Z",
        "region": REGION,
        "resources": [arn],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version,
            "ModelPackageArn": arn,
            "ModelPackageName": group,
            "ModelApprovalStatus": status,
            "ModelPackageStatus": "Completed",
            "CreationTime": 1767268800000,
        },
    }


def model_quality(statistics_uri: str, content_type: str = JSON) -> dict[str, Any]:
    return {"ModelQuality": {"Statistics": {"ContentType": content_type, "S3Uri": statistics_uri}}}


class Registry:
    """The model registry, the metrics bucket and the topic, in moto; `clients` are what the guard gets."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.sagemaker = session.client("sagemaker")
        self.s3 = session.client("s3")
        self.clients = Clients(sagemaker=self.sagemaker, s3=self.s3, sns=session.client("sns"))

    def put_report(self, key: str, body: object | bytes) -> str:
        """Store a metrics report (a JSON-encoded object, or raw bytes); returns its s3:// URI."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        return f"s3://{BUCKET}/{key}"

    def register(
        self,
        group: str = CLASSIFIER,
        *,
        status: str = "Approved",
        model_metrics: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register a version in `group`; returns the event SageMaker would send for its current status."""
        arguments: dict[str, Any] = {"ModelPackageGroupName": group, "ModelApprovalStatus": status}
        if model_metrics is not None:
            arguments["ModelMetrics"] = model_metrics
        if metadata is not None:
            arguments["CustomerMetadataProperties"] = metadata
        arn = self.sagemaker.create_model_package(**arguments)["ModelPackageArn"]
        version = self.sagemaker.describe_model_package(ModelPackageName=arn)["ModelPackageVersion"]
        return state_change(arn, group, version=version, status=status)

    def package(self, event: dict[str, Any]) -> dict[str, Any]:
        arn = event["detail"]["ModelPackageArn"]
        return dict(self.sagemaker.describe_model_package(ModelPackageName=arn))

    def set_status(self, event: dict[str, Any], status: ModelApprovalStatusType) -> None:
        """A person changes the package's status (and nothing else)."""
        arn = event["detail"]["ModelPackageArn"]
        self.sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)

    def notifications(self) -> list[tuple[str, str, str | None, dict[str, Any] | None, str | None]]:
        """(message id, message, subject, attributes, group id) of each message published to the topic.

        moto's backend is internal API, but it is the only place a test can read what was published.
        """
        return list(sns_backends[ACCOUNT][REGION].topics[TOPIC_ARN].sent_notifications)
