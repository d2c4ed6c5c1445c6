"""The CloudFormation resource schemas cfn-lint ships, read lazily and once per type.

One reading for every tool that decides from the schemas: the review diff (create-only properties, the
properties that name a resource) and the bootstrap execution policy (handler permissions). Offline: the
schemas are files of the installed cfn-lint, and us-east-1's provider list names the schema of each type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any


@cache
def schema_directory() -> Path:
    """cfn-lint's `data/schemas` folder (`providers/<region>.json`, `resources/<schema>.json`)."""
    import cfnlint.data.schemas  # noqa: PLC0415 - cfn-lint is imported only when a schema is needed

    return Path(cfnlint.data.schemas.__file__).parent


@cache
def _providers() -> Mapping[str, str]:
    providers: dict[str, str] = json.loads((schema_directory() / "providers" / "us-east-1.json").read_text())
    return providers


@cache
def resource_schema(resource_type: str) -> Mapping[str, Any]:
    """The resource schema of a type, e.g. `AWS::SageMaker::Space`; empty for types without one."""
    schema_name = _providers().get(resource_type)
    if schema_name is None:
        return {}
    schema: dict[str, Any] = json.loads(
        (schema_directory() / "resources" / f"{schema_name}.json").read_text()
    )
    return schema
