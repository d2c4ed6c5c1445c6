"""Regenerate platform_config/aws_values.py and platform_config/aws_constraints.json from the specifications
the installed tools ship: cfn-lint's CloudFormation resource schemas and availability zone table, and
botocore's SageMaker service model.

The configuration validates regions, SageMaker enum values, names, descriptions, tags and instance types
before any construct sees them, so a value AWS would refuse is reported with its file and field at synth
time instead of failing a deploy. Run after a cfn-lint or botocore bump:

    .venv/bin/python -m tools.generate_aws_values

tests/config/test_aws_values.py fails when the committed files and the installed specifications disagree.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import botocore.session
import cfnlint.data.schemas
import cfnlint.helpers

from platform_config.aws_constraints import CONSTRAINTS_FILE, INSTANCE_TYPE_SHAPES, TARGETS

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


def _schema_property(resource_type: str, path: str) -> dict[str, Any]:
    """A property's schema; `Tags.Key` is the Key of each item of the list Tags."""
    providers = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    schema = json.loads((SCHEMAS / "resources" / f"{providers[resource_type]}.json").read_text())

    def resolved(node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            node = schema["definitions"][node["$ref"].split("/")[-1]]
        return node

    found: dict[str, Any] = {"properties": schema["properties"]}
    for part in path.split("."):
        if found.get("type") == "array":
            found = resolved(found["items"])
        found = resolved(found["properties"][part])
    return found


# The botocore service of each API kind of TARGETS.
SERVICES = {"api": "sagemaker", "runtime-api": "sagemaker-runtime"}


def _api_member(service: str, operation: str, path: str) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model(service)
    shape: Any = model.operation_model(operation).input_shape
    for part in path.split("."):
        # A list's members are its item's: Tags.Key is the Key of each tag.
        shape = shape.members[part] if shape.type_name == "structure" else shape.member.members[part]
    return dict(shape.metadata)


def _pattern(pattern: str) -> str:
    # botocore writes some patterns with a trailing `${min,max}`; the length is checked on its own.
    return re.sub(r"\$\{\d+,\d+\}$", "", pattern)


def collect_constraints() -> dict[str, Any]:
    """Per target of platform_config.spec_checks: min, max, pattern and how it matches; the instance type
    enumerations; the availability zones of each region the configuration accepts."""
    targets: dict[str, dict[str, Any]] = {}
    for name, (kind, owner, member) in sorted(TARGETS.items()):
        if kind in SERVICES:
            metadata = _api_member(SERVICES[kind], owner, member)
            entry = {
                "min": metadata.get("min"),
                "max": metadata.get("max"),
                "pattern": metadata.get("pattern"),
            }
            entry["match"] = "full"
        else:
            spec = _schema_property(owner, member)
            entry = {
                "min": spec.get("minLength", spec.get("minItems")),
                "max": spec.get("maxLength", spec.get("maxItems")),
                "pattern": spec.get("pattern"),
                "match": "search",
            }
        if entry["pattern"] is not None:
            entry["pattern"] = _pattern(entry["pattern"])
        entry["source"] = f"{kind}:{owner}.{member}"
        targets[name] = {key: value for key, value in entry.items() if value is not None}
    model = botocore.session.get_session().get_service_model("sagemaker")
    regions = collect()["AWS_REGIONS"]
    return {
        "targets": targets,
        "instance_types": {
            shape: sorted(getattr(model.shape_for(shape), "enum", [])) for shape in INSTANCE_TYPE_SHAPES
        },
        "availability_zones": {
            region: sorted(cfnlint.helpers.AVAILABILITY_ZONES[region])
            for region in regions
            if region in cfnlint.helpers.AVAILABILITY_ZONES
        },
    }


def render_constraints(constraints: dict[str, Any]) -> str:
    return json.dumps(constraints, indent=1, sort_keys=True) + "\n"


def main() -> int:
    TARGET.write_text(render(collect()))
    print(f"wrote {TARGET}")
    CONSTRAINTS_FILE.write_text(render_constraints(collect_constraints()))
    print(f"wrote {CONSTRAINTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
