"""Work orders and customers encoded for a pull straight from their columns (issue 19).

A snapshot of a big crew scope spent most of its time building a mapping per order
(``WorkOrderStore.wire_rows``): decoding each order's steps, fields and location JSON into
dicts and lists, 500 orders at a time, only to encode them again. Those tens of thousands
of live containers also made the garbage collector traverse the heap again and again.
Here each row is encoded the moment its columns are read and nothing of it stays alive:

- In JSON the stored JSON columns ``location`` and ``fields`` go into the row as they are
  (``msgspec.Raw``): they were written by msgspec from the same Structs, so they already
  are the wire's JSON. MessagePack cannot embed JSON, so there they are decoded, one row
  at a time.
- Steps, in both formats, are decoded into ``StoredStep``: ``Step`` with its times kept
  as the stored text. Steps stored before a ``Step`` field existed get its default from
  the Struct itself, and a typed decode costs less than the field-name count that used to
  tell complete lists apart (issue 19: the largest share of an order's encoding).

A pull reads its rows by id (``encoded_orders``, ``encoded_customers``); a snapshot reads
the crew's rows set-wise, by the crew, and keeps those its log names
(``encoded_crew_orders``, ``encoded_crew_customers``); both encode through the same row
functions. The rows decode to exactly what ``WorkOrderStore.wire_rows`` and
``CustomerStore.wire_rows`` give (a test holds them equal, in both formats, and the two
reads equal to each other).
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from typing import Final

import msgspec
from sqlite_utils import Database

from core.time import from_db, wire_from_db
from server.intents.store import OrderColumns, ScopeStore
from server.workorders.evidence import Evidence, EvidenceStore
from sync.protocol import WireFormat, page_encoder
from sync.store import SyncStore

_json_decode = msgspec.json.Decoder().decode


class StoredStep(msgspec.Struct, kw_only=True, gc=False):
    """A ``Step`` as its stored JSON holds it, for the wire: the same fields, names and
    defaults (a test holds them equal), its times the stored text, never parsed (msgspec
    wrote them from ``Step``'s datetimes, so they already are the wire's text)."""

    key: str
    title: str
    requires: list[str] = msgspec.field(default_factory=list)
    required: bool = True
    done_at: str | None = None
    evidence: list[str] = msgspec.field(default_factory=list)
    done_server_at: str | None = None
    done_source: str | None = None


_steps_decode: Final = msgspec.json.Decoder(list[StoredStep]).decode


def _opt_wire(text: object) -> str | None:
    return None if text is None else wire_from_db(str(text))


def _deadline(d: OrderColumns) -> dict[str, object]:
    # as ``WorkOrderStore.wire_rows``: no "now", overdue only when met after it was due;
    # the title is the rule's (the scope reads orders without the profile's titles)
    met, due = d[5], str(d[4])
    return {"rule": d[1], "title": d[1], "clause": d[2],
            "starts_at": wire_from_db(str(d[3])), "due_at": wire_from_db(due),
            "met_at": _opt_wire(met),
            "overdue": met is not None and from_db(str(met)) > from_db(due),
            "provisional": bool(d[6]), "met_server_at": _opt_wire(d[7]),
            "met_source": d[8]}


def _encode_orders(rows: Sequence[OrderColumns], deadlines: Mapping[str, Sequence[OrderColumns]],
                   evidence: Mapping[str, Sequence[Evidence]], fmt: WireFormat,
                   out: dict[str, bytes], among: Container[str] | None = None) -> None:
    """Encode each of ``rows`` (``ORDER_COLUMNS``) in ``fmt`` into ``out`` by id, with its
    deadlines and its evidence without device ids; ``among`` keeps only those ids."""
    encode = page_encoder(fmt)
    raw = fmt == WireFormat.JSON
    for r in rows:
        wo_id = str(r[0])
        if among is not None and wo_id not in among:
            continue
        location, fields, steps = str(r[9]), str(r[19]), str(r[20])
        found = evidence.get(wo_id)
        out[wo_id] = encode({
            "id": r[0], "number": r[1], "type": r[2], "status": r[3],
            "priority": r[4], "title": r[5], "description": r[6], "crew_id": r[7],
            "customer_id": r[8],
            "location": msgspec.Raw(location) if raw else _json_decode(location),
            "pipe_diameter_mm": r[10], "profile": r[11],
            "reported_at": wire_from_db(str(r[12])),
            "created_at": wire_from_db(str(r[13])),
            "updated_at": wire_from_db(str(r[14])),
            "closed_at": _opt_wire(r[15]), "due_at": _opt_wire(r[16]),
            "status_reason": r[17], "version": r[18],
            "fields": msgspec.Raw(fields) if raw else _json_decode(fields),
            "steps": _steps_decode(steps),
            "deadlines": [_deadline(d) for d in deadlines.get(wo_id, ())],
            # tablets never learn device ids (they identify devices to revoke)
            "evidence": [] if not found else [
                {**e, "device_id": None} for e in msgspec.to_builtins(found)],
        })


def encoded_orders(db: Database, ids: Sequence[str], crew_id: str, fmt: WireFormat
                   ) -> dict[str, bytes]:
    """The crew's orders among ``ids``, each encoded in ``fmt`` as the pull sends it (the
    order, its deadlines and its evidence without device ids), by id. Linear; a few
    statements per 500 ids."""
    evidence = EvidenceStore(db)
    sync = SyncStore(db)
    out: dict[str, bytes] = {}
    for rows, deadlines in ScopeStore(db).order_chunks(ids, crew_id):
        held = [str(r[0]) for r in rows]
        complete = sync.complete_hashes(evidence.hashes_of_orders(held))
        _encode_orders(rows, deadlines, evidence.for_orders(held, complete=complete), fmt, out)
    return out


def encoded_crew_orders(db: Database, crew_id: str, among: Container[str], fmt: WireFormat
                        ) -> dict[str, bytes]:
    """``encoded_orders`` for a snapshot: every order the crew holds that is ``among``
    the ids its log names, read set-wise (``ScopeStore.crew_order_chunks``): a fixed
    number of statements, whatever the crew's size."""
    by_order = EvidenceStore(db).for_crew_orders(
        crew_id, complete_of=SyncStore(db).complete_hashes)
    out: dict[str, bytes] = {}
    for rows, deadlines in ScopeStore(db).crew_order_chunks(crew_id):
        _encode_orders(rows, deadlines, by_order, fmt, out, among)
    return out


