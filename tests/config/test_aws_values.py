"""platform_config/aws_values.py is what tools/generate_aws_values.py renders from the installed cfn-lint."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from types import ModuleType

import pytest

from platform_config import aws_values
from platform_config.aws_constraints import CONSTRAINTS_FILE, TARGETS
from platform_config.aws_values import (
    AWS_REGIONS,
    STUDIO_APP_INSTANCE_TYPES,
    STUDIO_APP_TYPES,
    STUDIO_ML_TOOLS,
)
from platform_config.models import StudioAppType


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    """tools/generate_aws_values.py, imported here: it loads cfn-lint (about a second), and every test
    worker imports this module to collect it."""
    import tools.generate_aws_values as module  # noqa: PLC0415

    return module


REGENERATE = (
    "regenerate with `.venv/bin/python -m tools.generate_aws_values` after a cfn-lint or botocore upgrade"
)


def test_committed_module_matches_the_installed_schemas(generate: ModuleType) -> None:
    assert generate.TARGET.resolve() == Path(aws_values.__file__).resolve()
    assert generate.TARGET.read_text() == generate.render(generate.collect()), (
        f"platform_config/aws_values.py is stale: {REGENERATE}"
    )


def test_committed_constraints_match_the_installed_specifications(generate: ModuleType) -> None:
    """aws_constraints.json is what botocore's SageMaker model and cfn-lint's schemas say today."""
    committed = CONSTRAINTS_FILE.read_text()
    assert committed == generate.render_constraints(generate.collect_constraints()), (
        f"aws_constraints.json is stale: {REGENERATE}"
    )
    assert set(json.loads(committed)["targets"]) == set(TARGETS)


def test_imported_values_match_the_installed_schemas(generate: ModuleType) -> None:
    values = generate.collect()
    assert set(values) == {"AWS_REGIONS", "STUDIO_APP_INSTANCE_TYPES", "STUDIO_APP_TYPES", "STUDIO_ML_TOOLS"}
    for name, items in values.items():
        assert getattr(aws_values, name) == frozenset(items), f"{name} is stale: {REGENERATE}"
        assert len(items) == len(set(items)), f"{name} has duplicates in the schema"


def test_render_is_sorted_and_deterministic(generate: ModuleType) -> None:
    values = {"B_VALUES": ("b", "a", "c"), "A_VALUES": ("z",)}
    text = generate.render(values)
    assert text == generate.render(values)
    assert text.index('"a",') < text.index('"b",') < text.index('"c",')
    namespace: dict[str, object] = {}
    exec(compile(text, "<rendered>", "exec"), namespace)
    assert namespace["B_VALUES"] == frozenset({"a", "b", "c"})
    assert namespace["A_VALUES"] == frozenset({"z"})


def test_sanity_of_the_values() -> None:
    assert "eu-west-1" in AWS_REGIONS
    assert "us-east-1" in AWS_REGIONS
    assert "ml.t3.medium" in STUDIO_APP_INSTANCE_TYPES
    assert "EmrClusters" in STUDIO_ML_TOOLS
    assert "JupyterLab" in STUDIO_APP_TYPES
    # Partitions the platform does not deploy to are left out.
    assert not any(region.startswith(("cn-", "us-gov-", "us-iso")) for region in AWS_REGIONS)
    # The schema's enum also holds 'system', the pseudo instance of the (JupyterServer) default app.
    assert {value for value in STUDIO_APP_INSTANCE_TYPES if not value.startswith("ml.")} == {"system"}


def test_app_types_the_models_accept_are_studio_app_types() -> None:
    assert set(typing.get_args(StudioAppType)) <= STUDIO_APP_TYPES


def test_values_are_frozensets_of_strings() -> None:
    for values in (AWS_REGIONS, STUDIO_APP_INSTANCE_TYPES, STUDIO_APP_TYPES, STUDIO_ML_TOOLS):
        assert isinstance(values, frozenset)
        assert values
        assert all(isinstance(value, str) and value == value.strip() for value in values)
