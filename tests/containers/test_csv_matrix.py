"""The CSV parser shared by training and inference: one fast call on good input, exact words on bad."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from containers.decision_tree.decision_tree import csv_matrix
from containers.decision_tree.decision_tree.csv_matrix import (
    CsvFormatError,
    parse_csv_matrix,
    read_csv_blocks,
)


def test_rows_become_a_float_matrix() -> None:
    matrix = parse_csv_matrix("1,2.5,-3\n4,5e-1, 6\r\n\n7,8,9", expected_columns=3)

    assert matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix, [[1, 2.5, -3], [4, 0.5, 6], [7, 8, 9]])


def test_without_an_expected_width_the_first_row_sets_it() -> None:
    assert parse_csv_matrix("1,2\n3,4\n").shape == (2, 2)
    with pytest.raises(CsvFormatError, match="line 3: expected 2 values, got 3"):
        parse_csv_matrix("1,2\n3,4\n5,6,7\n")


def test_one_column_stays_two_dimensional() -> None:
    assert parse_csv_matrix("1\n2\n3\n", expected_columns=1).shape == (3, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no rows: the text is empty"),
        ("\n \n", "no rows: the text is empty"),
        ("1,2\n\n3,x\n", "line 3, column 2: 'x' is not a number"),
        ("1,2\n   \n3,x\n", "line 3, column 2: 'x' is not a number"),
        ("1,2\n3\n", "line 2: expected 2 values, got 1"),
        ("1,2\n3,\n", "line 2, column 2: '' is not a number"),
        ("1,2\nnan,4\n", "line 2, column 1: 'nan' is not a finite number"),
        ('"1","2"\n', "line 1, column 1: '\"1\"' is not a number"),
        ("1,2 # note\n", "line 1, column 2: '2 # note' is not a number"),
        ("1,inf\n", "line 1, column 2: 'inf' is not a finite number"),
    ],
    ids=[
        "empty",
        "blank",
        "word",
        "whitespace-line",
        "short-row",
        "empty-value",
        "nan",
        "quoted",
        "comment",
        "infinite",
    ],
)
def test_bad_text_is_located(text: str, message: str) -> None:
    with pytest.raises(CsvFormatError) as raised:
        parse_csv_matrix(text, expected_columns=2)

    assert str(raised.value) == message


def test_the_width_check_names_the_expected_count() -> None:
    with pytest.raises(CsvFormatError, match="line 1: expected 4 values, got 3"):
        parse_csv_matrix("1,2,3\n4,5,6\n", expected_columns=4)


def test_whitespace_only_lines_are_ignored_like_empty_ones() -> None:
    np.testing.assert_array_equal(parse_csv_matrix("1,2\n   \n3,4 \n"), [[1, 2], [3, 4]])


def test_full_precision_values_read_back_exactly() -> None:
    values = np.random.default_rng(0).normal(size=(200, 7))
    text = "".join(",".join(repr(value) for value in row) + "\n" for row in values.tolist())

    np.testing.assert_array_equal(parse_csv_matrix(text, expected_columns=7), values)


def test_a_file_is_read_in_blocks_of_rows(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("".join(f"{row},{row * 2}\n" for row in range(10)))

    blocks = list(read_csv_blocks(path, block_bytes=12))

    # 12 bytes hold two or three of these lines; a line cut by a read waits for the next block.
    assert all(2 <= block.shape[0] <= 3 for block in blocks), [block.shape for block in blocks]
    np.testing.assert_array_equal(np.concatenate(blocks), np.column_stack([np.arange(10), np.arange(10) * 2]))


def test_an_error_in_a_later_block_names_its_line_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("".join(f"{row},{row}\n" for row in range(9)) + "9,oops\n")

    with pytest.raises(CsvFormatError, match="line 10, column 2: 'oops' is not a number"):
        list(read_csv_blocks(path, block_bytes=16))


def test_a_later_block_must_keep_the_first_width(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n5,6,7\n")

    with pytest.raises(CsvFormatError, match="line 3: expected 2 values, got 3"):
        list(read_csv_blocks(path, block_bytes=8))


def test_a_file_without_a_final_newline_keeps_its_last_row(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4")

    np.testing.assert_array_equal(
        np.concatenate(list(read_csv_blocks(path, block_bytes=3))), [[1, 2], [3, 4]]
    )


def test_an_empty_file_has_no_blocks(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("\n\n")

    assert list(read_csv_blocks(path)) == []


def test_a_large_text_takes_the_fast_path_and_is_still_located() -> None:
    rows = ["1.5,2.5,3.5"] * 3000
    assert len("\n".join(rows)) > csv_matrix.SMALL_TEXT
    np.testing.assert_array_equal(parse_csv_matrix("\n".join(rows), expected_columns=3)[-1], [1.5, 2.5, 3.5])

    rows[2499] = "1.5,two,3.5"
    with pytest.raises(CsvFormatError, match="line 2500, column 2: 'two' is not a number"):
        parse_csv_matrix("\n".join(rows).encode(), expected_columns=3)
