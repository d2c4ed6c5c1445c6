"""The input data parameters every DAG declares: which S3 object a run reads, and which version of it.

A new-data trigger (PipelineTriggers) starts a pipeline with every parameter in `TRIGGER_PARAMETERS`,
filled from EventBridge's S3 "Object Created" event; StartPipelineExecution refuses a parameter the
definition does not declare, so every DAG that may be triggered declares all of them (the pipeline stack
checks this at synth). The data bucket is versioned, so the event always carries a version id.

The version id and ETag are lineage, and cache keys: they enter the arguments of the first job that reads
the object, so a new upload to the same key never reuses a cached result. A run started by hand records
`UNRECORDED` unless it is given them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pipeline_defs import _sdk

BUCKET_PARAMETER: Final = "InputDataBucket"
KEY_PARAMETER: Final = "InputDataKey"
VERSION_ID_PARAMETER: Final = "InputDataVersionId"
ETAG_PARAMETER: Final = "InputDataETag"

# Parameter name -> where EventBridge's S3 "Object Created" event has its value (a JSON path).
TRIGGER_PARAMETERS: Final = {
    BUCKET_PARAMETER: "$.detail.bucket.name",
    KEY_PARAMETER: "$.detail.object.key",
    VERSION_ID_PARAMETER: "$.detail.object.version-id",
    ETAG_PARAMETER: "$.detail.object.etag",
}
# What a run records when it was not told the version (SageMaker refuses empty metadata values).
UNRECORDED: Final = "unrecorded"


@dataclass(frozen=True)
class InputData:
    """The four parameters, and the object's s3:// URI built from them."""

    bucket: _sdk.ParameterString
    key: _sdk.ParameterString
    version_id: _sdk.ParameterString
    etag: _sdk.ParameterString

    @property
    def parameters(self) -> list[_sdk.ParameterString]:
        return [self.bucket, self.key, self.version_id, self.etag]

    @property
    def uri(self) -> _sdk.Join:
        return _sdk.s3_uri(self.bucket, self.key)


def input_data_parameters(*, default_bucket: str, default_key: str) -> InputData:
    return InputData(
        bucket=_sdk.ParameterString(name=BUCKET_PARAMETER, default_value=default_bucket),
        key=_sdk.ParameterString(name=KEY_PARAMETER, default_value=default_key),
        version_id=_sdk.ParameterString(name=VERSION_ID_PARAMETER, default_value=UNRECORDED),
        etag=_sdk.ParameterString(name=ETAG_PARAMETER, default_value=UNRECORDED),
    )
