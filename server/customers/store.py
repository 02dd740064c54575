"""SQL for customers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.rows import opt_integer, opt_number, opt_text
from core.uow import ScopeRule, UnitOfWork, touch
from server.customers.model import Customer
from server.timefmt import to_db

_COLUMNS = (
    "id, account_no, name, phone, wechat_openid, address, compound, street, lon, lat, "
    "category, meter_no, meter_diameter_mm, meter_location, property_dispute, court_case, "
    "channels"
)
_channels_decode = msgspec.json.Decoder(list[str]).decode


def _row(r: Sequence[object]) -> Customer:
    return Customer(
        id=str(r[0]), account_no=str(r[1]), name=str(r[2]), phone=opt_text(r, 3),
        wechat_openid=opt_text(r, 4), address=str(r[5]), compound=str(r[6]),
        street=str(r[7]), lon=opt_number(r, 8), lat=opt_number(r, 9), category=str(r[10]),
        meter_no=opt_text(r, 11), meter_diameter_mm=opt_integer(r, 12),
        meter_location=opt_text(r, 13),
        property_dispute=bool(r[14]), court_case=bool(r[15]), channels=json.loads(str(r[16])),
    )


def customer_scopes(db: Database, ids: Sequence[str]) -> dict[str, set[str]]:
    """A customer is in the scope of every crew with an open work order for it.

    The same rule as the crew's pull reader (``ScopeStore.customers_of_crew``); a customer
    that no longer exists is absent.
    """
    out: dict[str, set[str]] = {}
    for start in range(0, len(ids), 500):
        part = list(ids[start:start + 500])
        marks = ",".join("?" * len(part))
        for cid, crew in db.execute(
                "SELECT c.id, w.crew_id FROM customers c LEFT JOIN work_orders w "
                "ON w.customer_id = c.id AND w.crew_id IS NOT NULL "
                "AND w.status NOT IN ('verified','cancelled') "
                f"WHERE c.id IN ({marks})",
                part):
            scopes = out.setdefault(str(cid), set())
            if crew is not None:
                scopes.add(f"crew:{crew}")
    return out


#: the synced entity name of a customer row
CUSTOMER: Final = "customer"


class CustomerStore:
    """SQL of the customer register; every write tells the unit of work which rows changed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        uow = getattr(db, "uow", None)
        if isinstance(uow, UnitOfWork):
            uow.register(CUSTOMER, ScopeRule(customer_scopes))

    def upsert_many(self, customers: Iterable[Customer], at: datetime) -> int:
        stamp = to_db(at)
        rows = [
            (c.id, c.account_no, c.name, c.phone, c.wechat_openid, c.address, c.compound,
             c.street, c.lon, c.lat, c.category, c.meter_no, c.meter_diameter_mm,
             c.meter_location, int(c.property_dispute), int(c.court_case),
             json.dumps(c.channels), stamp)
            for c in customers
        ]
        self.db.conn.executemany(
            f"INSERT INTO customers ({_COLUMNS}, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET account_no=excluded.account_no, name=excluded.name, "
            "phone=excluded.phone, wechat_openid=excluded.wechat_openid, "
            "address=excluded.address, compound=excluded.compound, street=excluded.street, "
            "lon=excluded.lon, lat=excluded.lat, category=excluded.category, "
            "meter_no=excluded.meter_no, meter_diameter_mm=excluded.meter_diameter_mm, "
            "meter_location=excluded.meter_location, "
            "property_dispute=excluded.property_dispute, court_case=excluded.court_case, "
            "channels=excluded.channels, updated_at=excluded.updated_at",
            rows,
        )
        touch(self.db, CUSTOMER, [r[0] for r in rows])
        return len(rows)

    def set_meter(self, customer_id: str, meter_no: str, diameter_mm: int | None,
                  at: datetime) -> None:
        """The account's meter after a replacement (the signed notice is the record)."""
        self.db.execute(
            "UPDATE customers SET meter_no = ?, "
            "meter_diameter_mm = COALESCE(?, meter_diameter_mm), updated_at = ? WHERE id = ?",
            [meter_no, diameter_mm, to_db(at), customer_id],
        )
        touch(self.db, CUSTOMER, customer_id)

    def get(self, customer_id: str) -> Customer | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM customers WHERE id = ?", [customer_id]
        ).fetchone()
        return None if row is None else _row(row)

    def wire_rows(self, ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Customers as the sync pull sends them, straight from their columns, by id.

        The same mapping as ``msgspec.to_builtins(Customer)`` without building one.
        """
        names = [c.strip() for c in _COLUMNS.split(",")]
        out: dict[str, dict[str, object]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(
                    f"SELECT {_COLUMNS} FROM customers WHERE id IN ({marks})", chunk):
                row = dict(zip(names, r, strict=True))
                row["property_dispute"] = bool(row["property_dispute"])
                row["court_case"] = bool(row["court_case"])
                row["channels"] = _channels_decode(str(row["channels"]))
                out[str(r[0])] = row
        return out

    def get_many(self, ids: Sequence[str]) -> list[Customer]:
        out: list[Customer] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            out.extend(
                _row(r)
                for r in self.db.execute(
                    f"SELECT {_COLUMNS} FROM customers WHERE id IN ({marks})", chunk
                )
            )
        return out

    def page(self, after: str | None, limit: int, compound: str | None = None,
             unit: str | None = None) -> list[Customer]:
        """Customers by id after ``after``; ``unit``: only those whose orders' crews are of
        that unit, or of no unit at all (as ``server.authz.in_scope`` judges ``units_of``)."""
        sql = f"SELECT {_COLUMNS} FROM customers WHERE id > ?"
        params: list[object] = [after or ""]
        if compound is not None:
            sql += " AND compound = ?"
            params.append(compound)
        if unit is not None:
            orders = ("SELECT 1 FROM work_orders w JOIN crews cr ON cr.id = w.crew_id "
                      "WHERE w.customer_id = customers.id AND cr.unit")
            sql += f" AND (NOT EXISTS ({orders} != '') OR EXISTS ({orders} = ?))"
            params.append(unit)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        return [_row(r) for r in self.db.execute(sql, params)]

    def units_of(self, customer_id: str) -> frozenset[str]:
        """The units of the crews whose work orders concern the customer (its units for
        ``server.authz``; none known when no crew of a unit ever had its order)."""
        rows = self.db.execute(
            "SELECT DISTINCT cr.unit FROM work_orders w JOIN crews cr ON cr.id = w.crew_id "
            "WHERE w.customer_id = ? AND cr.unit != ''", [customer_id])
        return frozenset(str(r[0]) for r in rows)

    def crew_can_see(self, crew_id: str, customer_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM work_orders WHERE crew_id = ? AND customer_id = ? "
            "AND status NOT IN ('verified','cancelled') LIMIT 1",
            [crew_id, customer_id],
        ).fetchone()
        return row is not None
