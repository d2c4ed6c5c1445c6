"""The step graph of a rendered definition, read from its JSON alone (no SDK): what reviewers look at.

An edge A -> B exists when B reads something of A (a `{"Get": "Steps.A..."}` anywhere in B, including
property files and `Std:JsonGet`), when B lists A in `DependsOn`, or when B is in one of A's condition
branches. Steps inside a condition's branches are steps of the pipeline like any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

EdgeKind = Literal["data", "depends_on", "if", "else"]
STEP_REFERENCE_PREFIX: Final = "Steps."


@dataclass(frozen=True)
class PipelineGraph:
    """`steps`: step name -> step type (`Processing`, `Training`, `Condition`, ...), in definition order.
    `edges`: (from, to) pairs. `edge_kinds`: why each edge exists. `branches`: condition step name ->
    (if step names, else step names). `depends_on`: step name -> its explicit `DependsOn` names.
    """

    steps: Mapping[str, str]
    edges: frozenset[tuple[str, str]]
    edge_kinds: Mapping[tuple[str, str], frozenset[EdgeKind]]
    branches: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
    depends_on: Mapping[str, tuple[str, ...]]

    def lines(self) -> list[str]:
        """One line per step (`Name: Type`), then one per edge (`A -> B`, with `(if)`/`(else)`/`(depends on)`
        where the edge is not a data dependency), in a stable order."""
        order = {name: index for index, name in enumerate(self.steps)}
        rendered = [f"{name}: {step_type}" for name, step_type in self.steps.items()]
        for source, target in sorted(self.edges, key=lambda edge: (order[edge[0]], order[edge[1]])):
            kinds = self.edge_kinds[(source, target)] - {"data"}
            suffix = "".join(f" ({kind.replace('_', ' ')})" for kind in sorted(kinds))
            rendered.append(f"{source} -> {target}{suffix}")
        return rendered


def pipeline_graph(definition: str) -> PipelineGraph:
    """The graph of a definition JSON. Raises ValueError on a reference to a step that does not exist."""
    document = json.loads(definition)
    if not isinstance(document, dict) or not isinstance(document.get("Steps"), list):
        raise ValueError("not a pipeline definition: no 'Steps' list")
    bodies = _steps_by_name(document["Steps"])
    steps = {name: str(body["Type"]) for name, body in bodies.items()}
    branches = {
        name: (_step_names(arguments.get("IfSteps")), _step_names(arguments.get("ElseSteps")))
        for name, body in bodies.items()
        if steps[name] == "Condition"
        for arguments in [_mapping(body.get("Arguments"))]
    }
    depends_on = {name: _depends_on(name, body) for name, body in bodies.items()}

    found: list[tuple[str, str, EdgeKind]] = []
    for name, body in bodies.items():
        found.extend(
            (source, name, "data") for source in sorted(set(_referenced_steps(_without_branches(body))))
        )
        found.extend((source, name, "depends_on") for source in depends_on[name])
    for condition, (if_steps, else_steps) in branches.items():
        found.extend((condition, target, "if") for target in if_steps)
        found.extend((condition, target, "else") for target in else_steps)

    dangling = [
        f"{target} refers to {source!r} ({kind})" for source, target, kind in found if source not in steps
    ]
    if dangling:
        raise ValueError("references to steps that do not exist: " + "; ".join(dangling))
    kinds: dict[tuple[str, str], set[EdgeKind]] = {}
    for source, target, kind in found:
        kinds.setdefault((source, target), set()).add(kind)
    edge_kinds = {edge: frozenset(edge_kind) for edge, edge_kind in kinds.items()}
    return PipelineGraph(
        steps=MappingProxyType(steps),
        edges=frozenset(edge_kinds),
        edge_kinds=MappingProxyType(edge_kinds),
        branches=MappingProxyType(branches),
        depends_on=MappingProxyType({name: names for name, names in depends_on.items() if names}),
    )


def _steps_by_name(top_level: object) -> dict[str, dict[str, object]]:
    bodies: dict[str, dict[str, object]] = {}
    for step in _all_steps(top_level):
        name, step_type = step.get("Name"), step.get("Type")
        if not isinstance(name, str) or not isinstance(step_type, str):
            raise ValueError(f"a step without a Name or Type: {json.dumps(step)[:200]}")
        if name in bodies:
            raise ValueError(f"two steps are named {name!r}")
        bodies[name] = step
    return bodies


def _depends_on(name: str, step: dict[str, object]) -> tuple[str, ...]:
    explicit = step.get("DependsOn") or []
    if not isinstance(explicit, list) or not all(isinstance(item, str) for item in explicit):
        raise ValueError(f"step {name!r} has a DependsOn that is not a list of names")
    return tuple(str(item) for item in explicit)


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _step_list(value: object) -> list[dict[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _step_names(value: object) -> tuple[str, ...]:
    return tuple(str(step.get("Name")) for step in _step_list(value))


def _all_steps(top_level: object) -> Iterator[dict[str, object]]:
    """Every step, depth first: a condition step, then the steps of its branches."""
    for step in _step_list(top_level):
        yield step
        if step.get("Type") == "Condition":
            arguments = _mapping(step.get("Arguments"))
            yield from _all_steps(arguments.get("IfSteps"))
            yield from _all_steps(arguments.get("ElseSteps"))


def _without_branches(step: dict[str, object]) -> dict[str, object]:
    """A condition step without its branch steps (their references are their own), and without DependsOn."""
    trimmed = {key: value for key, value in step.items() if key != "DependsOn"}
    if step.get("Type") == "Condition":
        arguments = _mapping(step.get("Arguments"))
        trimmed["Arguments"] = {
            key: value for key, value in arguments.items() if key not in ("IfSteps", "ElseSteps")
        }
    return trimmed


def _referenced_steps(node: object) -> Iterator[str]:
    """The step names of every `{"Get": "Steps.<name>..."}` in a JSON value."""
    if isinstance(node, dict):
        reference = node.get("Get")
        if isinstance(reference, str) and reference.startswith(STEP_REFERENCE_PREFIX):
            # Step names are letters, digits, '-' and '_', so the name ends at the first '.' or '['.
            rest = reference[len(STEP_REFERENCE_PREFIX) :]
            yield rest.split(".", 1)[0].split("[", 1)[0]
        for value in node.values():
            yield from _referenced_steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from _referenced_steps(item)
