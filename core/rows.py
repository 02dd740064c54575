"""Typed reads of one stored row (``dict[str, object]``, as sqlite-utils and psycopg give it).

To the type checker a row's values are ``object``; each accessor narrows one column to
the type its schema gives it, with the conversions the two stores need (an integer or
REAL column may come back as ``int``, ``float`` or ``Decimal``), and raises ``TypeError``
naming the column when the value is of no such type (schema drift, a tampered row), so
the stores' row mappers need no ``# type: ignore`` at each read.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from core.time import opt_from_db

K = TypeVar("K", contravariant=True)


class Row(Protocol[K]):
    """A stored row read by column name (a dict) or by position (a tuple): ``Row[str]``,
    ``Row[int]``."""

    def __getitem__(self, key: K, /) -> object: ...


def _refuse(key: object, value: object, wanted: str) -> TypeError:
    return TypeError(f"column {key!r} holds {type(value).__name__} {value!r}, not {wanted}")


def text(row: Row[K], key: K) -> str:
    value = row[key]
    if isinstance(value, str):
        return value
    raise _refuse(key, value, "text")


def opt_text(row: Row[K], key: K) -> str | None:
    return None if row[key] is None else text(row, key)


def integer(row: Row[K], key: K) -> int:
    value = row[key]
    if isinstance(value, bool):
        raise _refuse(key, value, "an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal | str):
        return int(value)
    raise _refuse(key, value, "an integer")


def opt_integer(row: Row[K], key: K) -> int | None:
    return None if row[key] is None else integer(row, key)


def number(row: Row[K], key: K) -> float:
    value = row[key]
    if isinstance(value, bool):
        raise _refuse(key, value, "a number")
    if isinstance(value, int | float | Decimal | str):
        return float(value)
    raise _refuse(key, value, "a number")


def opt_number(row: Row[K], key: K) -> float | None:
    return None if row[key] is None else number(row, key)


def opt_time(row: Row[K], key: K) -> datetime | None:
    """A nullable timestamp column in the stored form of ``core.time``."""
    return opt_from_db(opt_text(row, key))


def qualified(alias: str, columns: str) -> str:
    """A store's column list (``"id, rule"``) named through ``alias`` (``"d.id, d.rule"``),
    for the same columns read in a join; ``columns`` comes only from constants in the code."""
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))
