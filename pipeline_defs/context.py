"""What a definition is rendered for: region, role, bucket, code locations and job settings.

Plain Python, no SDK: the pipeline stack builds a `RenderContext` from its configuration (with placeholder
strings where CDK tokens go) and passes it to `render`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

# Placeholders for values that are CDK tokens at synth: render with these, then replace each with its token.
PLACEHOLDER_BUCKET: Final = "__ARTIFACT_BUCKET__"
PLACEHOLDER_ROLE_ARN: Final = "arn:aws:iam::000000000000:role/__PIPELINE_ROLE__"
PLACEHOLDER_CODE_BUCKET: Final = "__CODE_BUCKET__"
PLACEHOLDER_MODEL_PACKAGE_GROUP: Final = "__MODEL_PACKAGE_GROUP__"
PLACEHOLDER_DATA_BUCKET: Final = "__DATA_BUCKET__"
PLACEHOLDER_MLFLOW_TRACKING_ARN: Final = "__MLFLOW_TRACKING_ARN__"
PLACEHOLDER_KMS_KEY_ARN: Final = "arn:aws:kms:__REGION__:000000000000:key/__DATA_KEY__"
PLACEHOLDER_SECURITY_GROUP_ID: Final = "sg-__PIPELINE_SECURITY_GROUP__"


def placeholder_subnet_id(index: int) -> str:
    """The placeholder of the index-th subnet (a stack has as many as it has subnets)."""
    return f"subnet-__PIPELINE_SUBNET_{index}__"


def splice(body: str, tokens: Mapping[str, str], *, leftover_markers: Sequence[str], definition: str) -> str:
    """A definition rendered with placeholders, each replaced by its token (a CDK token's string, which CDK
    turns into Fn::Join); any of `leftover_markers` still in the body is a placeholder nobody replaced, a
    ValueError naming `definition`."""
    for placeholder, token in tokens.items():
        body = body.replace(placeholder, token)
    leftovers = sorted(marker for marker in leftover_markers if marker in body)
    if leftovers:
        raise ValueError(f"the definition of {definition} still holds placeholders: {', '.join(leftovers)}")
    return body


# Image URIs are looked up per region, so the region must be concrete (not a token).
REGION_PATTERN: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
# A full role ARN: a bare name would make the SDK call iam:GetRole. The account may be a placeholder's zeros.
ROLE_ARN_PATTERN: Final = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]{1,512}$")
# S3 bucket names, or a placeholder such as __ARTIFACT_BUCKET__ (underscores are not allowed in real names).
BUCKET_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.\-]{3,63}$")
# A SageMaker managed MLflow tracking server's ARN (the name as CreateMlflowTrackingServer allows it).
MLFLOW_TRACKING_ARN_PATTERN: Final = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:mlflow-tracking-server/"
    r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$"
)


def _is_iso_duration(value: str) -> bool:
    """The configuration's check (one pattern for both), imported on use: `import pipeline_defs` stays
    free of the configuration package and pydantic (about half a second), which synth has loaded anyway."""
    from platform_config.sections.pipelines import ISO_DURATION_PATTERN  # noqa: PLC0415

    return ISO_DURATION_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class RenderContext:
    """The environment a definition is rendered for. Placeholders are allowed wherever CDK tokens go later.

    `code_uris` maps each step script's file name (as in `script_paths`) to the s3:// URI of its shipped
    asset. `data_bucket` is the default of the `InputDataBucket` parameters (None: `bucket`); outputs
    always go to `bucket`. `mlflow_tracking_server_arn` is a SageMaker managed MLflow tracking server (or
    PLACEHOLDER_MLFLOW_TRACKING_ARN, where the stack splices in a token) that the jobs get as the
    environment variable MLFLOW_TRACKING_ARN; None: no experiment tracking. Mappings and sequences are
    copied into read-only values, so a context cannot change after a render has been cached for it.
    """

    region: str
    role_arn: str
    bucket: str
    code_uris: Mapping[str, str] = field(default_factory=dict)
    model_package_group: str | None = None
    cache_expire_after: str | None = None
    kms_key_id: str | None = None
    subnet_ids: Sequence[str] = ()
    security_group_ids: Sequence[str] = ()
    data_bucket: str | None = None
    mlflow_tracking_server_arn: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "code_uris", MappingProxyType(dict(sorted(self.code_uris.items()))))
        object.__setattr__(self, "subnet_ids", tuple(self.subnet_ids))
        object.__setattr__(self, "security_group_ids", tuple(self.security_group_ids))
        problems = list(self._problems())
        if problems:
            raise ValueError("invalid RenderContext: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        problems: list[str] = []
        if not REGION_PATTERN.fullmatch(self.region):
            problems.append(f"region {self.region!r} is not a concrete AWS region such as 'eu-west-1'")
        if not ROLE_ARN_PATTERN.fullmatch(self.role_arn):
            problems.append(
                f"role_arn {self.role_arn!r} is not a full IAM role ARN "
                "(e.g. arn:aws:iam::000000000000:role/__PIPELINE_ROLE__)"
            )
        if not BUCKET_PATTERN.fullmatch(self.bucket):
            problems.append(f"bucket {self.bucket!r} is not a bucket name (no s3:// and no '/')")
        if self.data_bucket is not None and not BUCKET_PATTERN.fullmatch(self.data_bucket):
            problems.append(f"data_bucket {self.data_bucket!r} is not a bucket name (no s3:// and no '/')")
        for script, uri in self.code_uris.items():
            if not uri.startswith("s3://") or len(uri) <= len("s3://"):
                problems.append(f"code_uris[{script!r}] = {uri!r} is not an s3:// URI (local paths upload)")
        if self.model_package_group is not None and not self.model_package_group:
            problems.append("model_package_group is empty (use None for none)")
        if self.cache_expire_after is not None and not _is_iso_duration(self.cache_expire_after):
            problems.append(
                f"cache_expire_after {self.cache_expire_after!r} is not an ISO 8601 duration such as 'P30D'"
            )
        if self.kms_key_id is not None and not self.kms_key_id:
            problems.append("kms_key_id is empty (use None for none)")
        if self.mlflow_tracking_server_arn is not None and not (
            self.mlflow_tracking_server_arn == PLACEHOLDER_MLFLOW_TRACKING_ARN
            or MLFLOW_TRACKING_ARN_PATTERN.fullmatch(self.mlflow_tracking_server_arn)
        ):
            problems.append(
                f"mlflow_tracking_server_arn {self.mlflow_tracking_server_arn!r} is not a SageMaker MLflow "
                "tracking server ARN (arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>) "
                f"or {PLACEHOLDER_MLFLOW_TRACKING_ARN}"
            )
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            problems.append("subnet_ids and security_group_ids go together: give both or neither")
        problems.extend(
            f"{label} contains an empty string"
            for label, values in (
                ("subnet_ids", self.subnet_ids),
                ("security_group_ids", self.security_group_ids),
            )
            if any(not value for value in values)
        )
        return problems

    def __hash__(self) -> int:
        return hash(self.cache_key())

    @property
    def has_vpc(self) -> bool:
        return bool(self.subnet_ids)

    @property
    def input_bucket(self) -> str:
        """The default bucket of the input data."""
        return self.data_bucket or self.bucket

    def cache_key(self) -> str:
        """A canonical string of every field: equal contexts have equal keys (the render cache's key)."""
        return json.dumps(
            {
                "region": self.region,
                "role_arn": self.role_arn,
                "bucket": self.bucket,
                "code_uris": dict(self.code_uris),
                "model_package_group": self.model_package_group,
                "cache_expire_after": self.cache_expire_after,
                "kms_key_id": self.kms_key_id,
                "subnet_ids": list(self.subnet_ids),
                "security_group_ids": list(self.security_group_ids),
                "data_bucket": self.data_bucket,
                "mlflow_tracking_server_arn": self.mlflow_tracking_server_arn,
            },
            sort_keys=True,
        )
