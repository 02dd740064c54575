"""Typed reads of stored rows: each accessor narrows a column or names it in a TypeError."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.rows import integer, number, opt_integer, opt_number, opt_text, opt_time, text
from core.time import to_db

pytestmark = pytest.mark.unit


def test_each_store_form_of_a_column_reads_as_its_schema_type() -> None:
    # SQLite gives int and float, PostgreSQL may give Decimal for numeric columns
    row = {"n": 3, "d": Decimal("4"), "f": 1.5, "s": "x", "none": None,
           "at": to_db(datetime(2026, 12, 1, 8, tzinfo=UTC))}
    assert (integer(row, "n"), integer(row, "d"), number(row, "n"), number(row, "d")) \
        == (3, 4, 3.0, 4.0)
    assert (opt_number(row, "f"), opt_number(row, "none")) == (1.5, None)
    assert (text(row, "s"), opt_text(row, "s"), opt_text(row, "none")) == ("x", "x", None)
    assert opt_integer(row, "none") is None
    assert opt_time(row, "at") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert opt_time(row, "none") is None


@pytest.mark.parametrize(("read", "value"), [
    (text, 5), (text, None), (integer, True), (integer, None), (integer, b"1"),
    (number, False), (number, [1.0]), (opt_text, 7), (opt_time, 1.5),
])
def test_a_value_of_another_type_names_its_column(read: object, value: object) -> None:
    assert callable(read)
    with pytest.raises(TypeError, match="'col'"):
        read({"col": value}, "col")
