"""The device replica's ``rows`` table: its size on a tablet and older replicas.

A pulled order is about 1.8 kB (its steps, deadlines and fields), a customer 0.3 kB. A
tablet's storage is limited, so a snapshot's rows take little more than their own bytes;
a replica written by a client of before (``rows`` a ``WITHOUT ROWID`` table) keeps working.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec
import pytest

from sync.client.replica import RawUpsert, Replica

pytestmark = pytest.mark.integration

ROWS = 1000


def _upserts(version: int) -> list[RawUpsert]:
    return [RawUpsert(entity="work_order", id=f"wo-{i:05d}", data=msgspec.Raw(
        msgspec.msgpack.encode({"id": f"wo-{i:05d}", "version": version, "title": "x" * 1700})))
        for i in range(ROWS)]


def test_a_snapshot_takes_little_more_disk_than_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "tablet.db"
    replica = Replica(path, synchronous="OFF")
    upserts = _upserts(1)
    replica.apply_page(upserts, [], "c1", 1)
    replica.close()
    data = sum(len(bytes(u.data)) + len(u.id) + len(u.entity) for u in upserts)
    # a WITHOUT ROWID table gave each such row an overflow page of its own (2.7x their
    # bytes); a rowid table keeps them on its pages
    assert path.stat().st_size < 1.5 * data


def test_a_replica_of_an_older_client_keeps_its_rows_and_takes_new_pages(
        tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE rows (entity TEXT NOT NULL, id TEXT NOT NULL, data NOT "
                     "NULL, PRIMARY KEY (entity, id)) WITHOUT ROWID")
        conn.execute("INSERT INTO rows VALUES ('work_order', 'wo-00000', '{\"version\":0}')")
    conn.close()
    replica = Replica(path, synchronous="OFF")
    assert replica.row("work_order", "wo-00000") == {"version": 0}
    replica.apply_page(_upserts(1)[:2], [], "c1", 1)
    replica.apply_page(_upserts(2)[1:3], [], "c2", 2)
    held = replica.rows("work_order")
    assert [(k, v["version"]) for k, v in held.items()] == [
        ("wo-00000", 1), ("wo-00001", 2), ("wo-00002", 2)]
    replica.close()
