"""The CSV parser shared by training and inference: one fast call on good input, exact words on bad."""

from __future__ import annotations

import numpy as np
import pytest

from containers.decision_tree.decision_tree.csv_matrix import CsvFormatError, parse_csv_matrix


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
        ("1,2\n   \n3,4\n", "line 2: expected 2 values, got 1"),
        ('"1","2"\n', "line 1, column 1: '\"1\"' is not a number"),
        ("1,2 # note\n", "line 1, column 2: '2 # note' is not a number"),
        ("1,inf\n", "line 1, column 2: 'inf' is not a finite number"),
    ],
    ids=["empty", "blank", "word", "whitespace-line", "quoted", "comment", "infinite"],
)
def test_bad_text_is_located(text: str, message: str) -> None:
    with pytest.raises(CsvFormatError) as raised:
        parse_csv_matrix(text, expected_columns=2)

    assert str(raised.value) == message


def test_the_width_check_names_the_expected_count() -> None:
    with pytest.raises(CsvFormatError, match="line 1: expected 4 values, got 3"):
        parse_csv_matrix("1,2,3\n4,5,6\n", expected_columns=4)
