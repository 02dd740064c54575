"""SQL behind a device's scope: which rows a crew may see, where its orders are, and each
crew's stored network scope (``network_scopes``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Final

import msgspec
from sqlite_utils import Database

from core.idlists import ids_condition, is_postgresql
from core.rows import qualified
from core.time import to_db
from sync.changelog import crew_scope

OrderColumns = Sequence[object]
#: ids read per statement, and rows kept per batch of a set-wise read
CHUNK: Final = 500


def _chunks(ids: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def _batches(rows: Iterable[OrderColumns], size: int = CHUNK) -> Iterator[list[OrderColumns]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


#: an order's columns in the order of its wire row (``server.intents.wire``); the crew is
#: the eighth
ORDER_COLUMNS: Final = (
    "id, number, type, status, priority, title, description, crew_id, customer_id, location, "
    "pipe_diameter_mm, profile, reported_at, created_at, updated_at, closed_at, due_at, "
    "status_reason, version, fields, steps")
#: a deadline's columns as its wire row needs them, the order's id first
DEADLINE_COLUMNS: Final = ("work_order_id, rule, clause, starts_at, due_at, met_at, provisional, "
                           "met_server_at, met_source")
_CREW_DEADLINE_COLUMNS: Final = qualified("d", DEADLINE_COLUMNS)
#: a customer's columns in the order of its wire row (``Customer``'s fields)
CUSTOMER_COLUMNS: Final = (
    "id, account_no, name, phone, wechat_openid, address, compound, street, lon, lat, "
    "category, meter_no, meter_diameter_mm, meter_location, property_dispute, court_case, "
    "channels")
#: the orders that keep their customer on the crew's tablets (``customers_of_crew``)
_OPEN_OF_CREW: Final = "crew_id = ? AND status NOT IN ('verified','cancelled')"


class ScopeStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pg = is_postgresql(db)

    def _in(self, column: str, ids: Sequence[str]) -> tuple[str, list[object]]:
        return ids_condition(column, ids, self._pg)

    def order_chunks(self, ids: Sequence[str], crew_id: str
                     ) -> Iterator[tuple[list[OrderColumns], dict[str, list[OrderColumns]]]]:
        """The crew's orders among ``ids`` as stored (``ORDER_COLUMNS``), 500 ids at a time,
        each chunk with its deadlines (``DEADLINE_COLUMNS``) by order, earliest due first.

        Two statements per chunk, found by primary key; the crew is compared here, as in
        ``orders_of_crew`` (so visibility and content are one read). A generator: the
        caller encodes a chunk before the next one is read, so only one chunk of column
        tuples is alive at any time.
        """
        for chunk in _chunks(ids):
            cond, params = self._in("id", chunk)
            rows = [r for r in self.db.execute(
                f"SELECT {ORDER_COLUMNS} FROM work_orders WHERE {cond}", params)
                if r[7] == crew_id]
            deadlines: dict[str, list[OrderColumns]] = {}
            if rows:
                cond, params = self._in("work_order_id", [str(r[0]) for r in rows])
                for d in self.db.execute(
                        f"SELECT {DEADLINE_COLUMNS} FROM work_order_deadlines "
                        f"WHERE {cond} ORDER BY due_at, rule", params):
                    deadlines.setdefault(str(d[0]), []).append(d)
            yield rows, deadlines

    def crew_order_chunks(self, crew_id: str
                          ) -> Iterator[tuple[list[OrderColumns], dict[str, list[OrderColumns]]]]:
        """Every order of the crew as ``order_chunks`` gives it, read set-wise for a
        snapshot: one statement for the orders (by the crew's index), one for all their
        deadlines, then ``CHUNK`` orders at a time with the deadlines by order.

        Why not by id: a snapshot names every order the crew ever held, and reading them
        500 ids at a time took a statement for the rows and one for their deadlines per
        batch, beside two for their evidence and two for their customers (issue 19: a
        quarter of a 10k-row snapshot on PostgreSQL was those round trips).
        """
        deadlines: dict[str, list[OrderColumns]] = {}
        for d in self.db.execute(
                f"SELECT {_CREW_DEADLINE_COLUMNS} FROM work_order_deadlines d "
                "JOIN work_orders w ON w.id = d.work_order_id WHERE w.crew_id = ? "
                "ORDER BY d.due_at, d.rule", [crew_id]):
            deadlines.setdefault(str(d[0]), []).append(d)
        for rows in _batches(self.db.execute(
                f"SELECT {ORDER_COLUMNS} FROM work_orders WHERE crew_id = ?", [crew_id])):
            yield rows, deadlines

    def crew_customer_chunks(self, crew_id: str) -> Iterator[list[OrderColumns]]:
        """The customers the crew may see (``customers_of_crew``'s rule), as
        ``customer_chunks`` gives them, read set-wise for a snapshot in one statement."""
        yield from _batches(self.db.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id IN "
            f"(SELECT customer_id FROM work_orders WHERE {_OPEN_OF_CREW})", [crew_id]))

    def orders_of_crew(self, ids: Sequence[str], crew_id: str) -> list[str]:
        """The orders of ``ids`` the crew holds, found by primary key.

        The crew is compared here, not in ``WHERE``: with ``crew_id = ?`` beside the id
        list the SQLite planner walked the crew's index (every order of the crew) once per
        batch of 500 ids, quadratic in the crew's size (issue 19: 0.4 s of a 50k-row
        snapshot).
        """
        out: list[str] = []
        for chunk in _chunks(ids):
            cond, params = self._in("id", chunk)
            out.extend(str(r[0]) for r in self.db.execute(
                f"SELECT id, crew_id FROM work_orders WHERE {cond}", params)
                if r[1] == crew_id)
        return out

    def customer_chunks(self, ids: Sequence[str]) -> Iterator[list[OrderColumns]]:
        """Customers of ``ids`` as stored (``CUSTOMER_COLUMNS``), 500 ids at a time (a
        generator, as ``order_chunks``); visibility is ``customers_of_crew``'s."""
        for chunk in _chunks(ids):
            cond, params = self._in("id", chunk)
            yield self.db.execute(
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {cond}", params).fetchall()

    def isolation_plans_of_crew(self, ids: Sequence[str], crew_id: str
                                ) -> dict[str, dict[str, object]]:
        """The isolation plans (with plan B per valve) attached to the crew's orders."""
        out: dict[str, dict[str, object]] = {}
        for chunk in _chunks(ids):
            cond, params = self._in("p.work_order_id", chunk)
            for wo_id, plan, revision, extra in self.db.execute(
                    "SELECT p.work_order_id, p.plan, p.revision, p.affected_extra "
                    "FROM fw_isolation_plans p JOIN work_orders w ON w.id = p.work_order_id "
                    f"WHERE w.crew_id = ? AND {cond}", [crew_id, *params]):
                out[str(wo_id)] = {"id": wo_id, "work_order_id": wo_id,
                                   "plan": json.loads(plan), "revision": revision,
                                   "extra_customer_ids": json.loads(extra)}
        return out

    def customers_of_crew(self, ids: Sequence[str], crew_id: str) -> list[str]:
        """Customers with at least one open work order of the crew.

        Personal data (phone, WeChat id) stays on a tablet only while the crew works for
        the customer: once the order is cancelled, verified or reassigned away the row is
        absent from this answer and the next pull carries its removal.
        """
        out: list[str] = []
        for chunk in _chunks(ids):
            cond, params = self._in("customer_id", chunk)
            out.extend(str(r[0]) for r in self.db.execute(
                f"SELECT DISTINCT customer_id FROM work_orders WHERE {_OPEN_OF_CREW} "
                f"AND {cond}", [crew_id, *params]))
        return out

    def crew_ever_held(self, work_order_id: str, crew_id: str) -> bool:
        """Did the crew's tablets ever receive this order (is it, or was it, theirs)?"""
        row = self.db.execute(
            "SELECT 1 FROM changes WHERE entity = 'work_order' AND entity_id = ? "
            "AND scope = ? LIMIT 1", [work_order_id, crew_scope(crew_id)]).fetchone()
        return row is not None

    def open_anchors(self, crew_id: str) -> list[tuple[float, float]]:
        """(lon, lat) of the crew's open orders: where its network scope is centred."""
        rows = self.db.execute(
            "SELECT lon, lat FROM work_orders WHERE crew_id = ? "
            "AND status NOT IN ('verified','cancelled')", [crew_id])
        return [(float(r[0]), float(r[1])) for r in rows]

    def anchors(self, ids: Sequence[str]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for chunk in _chunks(ids):
            cond, params = self._in("id", chunk)
            out.extend((float(r[0]), float(r[1])) for r in self.db.execute(
                f"SELECT lon, lat FROM work_orders WHERE {cond}", params))
        return out

    def field_devices(self) -> list[tuple[str, str, str | None, float | None]]:
        """(device, user, crew, recorded clock skew) of every unrevoked field device."""
        rows = self.db.execute(
            "SELECT d.id, u.id, u.crew_id, d.clock_skew_s FROM devices d "
            "JOIN users u ON u.id = d.user_id WHERE d.revoked_at IS NULL "
            "AND u.role IN ('crew_member','meter_reader') ORDER BY d.id")
        return [(str(r[0]), str(r[1]), r[2], r[3]) for r in rows]


class StoredNetworkScope(msgspec.Struct, frozen=True, gc=False):
    """A crew's network scope as the ``network_scopes`` job last stored it."""

    #: (the crew scope's, the network's) last change-log sequence it was confirmed at
    stamp: tuple[int, int]
    radius_m: float
    #: ``anchors_digest`` of the open-order points it was computed around
    digest: str
    #: the (entity, id) rows, encoded (``decode_keys``)
    keys: bytes


_keys_encoder: Final = msgspec.msgpack.Encoder()
_keys_decoder: Final = msgspec.msgpack.Decoder(dict[str, list[str]])


def encode_keys(keys: Iterable[tuple[str, str]]) -> bytes:
    """(entity, id) rows as MessagePack ``{entity: [id, ...]}``: the entity is written once,
    not once per row, and decoding is one C call."""
    grouped: dict[str, list[str]] = {}
    for entity, row_id in sorted(keys):
        grouped.setdefault(entity, []).append(row_id)
    return _keys_encoder.encode(grouped)


def decode_keys(blob: bytes) -> frozenset[tuple[str, str]]:
    return frozenset((entity, row_id) for entity, ids in _keys_decoder.decode(blob).items()
                     for row_id in ids)


class NetworkScopeStore:
    """SQL of ``network_scopes``: each crew's network scope, stored for every process.

    Derived rows, never synced: writes touch no entity, so they add nothing to the change
    log and wake no tablet.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def crews_in_the_field(self) -> list[str]:
        """Crews with an unrevoked field device or an open order: those that sync."""
        rows = self.db.execute(
            "SELECT u.crew_id FROM devices d JOIN users u ON u.id = d.user_id "
            "WHERE d.revoked_at IS NULL AND u.role IN ('crew_member','meter_reader') "
            "AND u.crew_id IS NOT NULL "
            "UNION SELECT c.id FROM crews c WHERE EXISTS (SELECT 1 FROM work_orders w "
            "WHERE w.crew_id = c.id AND w.status NOT IN ('verified','cancelled')) "
            "ORDER BY 1")
        return [str(r[0]) for r in rows]

    def get(self, crew_id: str, radius_m: float) -> StoredNetworkScope | None:
        """The crew's stored scope when it was computed with ``radius_m``; a row of
        another radius (the setting changed since) is as good as none."""
        row = self.db.execute(
            "SELECT crew_seq, network_seq, radius_m, anchors_digest, keys "
            "FROM network_scopes WHERE crew_id = ?", [crew_id]).fetchone()
        if row is None or float(row[2]) != radius_m:
            return None
        return StoredNetworkScope(stamp=(int(row[0]), int(row[1])), radius_m=float(row[2]),
                                  digest=str(row[3]), keys=bytes(row[4]))

    def put(self, crew_id: str, scope: StoredNetworkScope, at: datetime) -> None:
        """Store ``scope`` unless the stored row is newer (another worker got there first
        with a later stamp): a row is only ever replaced by one confirmed later."""
        self.db.execute(
            "INSERT INTO network_scopes (crew_id, crew_seq, network_seq, radius_m, "
            "anchors_digest, keys, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (crew_id) DO UPDATE SET crew_seq = excluded.crew_seq, "
            "network_seq = excluded.network_seq, radius_m = excluded.radius_m, "
            "anchors_digest = excluded.anchors_digest, keys = excluded.keys, "
            "computed_at = excluded.computed_at "
            "WHERE network_scopes.crew_seq <= excluded.crew_seq "
            "AND network_scopes.network_seq <= excluded.network_seq",
            [crew_id, scope.stamp[0], scope.stamp[1], scope.radius_m, scope.digest,
             scope.keys, to_db(at)])

    def restamp(self, crew_id: str, was: StoredNetworkScope, stamp: tuple[int, int]) -> None:
        """Confirm the stored keys at a later ``stamp`` (the anchors did not move), only if
        the row is still the one ``was`` read: no re-encoding of the keys."""
        self.db.execute(
            "UPDATE network_scopes SET crew_seq = ?, network_seq = ? WHERE crew_id = ? "
            "AND crew_seq = ? AND network_seq = ? AND anchors_digest = ? AND radius_m = ?",
            [stamp[0], stamp[1], crew_id, was.stamp[0], was.stamp[1], was.digest,
             was.radius_m])
