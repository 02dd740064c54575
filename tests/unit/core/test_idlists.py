"""``core.idlists``: one condition for a list of ids, per store."""

from __future__ import annotations

import pytest

from core.idlists import ids_condition, text_array

pytestmark = pytest.mark.unit


def test_postgresql_sends_the_ids_as_one_array_whatever_their_number() -> None:
    ids = [f"id-{i}" for i in range(500)]
    # one short statement text for every list length: psycopg caches its conversion only
    # for statements of at most 50 parameters, and the server prepares it once
    cond, params = ids_condition("id", ids, True)
    assert cond == "id = ANY(CAST(? AS text[]))"
    assert params == ["{" + ",".join(f'"id-{i}"' for i in range(500)) + "}"]
    assert ids_condition("id", ids[:3], True)[0] == cond


def test_the_array_literal_keeps_every_character_of_an_id_as_text() -> None:
    assert text_array([]) == "{}"
    assert text_array(["a,b", 'say "hi"', "{x}", "back\\slash", " lead", "NULL", ""]) == (
        '{"a,b","say \\"hi\\"","{x}","back\\\\slash"," lead","NULL",""}')


def test_ids_that_are_not_text_go_as_a_list() -> None:
    assert ids_condition("n", [1, 2], True) == ("n = ANY(?)", [[1, 2]])


def test_sqlite_binds_each_id() -> None:
    assert ids_condition("c.id", ["a", "b"], False) == ("c.id IN (?,?)", ["a", "b"])
    assert ids_condition("id", [], False) == ("id IN ()", [])
