"""Comma-separated numbers to a float matrix, fast on good input and precise about bad input.

Training files and `text/csv` requests share one format: one row per line, values separated by commas,
no header, no quoting, no comments; empty or whitespace-only lines and trailing whitespace are ignored.
Good input is parsed by pandas' C tokenizer (about four times numpy.loadtxt's speed on 10,000 rows of 30
full-precision values, and exact to the last bit), or, under SMALL_TEXT, by numpy.loadtxt, whose cost per
call is a hundred times lower; training files are read in blocks of rows, so memory
follows the parsed numbers, never the text. Only when parsing fails, or a value is not finite, does a slow
pass in Python walk the lines to say which line and column are wrong: the error path may be slow, the good
one may not.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]  # pandas ships no type information

FloatMatrix = npt.NDArray[np.float64]
# Below this many characters numpy's loadtxt parses faster: pandas costs about 2 ms a call whatever the size,
# which would dominate a single-row request; above it pandas' tokenizer wins (ten times at 10,000 rows).
SMALL_TEXT = 16 * 1024
# Text per block when a file is read in blocks: the block's text, pandas' tokens and the parsed floats live
# at once, a few times this, whatever the size of the file.
BLOCK_BYTES = 1024 * 1024
_READ_OPTIONS: dict[str, Any] = {
    "header": None,
    "dtype": np.float64,
    # No quoting and no NA words: a quoted or missing value is an error, not a number or a NaN.
    "quoting": csv.QUOTE_NONE,
    "na_filter": False,
    "engine": "c",
    "skip_blank_lines": True,
}


class CsvFormatError(ValueError):
    """The text is not a rectangular table of finite numbers; the message names the line and column."""


def parse_csv_matrix(text: str | bytes, *, expected_columns: int | None = None) -> FloatMatrix:
    """The rows of `text` (a str, or UTF-8 bytes) as a 2-D float64 array of shape (rows, columns).

    With `expected_columns`, every row must have exactly that many values; without it, every row must
    have as many as the first. Raises `CsvFormatError` for no rows, ragged rows, a value that is not a
    number, or a value that is not finite (nan, inf); `UnicodeDecodeError` for bytes that are not UTF-8.
    """
    if not text.strip():
        raise CsvFormatError("no rows: the text is empty")
    try:
        if len(text) < SMALL_TEXT:
            matrix = _checked(_read_small(text), expected_columns)
        else:
            # Bytes go to pandas as they are: no decoded copy of a request body.
            source = io.BytesIO(text) if isinstance(text, bytes) else io.StringIO(text)
            matrix = _checked(_read(source), expected_columns)
    except CsvFormatError as error:
        lines = (text.decode("utf-8") if isinstance(text, bytes) else text).splitlines()
        raise CsvFormatError(describe_problem(lines, expected_columns) or str(error)) from None
    return matrix


def read_csv_blocks(
    path: Path, *, expected_columns: int | None = None, block_bytes: int = BLOCK_BYTES
) -> Iterator[FloatMatrix]:
    """The rows of the file at `path` (UTF-8), about `block_bytes` of text at a time, each block checked as
    above. Without `expected_columns` the first block sets the width for the rest. A file with no rows
    yields nothing. Raises `CsvFormatError` (the line and column located by a second, slow pass over the
    file) or `UnicodeDecodeError`.

    The file is read here, in Python, and pandas only parses text already in memory: a blocking read (a
    named pipe, a slow file system) then stays interruptible by a signal handler's exception, which pandas'
    own reader can swallow.
    """
    try:
        with path.open("rb") as file:
            rest = b""
            while True:
                chunk = file.read(block_bytes)
                text = rest + chunk
                if chunk:
                    # Whole lines only; the partial last line waits for the next read.
                    cut = text.rfind(b"\n") + 1
                    if cut == 0:
                        rest = text
                        continue
                    text, rest = text[:cut], text[cut:]
                if text.strip():
                    block = _checked(_read(io.BytesIO(text)), expected_columns)
                    expected_columns = block.shape[1]
                    yield block
                if not chunk:
                    return
    except CsvFormatError as error:
        with path.open(encoding="utf-8") as lines:
            located = describe_problem((line.rstrip("\r\n") for line in lines), expected_columns)
        raise CsvFormatError(located or str(error)) from None


def _read_small(text: str | bytes) -> FloatMatrix:
    lines = [
        line
        for line in (text.decode("utf-8") if isinstance(text, bytes) else text).splitlines()
        if line.strip()
    ]
    try:
        matrix: FloatMatrix = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2, comments=None)
    except ValueError as error:
        raise CsvFormatError(f"not valid CSV: {error}") from None
    return matrix


def _read(source: io.StringIO | io.BytesIO) -> FloatMatrix:
    try:
        frame = pd.read_csv(source, encoding="utf-8", **_READ_OPTIONS)
    except UnicodeDecodeError:
        raise
    except (ValueError, pd.errors.ParserError) as error:
        raise CsvFormatError(f"not valid CSV: {error}") from None
    matrix: FloatMatrix = frame.to_numpy(dtype=np.float64)
    return matrix


def _checked(matrix: FloatMatrix, expected_columns: int | None) -> FloatMatrix:
    if expected_columns is not None and matrix.shape[1] != expected_columns:
        raise CsvFormatError(f"expected {expected_columns} values per row, got {matrix.shape[1]}")
    # pandas fills a short row with NaN, so this also catches a row with too few values.
    if not np.isfinite(matrix).all():
        raise CsvFormatError("a value is not a finite number, or a row is short")
    return matrix


def describe_problem(lines: Iterable[str], expected_columns: int | None) -> str | None:
    """The first problem in `lines`, by 1-based line and column; None if this pass finds none."""
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
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