def _encode_customers(rows: Sequence[OrderColumns], fmt: WireFormat, out: dict[str, bytes],
                      among: Container[str] | None = None) -> None:
    encode = page_encoder(fmt)
    raw = fmt == WireFormat.JSON
    for r in rows:
        if among is not None and str(r[0]) not in among:
            continue
        channels = str(r[16])
        out[str(r[0])] = encode({
            "id": r[0], "account_no": r[1], "name": r[2], "phone": r[3],
            "wechat_openid": r[4], "address": r[5], "compound": r[6], "street": r[7],
            "lon": r[8], "lat": r[9], "category": r[10], "meter_no": r[11],
            "meter_diameter_mm": r[12], "meter_location": r[13],
            "property_dispute": bool(r[14]), "court_case": bool(r[15]),
            "channels": msgspec.Raw(channels) if raw else _json_decode(channels)})


def encoded_customers(db: Database, ids: Sequence[str], fmt: WireFormat) -> dict[str, bytes]:
    """Customers of ``ids`` (visibility already decided), each encoded in ``fmt`` as
    ``Customer``, by id; ``channels`` passes through as stored JSON in JSON."""
    out: dict[str, bytes] = {}
    for rows in ScopeStore(db).customer_chunks(ids):
        _encode_customers(rows, fmt, out)
    return out


def encoded_crew_customers(db: Database, crew_id: str, among: Container[str],
                           fmt: WireFormat) -> dict[str, bytes]:
    """``encoded_customers`` for a snapshot: the customers the crew may see
    (``ScopeStore.customers_of_crew``'s rule) that are ``among`` the ids its log names,
    visibility and content in one statement."""
    out: dict[str, bytes] = {}
    for rows in ScopeStore(db).crew_customer_chunks(crew_id):
        _encode_customers(rows, fmt, out, among)
    return out
