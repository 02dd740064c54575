"""SQL behind a device's scope: which rows a crew may see, where its orders are."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Final

from sqlite_utils import Database

from core.idlists import ids_condition, is_postgresql
from sync.changelog import crew_scope


def _chunks(ids: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


#: an order's columns in the order of its wire row (``server.intents.wire``); the crew is
#: the eighth
ORDER_COLUMNS: Final = (
    "id, number, type, status, priority, title, description, crew_id, customer_id, location, "
    "pipe_diameter_mm, profile, reported_at, created_at, updated_at, closed_at, due_at, "
    "status_reason, version, fields, steps")
#: a deadline's columns as its wire row needs them, the order's id first
DEADLINE_COLUMNS: Final = ("work_order_id, rule, clause, starts_at, due_at, met_at, provisional, "
                           "met_server_at, met_source")
#: a customer's columns in the order of its wire row (``Customer``'s fields)
CUSTOMER_COLUMNS: Final = (
    "id, account_no, name, phone, wechat_openid, address, compound, street, lon, lat, "
    "category, meter_no, meter_diameter_mm, meter_location, property_dispute, court_case, "
    "channels")
OrderColumns = Sequence[object]


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
                "SELECT DISTINCT customer_id FROM work_orders WHERE crew_id = ? "
                f"AND status NOT IN ('verified','cancelled') AND {cond}", [crew_id, *params]))
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
