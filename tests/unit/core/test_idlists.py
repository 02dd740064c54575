"""``core.idlists``: one condition for a list of ids, per store."""

from __future__ import annotations

import pytest

from core.idlists import ids_condition

pytestmark = pytest.mark.unit


def test_postgresql_sends_the_ids_as_one_array_whatever_their_number() -> None:
    ids = [f"id-{i}" for i in range(500)]
    # one short statement text for every list length: psycopg caches its conversion only
    # for statements of at most 50 parameters, and the server prepares it once
    assert ids_condition("id", ids, True) == ("id = ANY(?)", [ids])
    assert ids_condition("id", ids[:3], True)[0] == ids_condition("id", ids, True)[0]


def test_sqlite_binds_each_id() -> None:
    assert ids_condition("c.id", ["a", "b"], False) == ("c.id IN (?,?)", ["a", "b"])
    assert ids_condition("id", [], False) == ("id IN ()", [])
