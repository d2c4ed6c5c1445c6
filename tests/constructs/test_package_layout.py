"""constructs_lib is one package per capability (ADR 0018): imports run one way, and the tests mirror it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

LIBRARY = ROOT / "constructs_lib"
TESTS = ROOT / "tests" / "constructs"
SHARED = "shared"
# The capability imports ADR 0018 lists: a Kubernetes namespace role is a persona execution role, and a
# persona role grants the tracking server through the grant that lives beside it.
ALLOWED_CAPABILITY_IMPORTS = {("kubernetes", "studio"), ("studio", "experiments")}


def _packages() -> list[str]:
    return sorted(path.parent.name for path in LIBRARY.glob("*/__init__.py"))


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def _package_imports() -> set[tuple[str, str]]:
    """(importing package, imported package) for every import between constructs_lib's packages."""
    edges: set[tuple[str, str]] = set()
    for package in _packages():
        for path in (LIBRARY / package).glob("*.py"):
            for module in _imported_modules(path):
                parts = module.split(".")
                if parts[0] == "constructs_lib" and len(parts) > 1 and parts[1] != package:
                    edges.add((package, parts[1]))
    return edges


def test_no_construct_module_is_left_flat() -> None:
    assert sorted(path.name for path in LIBRARY.glob("*.py")) == ["__init__.py"]
    assert SHARED in _packages()


def test_every_package_says_what_its_capability_is() -> None:
    for package in _packages():
        docstring = ast.get_docstring(ast.parse((LIBRARY / package / "__init__.py").read_text()))
        assert docstring, package


def test_shared_imports_no_capability() -> None:
    assert {edge for edge in _package_imports() if edge[0] == SHARED} == set()


def test_capabilities_import_each_other_only_where_the_adr_says() -> None:
    capability_edges = {edge for edge in _package_imports() if SHARED not in edge}
    assert capability_edges == ALLOWED_CAPABILITY_IMPORTS


def test_constructs_import_neither_the_config_nor_the_stacks() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted(LIBRARY.rglob("*.py"))
        for module in _imported_modules(path)
        if module.split(".")[0] in {"platform_config", "stacks", "app"}
    ]
    assert offenders == []


def test_the_tests_mirror_the_packages() -> None:
    assert sorted(path.parent.name for path in TESTS.glob("*/__init__.py")) == _packages()
    home = {path.stem: path.parent.name for path in LIBRARY.glob("*/*.py") if path.stem != "__init__"}
    misplaced = [
        str(path.relative_to(ROOT))
        for path in sorted(TESTS.glob("*/test_*.py"))
        if home.get(path.stem.removeprefix("test_"), path.parent.name) != path.parent.name
    ]
    assert misplaced == []
    assert sorted(path.name for path in TESTS.glob("test_*.py")) == [Path(__file__).name]
