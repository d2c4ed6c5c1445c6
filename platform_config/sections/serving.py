"""`serving` and `alarms`: the endpoints a serving environment runs, with their capacity, data capture,
monitoring, alarms and smoke tests, and who hears about the environment's alarms."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from platform_config.problems import FieldError, raise_all
from platform_config.sections.shared import (
    INSTANCE_TYPE_PATTERN,
    EnvironmentName,
    FrozenModel,
    Number,
    SageMakerName,
    email_addresses,
    unique,
)

# Instance families with local NVMe storage: SageMaker encrypts it itself and refuses a volume key for them.
INSTANCE_STORAGE_FAMILY = re.compile(r"[a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|p5en|trn1|trn1n|trn2")
S3_URI_PATTERN = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+")
# Model Monitor runs at most hourly; the job must finish within the hour.
MONITORING_SCHEDULES = {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}
# Model Monitor runs at most hourly, on the hour: every hour, at hour H, or every N hours from H (or *).
MONITORING_CRON_PATTERN = re.compile(r"cron\(0 (?P<start>\*|\d{1,2})(/(?P<step>\d{1,2}))? \? \* \* \*\)")


def _hosting_instance_type(value: str) -> str:
    if not INSTANCE_TYPE_PATTERN.fullmatch(value):
        raise FieldError(f"'{value}' is not a SageMaker instance type", "use one such as ml.m5.large")
    return value


HostingInstanceType = Annotated[StrictStr, AfterValidator(_hosting_instance_type)]


class ModelPackageRef(FrozenModel):
    """One version of a model package group in a trusted environment's registry. Pinning the version here
    makes every promotion a reviewed configuration change; deploying checks the version is Approved."""

    source: EnvironmentName = Field(description="The environment whose registry holds the group (trusted)")
    group: SageMakerName
    version: StrictInt = Field(ge=1, description="The approved version to serve")
    approved: StrictBool = Field(
        default=True,
        description="false until the version is registered and approved: deploying reads it and fails "
        "otherwise, so until then the platform leaves the endpoint out (see `make first-deploy-plan`)",
    )


class InstancesConfig(FrozenModel):
    """A real-time endpoint on instances (in the VPC, with data capture and monitoring)."""

    instance_type: HostingInstanceType
    initial_instance_count: StrictInt = Field(default=1, ge=1, le=100)


class ServerlessConfig(FrozenModel):
    """A serverless endpoint: no VPC placement, data capture or Model Monitor (SageMaker supports none of
    them for serverless), so use it only where that is acceptable."""

    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    max_concurrency: StrictInt = Field(ge=1, le=200)
    provisioned_concurrency: StrictInt | None = Field(default=None, ge=1, le=200)

    @model_validator(mode="after")
    def _provisioned_within_max(self) -> ServerlessConfig:
        if self.provisioned_concurrency is not None and self.provisioned_concurrency > self.max_concurrency:
            raise FieldError(
                f"{self.provisioned_concurrency} exceeds max_concurrency {self.max_concurrency}",
                "lower it or raise max_concurrency",
                at="provisioned_concurrency",
            )
        return self


class AutoscalingConfig(FrozenModel):
    """Target tracking on invocations per instance (SageMakerVariantInvocationsPerInstance, per minute)."""

    min_instances: StrictInt = Field(ge=1, le=100)
    max_instances: StrictInt = Field(ge=1, le=100)
    target_invocations_per_instance: StrictInt = Field(ge=1, le=100_000)
    scale_in_cooldown_seconds: StrictInt = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: StrictInt = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingConfig:
        if self.min_instances > self.max_instances:
            raise FieldError(
                f"{self.min_instances} is above max_instances {self.max_instances}",
                "lower it or raise max_instances",
                at="min_instances",
            )
        return self


class DataCaptureConfig(FrozenModel):
    """Requests and responses written to the environment's encrypted capture bucket."""

    sampling_percentage: StrictInt = Field(default=100, ge=1, le=100)


class MonitoringBaselineConfig(FrozenModel):
    """Baseline files given explicitly, for packages registered without data-quality baselines."""

    constraints_uri: StrictStr
    statistics_uri: StrictStr

    @field_validator("constraints_uri", "statistics_uri")
    @classmethod
    def _s3_uri(cls, value: str) -> str:
        if not S3_URI_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not an S3 object URI", "give one such as s3://bucket/path/constraints.json"
            )
        return value


