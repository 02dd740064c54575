"""The change log: which synced rows changed, for which scope, at which sequence.

Only the unit of work (``core.uow``) appends to it, at commit, from the records the
transaction touched; nothing here writes.

A row of ``changes`` says "entity X changed (or left scope S) at sequence N". Devices pull
by sequence (a monotonic server counter), never by timestamps, so a change committed
late can never be skipped (WatermelonDB's lesson). The row's current content is read at
pull time; the log only says *which* rows to send to *which* scope.

Scopes are strings: ``crew:<id>`` for a crew's work orders and the customers they touch,
``all`` for reference data every device gets, ``network`` for pipes/valves/hydrants
(filtered by distance at pull time).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from sqlite_utils import Database

SCOPE_ALL: Final = "all"
SCOPE_NETWORK: Final = "network"


def crew_scope(crew_id: str) -> str:
    return f"crew:{crew_id}"


class ChangeOp(StrEnum):
    UPSERT = "upsert"
    #: the row is gone for everyone (a tombstone)
    DELETE = "delete"
    #: the row left this scope (reassigned away) but still exists
    REMOVE = "remove"


def latest_seq(db: Database) -> int:
    row = db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
    return int(row[0])
