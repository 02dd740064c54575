"""Migrations from an empty store, re-run idempotently, version recorded (both stores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.clock import system_clock
from server.db import MIGRATION_SETS, migrate, open_database, open_store, schema_version
from tests.factories import make_settings, sqlite_only

pytestmark = pytest.mark.integration


def _tables(db: object) -> set[str]:
    if getattr(db, "dialect_name", "sqlite") == "postgresql":
        rows = db.execute(  # type: ignore[attr-defined]
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()").fetchall()
    else:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"  # type: ignore[attr-defined]
                          ).fetchall()
    return {str(r[0]) for r in rows}


def test_empty_store_gets_every_migration_and_rerun_changes_nothing(tmp_path: Path) -> None:
    settings = make_settings(str(tmp_path))
    db = open_store(settings, system_clock)
    applied = migrate(db)
    expected = [f"{m.name}:{x.name}" for m in MIGRATION_SETS for x in m._migrations]
    assert applied == expected
    assert {"work_orders", "changes"} <= _tables(db)
    assert migrate(db) == []
    db.close()
    reopened = open_store(settings, system_clock)
    assert migrate(reopened) == []
    assert schema_version(reopened)["server"][0] == "m001_core"
    reopened.close()


def test_a_reopened_store_keeps_its_rows(tmp_path: Path) -> None:
    settings = make_settings(str(tmp_path))
    db = open_store(settings, system_clock)
    migrate(db)
    with db.atomic():
        db.execute("INSERT INTO crews (id, name) VALUES ('c1', 'one')")
    db.close()
    again = open_store(settings, system_clock)
    migrate(again)
    assert again.execute("SELECT name FROM crews WHERE id = 'c1'").fetchone()[0] == "one"
    again.close()


@sqlite_only("the WAL journal mode of a SQLite file has no PostgreSQL counterpart")
def test_the_sqlite_file_is_opened_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(tmp_path / "fresh.db")
    migrate(db)
    assert db.journal_mode == "wal"
    db.close()