class DataQualityMonitoringConfig(FrozenModel):
    """A Model Monitor data-quality schedule on the captured requests."""

    enabled: StrictBool = Field(
        default=True,
        description="false: no schedule. Only for an endpoint a Kubernetes namespace serves, where the "
        "platform cannot create one (ADR 0017); every other endpoint on instances is monitored",
    )
    schedule: StrictStr = Field(default="hourly", description="hourly, daily or a Model Monitor cron(...)")
    instance_type: HostingInstanceType = "ml.m5.large"
    volume_size_gb: StrictInt = Field(default=20, ge=1, le=512)
    max_runtime_minutes: StrictInt = Field(default=50, ge=1, le=60)
    baseline: MonitoringBaselineConfig | None = Field(
        default=None,
        description="None: the constraints and statistics the model package carries (read at deploy)",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if value in MONITORING_SCHEDULES:
            return value
        match = MONITORING_CRON_PATTERN.fullmatch(value)
        start, step = (match.group("start"), match.group("step")) if match else ("", None)
        if (
            match is None
            or (start != "*" and int(start) > 23)
            or (step is not None and not 1 <= int(step) <= 24)
        ):
            raise FieldError(
                f"'{value}' is not a monitoring schedule (Model Monitor runs at most hourly, on the hour)",
                "use hourly, daily or a cron such as cron(0 * ? * * *), cron(0 6 ? * * *) or "
                "cron(0 */6 ? * * *)",
            )
        return value

    @property
    def schedule_expression(self) -> str:
        return MONITORING_SCHEDULES.get(self.schedule, self.schedule)


class EndpointAlarmsConfig(FrozenModel):
    """Thresholds of the endpoint's CloudWatch alarms (each over three 5-minute periods, two breaching)."""

    model_latency_p99_ms: Number = Field(default=1000.0, gt=0)
    error_5xx_rate_percent: Number = Field(default=1.0, gt=0, le=100)
    error_4xx_rate_percent: Number = Field(default=5.0, gt=0, le=100)
    no_invocations_minutes: StrictInt | None = Field(
        default=60,
        ge=5,
        le=1440,
        description="Alarm when the endpoint receives no request for this long; null for sporadic traffic",
    )
    cpu_utilization_percent: Number = Field(
        default=80.0, gt=0, description="Average per instance; SageMaker counts 100 per vCPU"
    )
    memory_utilization_percent: Number = Field(default=85.0, gt=0, le=100)


class SmokeTestExpectation(FrozenModel):
    """What a smoke test's answer must look like. Answers are the lines of a CSV response or the items
    of a JSON response's `predictions` (or a top-level list)."""

    answers: StrictInt | None = Field(default=None, ge=0, description="How many answers")
    one_of: tuple[StrictStr, ...] = Field(default=(), description="Every answer is one of these")
    min_value: Number | None = Field(default=None, description="Every answer is a number >= this")
    max_value: Number | None = Field(default=None, description="Every answer is a number <= this")
    contains: StrictStr | None = Field(default=None, description="The raw answer contains this text")

    @model_validator(mode="after")
    def _something_checked(self) -> SmokeTestExpectation:
        if (
            self.answers is None
            and not self.one_of
            and self.min_value is None
            and self.max_value is None
            and self.contains is None
        ):
            raise FieldError("checks nothing", "give answers, one_of, min_value, max_value or contains")
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise FieldError(
                f"{self.min_value} is above max_value {self.max_value}",
                "swap them or widen the range",
                at="min_value",
            )
        return self


class SmokeTestConfig(FrozenModel):
    """One request `make smoke` sends to the endpoint, and what the answer must be."""

    name: StrictStr = Field(min_length=1, max_length=100)
    content_type: StrictStr = "text/csv"
    accept: StrictStr = "text/csv"
    body: StrictStr = Field(min_length=1, description="The request body, as sent")
    expect: SmokeTestExpectation


class EndpointConfig(FrozenModel):
    """A SageMaker endpoint serving one pinned model package version, monitored and alarmed."""

    name: SageMakerName = Field(
        max_length=50, description="The endpoint's name, which applications call (at most 50 characters)"
    )
    model_package: ModelPackageRef
    instances: InstancesConfig | None = None
    serverless: ServerlessConfig | None = None
    autoscaling: AutoscalingConfig | None = None
    data_capture: DataCaptureConfig | None = Field(
        default=None, description="Default on instances: every request captured; not for serverless"
    )
    monitoring: DataQualityMonitoringConfig | None = Field(
        default=None, description="Default on instances: hourly data-quality schedule; not for serverless"
    )
    alarms: EndpointAlarmsConfig = EndpointAlarmsConfig()
    smoke_tests: tuple[SmokeTestConfig, ...] = Field(
        min_length=1, description="Requests `make smoke` sends after a deployment"
    )

    @model_validator(mode="after")
    def _one_kind_of_capacity(self) -> EndpointConfig:
        if (self.instances is None) == (self.serverless is None):
            raise FieldError(
                "has both or neither of instances and serverless",
                "set exactly one of instances (real-time in the VPC) or serverless",
            )
        match self.capacity:
            case ServerlessConfig():
                raise_all(
                    [
                        FieldError(
                            "is not available for serverless endpoints (SageMaker supports no data capture "
                            "or Model Monitor there, and scales them itself)",
                            "remove it or serve from instances",
                            at=name,
                        )
                        for name in ("autoscaling", "data_capture", "monitoring")
                        if getattr(self, name)
                    ]
                )
            case InstancesConfig(initial_instance_count=count) if self.autoscaling is not None:
                if not self.autoscaling.min_instances <= count <= self.autoscaling.max_instances:
                    raise FieldError(
                        f"{count} is outside autoscaling's "
                        f"[{self.autoscaling.min_instances}, {self.autoscaling.max_instances}]",
                        "start within the autoscaling range",
                        at="instances.initial_instance_count",
                    )
        unique(tuple(test.name for test in self.smoke_tests), "smoke test names", at="smoke_tests")
        return self

    @property
    def capacity(self) -> InstancesConfig | ServerlessConfig:
        """The endpoint's one kind of capacity: the YAML sets `instances` or `serverless`, and everything
        that differs between the two (VPC placement, volume key, capture, monitoring, instance alarms)
        follows from which one this is."""
        if self.instances is not None:
            return self.instances
        if self.serverless is not None:
            return self.serverless
        raise AssertionError(f"endpoint {self.name}: validated to have instances or serverless")

    @property
    def capture(self) -> DataCaptureConfig | None:
        """The data capture in effect: on for every endpoint on instances."""
        if isinstance(self.capacity, ServerlessConfig):
            return None
        return self.data_capture or DataCaptureConfig()

    @property
    def data_quality(self) -> DataQualityMonitoringConfig | None:
        """The monitoring in effect: on for every endpoint on instances unless turned off (ADR 0017)."""
        if isinstance(self.capacity, ServerlessConfig):
            return None
        monitoring = self.monitoring or DataQualityMonitoringConfig()
        return monitoring if monitoring.enabled else None

    @property
    def local_storage(self) -> bool:
        """On an instance type with local NVMe storage, whose volumes take no customer key."""
        match self.capacity:
            case InstancesConfig(instance_type=instance_type):
                return bool(INSTANCE_STORAGE_FAMILY.fullmatch(instance_type.split(".")[1]))
        return False


class ServingConfig(FrozenModel):
    """The endpoints a serving environment runs, and who hears about their alarms."""

    endpoints: tuple[EndpointConfig, ...] = Field(min_length=1)
    capture_retention_days: StrictInt = Field(
        default=90, ge=1, le=3650, description="Captured requests and monitoring reports expire after this"
    )

    @field_validator("endpoints")
    @classmethod
    def _unique_endpoints(cls, value: tuple[EndpointConfig, ...]) -> tuple[EndpointConfig, ...]:
        unique(tuple(endpoint.name for endpoint in value), "endpoint names")
        return value

    @property
    def deployed_endpoints(self) -> tuple[EndpointConfig, ...]:
        """The endpoints the platform deploys: those whose pinned version is approved."""
        return tuple(endpoint for endpoint in self.endpoints if endpoint.model_package.approved)


class AlarmsConfig(FrozenModel):
    """Where the environment's CloudWatch alarms go (an encrypted SNS topic) and who is subscribed."""

    emails: tuple[StrictStr, ...] = Field(default=(), description="Subscribed (after confirmation)")

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return email_addresses(value)
