"""Schema of the sync scope's derived data (append-only migrations).

Why a set of its own: the rows are the server's crew scope (``server.intents.readers``),
which ``sync/`` knows nothing of; they are derived, never synced, so no change log.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("intents")


@migrations()
def m001_network_scopes(db: Database) -> None:
    """Each crew's network scope as last computed, shared by every server process.

    ``crew_seq``/``network_seq``: the last change-log sequences of the crew's scope and of
    the network when it was confirmed (the stamp); ``anchors_digest``: SHA-256 of the
    sorted open-order points it was computed around; ``radius_m``: the radius it used;
    ``keys``: the (entity, id) rows, MessagePack ``{entity: [id, ...]}``. No foreign key
    to ``crews``: a derived row must never stand in the way of removing a crew.
    """
    db.executescript(
        """
        CREATE TABLE network_scopes (
            crew_id TEXT PRIMARY KEY,
            crew_seq INTEGER NOT NULL,
            network_seq INTEGER NOT NULL,
            radius_m REAL NOT NULL,
            anchors_digest TEXT NOT NULL,
            keys BLOB NOT NULL,
            computed_at TEXT NOT NULL
        );
        """
    )
