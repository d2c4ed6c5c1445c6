"""What the pipeline definition tests share: contexts with placeholders, a network blocker, JSON helpers."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from unittest import mock

import botocore.client

from pipeline_defs import RenderContext, script_paths
from pipeline_defs.context import (
    PLACEHOLDER_BUCKET,
    PLACEHOLDER_CODE_BUCKET,
    PLACEHOLDER_DATA_BUCKET,
    PLACEHOLDER_KMS_KEY_ARN,
    PLACEHOLDER_MLFLOW_TRACKING_ARN,
    PLACEHOLDER_MODEL_PACKAGE_GROUP,
    PLACEHOLDER_ROLE_ARN,
    PLACEHOLDER_SECURITY_GROUP_ID,
    placeholder_subnet_id,
)

ROOT: Final = Path(__file__).resolve().parents[2]
REGION: Final = "eu-west-1"
# The placeholders the stacks render with (pipeline_defs.context), under the names the tests use.
BUCKET: Final = PLACEHOLDER_BUCKET
DATA_BUCKET: Final = PLACEHOLDER_DATA_BUCKET
ROLE_ARN: Final = PLACEHOLDER_ROLE_ARN
CODE_BUCKET: Final = PLACEHOLDER_CODE_BUCKET
KMS_KEY: Final = PLACEHOLDER_KMS_KEY_ARN
SUBNETS: Final = (placeholder_subnet_id(0), placeholder_subnet_id(1))
SECURITY_GROUPS: Final = (PLACEHOLDER_SECURITY_GROUP_ID,)
GROUP: Final = PLACEHOLDER_MODEL_PACKAGE_GROUP
CACHE: Final = "P30D"
MLFLOW_ARN: Final = PLACEHOLDER_MLFLOW_TRACKING_ARN
DEFINITION_LIMIT: Final = 1_048_576  # characters, the SageMaker API's limit for a definition


def code_uris(name: str) -> dict[str, str]:
    """Placeholder URIs as the stack makes them: the code bucket is a token, the key the asset's hash."""
    return {script: f"s3://{CODE_BUCKET}/asset-hash-of-{script}" for script in script_paths(name)}


def full_context(name: str) -> RenderContext:
    """Every option set: caching, KMS, VPC, a data bucket, an MLflow tracking server (all placeholders)."""
    return RenderContext(
        region=REGION,
        role_arn=ROLE_ARN,
        bucket=BUCKET,
        code_uris=code_uris(name),
        model_package_group=GROUP if name == "model_build" else None,
        cache_expire_after=CACHE,
        kms_key_id=KMS_KEY,
        subnet_ids=SUBNETS,
        security_group_ids=SECURITY_GROUPS,
        data_bucket=DATA_BUCKET,
        mlflow_tracking_server_arn=MLFLOW_ARN,
    )


def plain_context(name: str) -> RenderContext:
    """The least: no caching, no KMS key, no VPC, no data bucket, no experiment tracking."""
    return RenderContext(
        region=REGION,
        role_arn=ROLE_ARN,
        bucket=BUCKET,
        code_uris=code_uris(name),
        model_package_group=GROUP if name == "model_build" else None,
    )


class NetworkAttemptError(AssertionError):
    """Raised where a connection or an AWS API call would have gone out."""


@contextlib.contextmanager
def blocked_network() -> Iterator[list[str]]:
    """Every socket connection and every botocore API call raises, and is recorded in the yielded list."""
    attempts: list[str] = []

    def connect(self: socket.socket, address: object) -> None:
        attempts.append(f"connect {address!r}")
        raise NetworkAttemptError(f"network blocked: connect to {address!r}")

    def make_api_call(self: botocore.client.BaseClient, operation_name: str, api_params: object) -> None:
        attempts.append(f"{self.meta.service_model.service_name}:{operation_name}")
        raise NetworkAttemptError(f"network blocked: {operation_name}")

    with (
        mock.patch.object(socket.socket, "connect", connect),
        mock.patch.object(botocore.client.BaseClient, "_make_api_call", make_api_call),
    ):
        yield attempts


# The same blocker for a fresh interpreter, installed before anything is imported; it reports the attempts
# on stderr as the last line, `ATTEMPTS <json list>`.
SUBPROCESS_BLOCKER: Final = """
import atexit, json, socket, sys
attempts = []
def _connect(self, address):
    attempts.append("connect " + repr(address))
    raise OSError("network blocked")
socket.socket.connect = _connect
import botocore.client
def _call(self, operation_name, api_params):
    attempts.append(operation_name)
    raise RuntimeError("network blocked")
botocore.client.BaseClient._make_api_call = _call
atexit.register(lambda: print("ATTEMPTS " + json.dumps(attempts), file=sys.stderr))
"""


def load(definition: str) -> dict[str, Any]:
    document = json.loads(definition)
    assert isinstance(document, dict)
    return document


def all_steps(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step by name, including the steps of condition branches."""
    found: dict[str, dict[str, Any]] = {}

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found[step["Name"]] = step
            if step["Type"] == "Condition":
                visit(step["Arguments"]["IfSteps"])
                visit(step["Arguments"]["ElseSteps"])

    visit(document["Steps"])
    return found


def parameters(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {parameter["Name"]: parameter for parameter in document["Parameters"]}


def join_values(expression: Any) -> list[Any]:
    """The values of a `Std:Join` with "/" (a URI built in the definition)."""
    assert isinstance(expression, dict) and "Std:Join" in expression, expression
    join = expression["Std:Join"]
    assert join["On"] == "/"
    values = join["Values"]
    assert isinstance(values, list)
    return values


def static_prefix(expression: Any) -> str:
    """The literal start of a URI: a string as is, or a Join's leading literal values up to the first Get."""
    if isinstance(expression, str):
        return expression
    literal: list[str] = []
    for value in join_values(expression):
        if not isinstance(value, str):
            break
        literal.append(value)
    return "/".join(literal)


def gets(node: Any) -> list[str]:
    """Every `{"Get": ...}` reference in a JSON value."""
    if isinstance(node, dict):
        found = [node["Get"]] if isinstance(node.get("Get"), str) else []
        return found + [reference for value in node.values() for reference in gets(value)]
    if isinstance(node, list):
        return [reference for item in node for reference in gets(item)]
    return []
