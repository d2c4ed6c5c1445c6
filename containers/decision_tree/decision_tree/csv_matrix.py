"""Comma-separated numbers to a float matrix, fast on good input and precise about bad input.

Training files and `text/csv` requests share one format: one row per line, values separated by commas,
no header, no quoting, no comments; empty lines and trailing whitespace are ignored. The whole text is
parsed in one call to numpy's C parser (`np.loadtxt`). Only when that fails, or a value is not finite,
does a slow pass in Python walk the lines to say which line and column are wrong: the error path may be
slow, the good one may not.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]


class CsvFormatError(ValueError):
    """The text is not a rectangular table of finite numbers; the message names the line and column."""


def parse_csv_matrix(text: str, *, expected_columns: int | None = None) -> FloatMatrix:
    """The rows of `text` as a 2-D float64 array of shape (rows, columns).

    With `expected_columns`, every row must have exactly that many values; without it, every row must
    have as many as the first. Raises `CsvFormatError` for no rows, ragged rows, a value that is not a
    number, or a value that is not finite (nan, inf).
    """
    # Trailing whitespace (a final newline, a stray space) is not a row; leading lines keep their numbers.
    text = text.rstrip()
    if not text:
        raise CsvFormatError("no rows: the text is empty")
    lines = text.splitlines()
    try:
        matrix = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2, comments=None)
    except ValueError as error:
        raise CsvFormatError(
            _describe_problem(lines, expected_columns) or f"not valid CSV: {error}"
        ) from None
    if expected_columns is not None and matrix.shape[1] != expected_columns:
        raise CsvFormatError(
            _describe_problem(lines, expected_columns)
            or f"expected {expected_columns} values per row, got {matrix.shape[1]}"
        )
    if not np.isfinite(matrix).all():
        raise CsvFormatError(_describe_problem(lines, expected_columns) or "a value is not a finite number")
    return matrix


def _describe_problem(lines: list[str], expected_columns: int | None) -> str | None:
    """The first problem in `lines`, by 1-based line and column; None if this pass finds none."""
    for line_number, line in enumerate(lines, start=1):
        if not line:  # np.loadtxt skips empty lines (but not whitespace-only ones)
            continue
        fields = line.split(",")
        if expected_columns is None:
            expected_columns = len(fields)
        elif len(fields) != expected_columns:
            return f"line {line_number}: expected {expected_columns} values, got {len(fields)}"
        for column, field in enumerate(fields, start=1):
            try:
                value = float(field)
            except ValueError:
                return f"line {line_number}, column {column}: {field.strip()[:40]!r} is not a number"
            if not math.isfinite(value):
                return f"line {line_number}, column {column}: {field.strip()!r} is not a finite number"
    return None
