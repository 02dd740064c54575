"""Migrations from an empty file, re-run idempotently, version recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.db import MIGRATION_SETS, migrate, open_database, schema_version

pytestmark = pytest.mark.integration


def test_empty_file_gets_every_migration_and_rerun_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    db = open_database(path)
    applied = migrate(db)
    expected = [f"{m.name}:{x.name}" for m in MIGRATION_SETS for x in m._migrations]
    assert applied == expected
    assert "work_orders" in db.table_names()
    assert "changes" in db.table_names()
    assert migrate(db) == []
    db.close()
    reopened = open_database(path)
    assert migrate(reopened) == []
    assert schema_version(reopened)["server"][0] == "m001_core"
    assert reopened.journal_mode == "wal"


def test_a_reopened_store_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "keep.db"
    db = open_database(path)
    migrate(db)
    db.execute("INSERT INTO crews (id, name) VALUES ('c1', 'one')")
    db.close()
    again = open_database(path)
    migrate(again)
    assert again.execute("SELECT name FROM crews WHERE id = 'c1'").fetchone()[0] == "one"
