"""A list of ids as one SQL condition, spelled for the store it runs on.

``column IN (?, ?, ...)`` on SQLite, where binding 500 parameters costs next to nothing.
On PostgreSQL the same text costs: psycopg caches the conversion of a statement's ``%s``
marks only for statements of at most 50 parameters, so every 500-mark list was split
again in Python (about 10 ms a statement, 0.6 s of a 10k-row snapshot, issue 19), and the
server planned each list length anew. There the ids go as one array, ``column = ANY(?)``:
one short statement text per query, cached by psycopg and prepared by the server after a
few runs. Both spellings select the same rows (an empty list selects none).

A list of strings goes as the text of an array literal (``{"a","b"}``, cast to
``text[]``): psycopg's list dumper looks up a dumper per element in Python, about 2 µs
an id, 0.1 s of every pass over a 50k-row scope, where joining the quoted ids costs a
tenth of that.
"""

from __future__ import annotations

from collections.abc import Sequence


def is_postgresql(db: object) -> bool:
    """Whether ``db`` is the PostgreSQL store (``server.pgdb.PgDatabase``)."""
    return getattr(db, "dialect_name", "sqlite") == "postgresql"


def ids_condition(column: str, ids: Sequence[object], postgresql: bool
                  ) -> tuple[str, list[object]]:
    """``(condition, parameters)`` for "``column`` is one of ``ids``"; ``column`` comes
    only from constants in the code (it is pasted into the SQL)."""
    if postgresql:
        texts = [i for i in ids if isinstance(i, str)]
        if len(texts) == len(ids):
            return f"{column} = ANY(CAST(? AS text[]))", [text_array(texts)]
        return f"{column} = ANY(?)", [list(ids)]
    return f"{column} IN ({','.join('?' * len(ids))})", list(ids)


def text_array(ids: Sequence[str]) -> str:
    """PostgreSQL's text form of the array of ``ids``: every element double-quoted, its
    backslashes and double quotes escaped, so commas, braces, spaces and ``NULL`` stay
    plain text."""
    return "{" + ",".join(
        '"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in ids) + "}"
