"""PostgreSQL answers the stores' ``strftime`` period keys exactly as SQLite does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from core.time import to_db
from server.db import migrate, open_store
from tests.factories import make_clock, make_settings, postgresql_only

pytestmark = [pytest.mark.integration,
              postgresql_only("the translation of SQLite's strftime is PostgreSQL's")]

#: the period keys of the timeliness reports (server/tickets/store.py PERIODS), in Beijing
FORMATS = ("%Y-W%W", "%Y-%m-%d", "%Y-%m")


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = open_store(make_settings(str(tmp_path_factory.mktemp("pgstrftime"))), make_clock())
    migrate(db)
    yield db
    db.close()


def keys(db: Database | sqlite3.Connection, when: datetime) -> list[str]:
    cols = ", ".join(f"strftime('{f}', p.at, '+8 hours')" for f in FORMATS)
    sql = f"SELECT {cols} FROM (SELECT ? AS at) AS p"  # noqa: S608 - constant formats
    row = db.execute(sql, [to_db(when)]).fetchone()
    assert row is not None
    return [str(v) for v in row]


# hypothesis takes naive bounds and makes the times aware itself
@given(st.datetimes(min_value=datetime(2000, 1, 1),  # noqa: DTZ001
                    max_value=datetime(2100, 12, 31),  # noqa: DTZ001
                    timezones=st.just(UTC)))
def test_every_period_key_is_sqlites(pg: Database, when: datetime) -> None:
    # SQLite's own strftime is the reference. It reckons in whole milliseconds (rounding),
    # PostgreSQL in microseconds (truncating): the keys agree for every millisecond
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    assert keys(pg, when) == keys(sqlite3.connect(":memory:"), when)


@pytest.mark.parametrize("year", range(2020, 2034))
def test_the_weeks_around_new_year_are_sqlites(pg: Database, year: int) -> None:
    # the first Monday decides week 01; days before it are week 00 (ISO weeks differ)
    start = datetime(year - 1, 12, 24, 16, tzinfo=UTC)
    for day in range(16):
        when = start + timedelta(days=day)
        assert keys(pg, when) == keys(sqlite3.connect(":memory:"), when), when


def test_a_known_week(pg: Database) -> None:
    # 2026-01-01 is a Thursday: week 00 until Monday 5 January (Beijing time)
    assert keys(pg, datetime(2026, 1, 4, 15, 59, tzinfo=UTC))[0] == "2026-W00"
    assert keys(pg, datetime(2026, 1, 4, 16, 0, tzinfo=UTC))[0] == "2026-W01"
    assert keys(pg, datetime(2026, 12, 31, 0, 0, tzinfo=UTC))[0] == "2026-W52"
