"""Check manifests against the field index of the controller's CRDs (tools/ack_crd_index.py writes it)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Final

INDEX_FILE: Final = Path(__file__).resolve().parent / "ack_crd_index.json"

_PYTHON_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "int-or-string": (int, str),
}


@cache
def crd_index() -> dict[str, Any]:
    index: dict[str, Any] = json.loads(INDEX_FILE.read_text())
    return index


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """Unknown fields, wrong types and missing required fields of an ACK resource's spec, each as
    `<kind>/<name>: <path>: <problem>`; an empty list for a kind the index does not hold."""
    entry = crd_index()["kinds"].get(manifest.get("kind"))
    if entry is None:
        return []
    label = f"{manifest['kind']}/{manifest.get('metadata', {}).get('name', '?')}"
    problems: list[str] = []
    if manifest.get("apiVersion") != entry["apiVersion"]:
        problems.append(
            f"{label}: apiVersion {manifest.get('apiVersion')!r}, the CRD serves {entry['apiVersion']}"
        )
    _check(manifest.get("spec"), "spec", entry, label, problems)
    return problems


def _check(value: Any, path: str, entry: dict[str, Any], label: str, problems: list[str]) -> None:
    fields: dict[str, str] = entry["fields"]
    if path not in fields:
        problems.append(f"{label}: {path}: not a field of the CRD")
        return
    expected = fields[path]
    # bool is an int in Python: only an integer field takes a whole number.
    if expected != "any" and (
        not isinstance(value, _PYTHON_TYPES[expected]) or (isinstance(value, bool) and expected != "boolean")
    ):
        problems.append(f"{label}: {path}: {type(value).__name__} where the CRD says {expected}")
        return
    if isinstance(value, dict):
        if f"{path}{{}}" in fields:
            for item in value.values():
                _check(item, f"{path}{{}}", entry, label, problems)
            return
        problems.extend(
            f"{label}: {required}: required by the CRD, missing"
            for required in entry["required"]
            if required.rsplit(".", 1)[0] == path and required.rsplit(".", 1)[1] not in value
        )
        for name, item in value.items():
            _check(item, f"{path}.{name}", entry, label, problems)
    elif isinstance(value, list):
        for item in value:
            _check(item, f"{path}[]", entry, label, problems)
