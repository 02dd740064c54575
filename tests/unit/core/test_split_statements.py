"""The SQLite store splits a migration script into the statements sqlite-utils would."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils.db import _iter_complete_sql_statements

from server.db import split_statements

TRIGGER = ("CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN\n"
           "  INSERT INTO log VALUES ('a;b');\n  UPDATE t SET x = ';' WHERE 0;\nEND;")

pieces = st.sampled_from([
    "CREATE TABLE t (x TEXT);", "INSERT INTO t VALUES ('semi;colon');", TRIGGER,
    "-- a comment; with a semicolon\n", "/* block; comment */", "SELECT 1;", "\n", "  ",
    "SELECT ';' || \"x;y\";", "SELECT 2", ";",
])


def test_a_trigger_and_quoted_semicolons_stay_in_their_statement() -> None:
    script = f"CREATE TABLE t (x TEXT);\n{TRIGGER}\nINSERT INTO t VALUES ('1;2');\n"
    assert list(split_statements(script)) == [
        "CREATE TABLE t (x TEXT);", TRIGGER, "INSERT INTO t VALUES ('1;2');"]


@given(st.lists(pieces, max_size=12).map("".join))
def test_the_statements_are_those_sqlite_utils_finds(script: str) -> None:
    # sqlite-utils' own splitter (one character at a time) is the reference
    assert list(split_statements(script)) == list(_iter_complete_sql_statements(script))


@given(st.lists(pieces, max_size=12).map("".join))
def test_every_statement_but_the_tail_is_complete(script: str) -> None:
    statements = list(split_statements(script))
    assert all(sqlite3.complete_statement(s) for s in statements[:-1])
    assert "".join(statements).replace(" ", "").replace("\n", "") == \
        script.replace(" ", "").replace("\n", "")
