"""PostgreSQL: the writers' lock belongs to one store (schema), not to the whole database."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from server.db import migrate, open_store
from tests.factories import make_clock, make_settings, postgresql_only

pytestmark = [pytest.mark.integration,
              postgresql_only("advisory locks are PostgreSQL's; a SQLite file is one store")]

#: bound for the other store's write (a condition wait, not a timing assertion)
PATIENCE_S = 60.0


def test_a_writer_in_one_schema_does_not_hold_up_a_store_in_another(tmp_path: Path) -> None:
    clock = make_clock()
    a = open_store(make_settings(str(tmp_path / "a")), clock)
    b = open_store(make_settings(str(tmp_path / "b")), clock)
    try:
        migrate(a)
        migrate(b)
        wrote = threading.Event()

        def write_b() -> None:
            with b.atomic():
                b.execute("INSERT INTO crews (id, name) VALUES ('cb', 'in b')")
            wrote.set()

        with a.atomic():  # a holds its write lock until b has committed
            a.execute("INSERT INTO crews (id, name) VALUES ('ca', 'in a')")
            other = threading.Thread(target=write_b, daemon=True)
            other.start()
            committed_meanwhile = wrote.wait(PATIENCE_S)
        other.join(PATIENCE_S)
        assert committed_meanwhile
        assert b.execute("SELECT name FROM crews WHERE id = 'cb'").fetchone()[0] == "in b"
        assert b.execute("SELECT COUNT(*) FROM crews WHERE id = 'ca'").fetchone()[0] == 0
    finally:
        a.close()
        b.close()
