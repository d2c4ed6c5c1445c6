"""Regenerate platform_config/aws_values.py from the resource schemas cfn-lint ships.

The configuration validates regions and SageMaker enum values before any construct sees them, so a typo
is reported with its file and field at synth time instead of failing a deploy. Run after a cfn-lint bump:

    .venv/bin/python -m tools.generate_aws_values

tests/config/test_aws_values.py fails when the committed module and the installed schemas disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import cfnlint.data.schemas

SCHEMAS = Path(cfnlint.data.schemas.__file__).parent
TARGET = Path(__file__).resolve().parent.parent / "platform_config" / "aws_values.py"
# Partitions a platform team deploys SageMaker Studio into from a normal account.
PARTITION_PREFIXES = ("af-", "ap-", "ca-", "eu-", "il-", "me-", "mx-", "sa-", "us-east-", "us-west-")


def _definitions(resource_type: str) -> dict[str, Any]:
    providers = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    schema = json.loads((SCHEMAS / "resources" / f"{providers[resource_type]}.json").read_text())
    definitions: dict[str, Any] = schema["definitions"]
    return definitions


def collect() -> dict[str, tuple[str, ...]]:
    """The value sets the configuration checks against, read from the installed schemas."""
    regions = sorted(
        path.stem
        for path in (SCHEMAS / "providers").glob("*.json")
        if path.stem.startswith(PARTITION_PREFIXES) and "iso" not in path.stem
    )
    domain = _definitions("AWS::SageMaker::Domain")
    return {
        "AWS_REGIONS": tuple(regions),
        "STUDIO_APP_INSTANCE_TYPES": tuple(domain["AppInstanceType"]["enum"]),
        "STUDIO_APP_TYPES": tuple(domain["AppType"]["enum"]),
        "STUDIO_ML_TOOLS": tuple(domain["MlTools"]["enum"]),
    }


def render(values: dict[str, tuple[str, ...]]) -> str:
    lines = [
        '"""Allowed values read from the CloudFormation resource schemas. Generated: do not edit.',
        "",
        "Regenerate with `.venv/bin/python -m tools.generate_aws_values` after upgrading cfn-lint.",
        '"""',
        "",
    ]
    for name, items in values.items():
        lines.append(f"{name}: frozenset[str] = frozenset(")
        lines.append("    {")
        lines.extend(f'        "{item}",' for item in sorted(items))
        lines.append("    }")
        lines.append(")")
    return "\n".join(lines) + "\n"


def main() -> int:
    TARGET.write_text(render(collect()))
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
