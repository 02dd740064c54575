"""Work-order pages encoded straight from stored rows (issue 19).

``GET /api/v1/workorders`` answers the JSON of ``WorkOrderPage``, but building a
``WorkOrder`` per row only to encode it again cost ~40 % of a request: six timestamps
parsed (``from_db``), three JSON columns decoded, Structs built, all re-encoded. Here a
row goes to JSON as it is stored: times as text (``core.time.wire_from_db``, the same
bytes msgspec writes for the parsed value), the JSON columns (location, fields, steps)
embedded as ``msgspec.Raw``, one C-level ``msgspec`` encode for the page. The shapes below
mirror ``WorkOrder`` and ``Deadline`` field for field; ``WorkOrderPage`` stays the
documented type (OpenAPI) and a test decodes these bytes with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import msgspec

from core.rows import integer, opt_integer, opt_text
from core.time import opt_wire_from_db, wire_from_db


class DeadlineRow(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    title: str
    clause: str
    starts_at: str
    due_at: str
    met_at: str | None
    overdue: bool
    provisional: bool
    met_server_at: str | None
    met_source: str | None


class WorkOrderRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    number: str
    type: str
    status: str
    priority: int
    title: str
    description: str
    crew_id: str | None
    customer_id: str | None
    location: msgspec.Raw
    pipe_diameter_mm: int | None
    profile: str
    reported_at: str
    created_at: str
    updated_at: str
    closed_at: str | None
    due_at: str | None
    status_reason: str | None
    version: int
    fields: msgspec.Raw
    steps: msgspec.Raw
    deadlines: list[DeadlineRow]


class WorkOrderRowPage(msgspec.Struct, frozen=True, kw_only=True):
    """What ``WorkOrderPage`` looks like on the wire, from raw rows."""

    items: list[WorkOrderRow]
    next_cursor: str | None = None
    next: str | None = None


_encode: Final = msgspec.json.Encoder().encode


def deadline_rows(rows: Sequence[tuple[object, ...]], titles: Mapping[str, str],
                  now_db: str) -> list[DeadlineRow]:
    """Deadlines as ``WorkOrderStore.deadlines`` judges them: overdue when met after its
    due time, or still open at ``now_db`` (stored form) past it."""
    out = []
    for rule, clause, starts, due, met, provisional, met_server, met_source in rows:
        due_s = str(due)
        overdue = str(met) > due_s if met is not None else now_db > due_s
        out.append(DeadlineRow(
            rule=str(rule), title=titles.get(str(rule), str(rule)), clause=str(clause),
            starts_at=wire_from_db(str(starts)), due_at=wire_from_db(due_s),
            met_at=opt_wire_from_db(None if met is None else str(met)),
            overdue=overdue, provisional=bool(provisional),
            met_server_at=opt_wire_from_db(None if met_server is None else str(met_server)),
            met_source=None if met_source is None else str(met_source)))
    return out


def order_row(r: Sequence[object], deadlines: list[DeadlineRow]) -> WorkOrderRow:
    """One stored row (``store._COLUMNS`` order) ready to encode."""
    return WorkOrderRow(
        id=str(r[0]), number=str(r[1]), type=str(r[2]), status=str(r[3]),
        priority=integer(r, 4),
        title=str(r[5]), description=str(r[6]),
        crew_id=opt_text(r, 7), customer_id=opt_text(r, 8),
        location=msgspec.Raw(str(r[9]).encode()),
        pipe_diameter_mm=opt_integer(r, 10),
        profile=str(r[11]), reported_at=wire_from_db(str(r[12])),
        created_at=wire_from_db(str(r[13])), updated_at=wire_from_db(str(r[14])),
        closed_at=opt_wire_from_db(opt_text(r, 15)),
        due_at=opt_wire_from_db(opt_text(r, 16)),
        status_reason=opt_text(r, 17),
        version=integer(r, 18),
        fields=msgspec.Raw(str(r[19]).encode()), steps=msgspec.Raw(str(r[20]).encode()),
        deadlines=deadlines)


def encode_page(page: WorkOrderRowPage) -> bytes:
    return _encode(page)
