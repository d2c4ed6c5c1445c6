"""The step scripts ship as single files into SageMaker containers: Python 3.8 syntax, standard library
imports only (container libraries are imported at run time), nothing from this project."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from pipeline_defs import DEFINITIONS, script_paths

SCRIPTS = sorted({path for name in DEFINITIONS for path in script_paths(name).values()})


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_python_3_8_syntax(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path), feature_version=(3, 8))
    first = tree.body[1] if isinstance(tree.body[0], ast.Expr) else tree.body[0]
    assert isinstance(first, ast.ImportFrom) and first.module == "__future__", "annotations stay strings"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "zip":
            assert not any(keyword.arg == "strict" for keyword in node.keywords), "zip(strict=) is 3.10+"
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("removeprefix", "removesuffix"), "3.9+"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_standard_library_imports_only(path: Path) -> None:
    tree = ast.parse(path.read_text())
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    modules |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert modules <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)
