"""Orders and customers go from their columns to the pull's wire rows (issue 19).

The fast path must send exactly what the model would, as a tablet decodes it: for orders
of every type, moved along their state machines (deadlines met, steps done), with a time
and steps still in older stored forms, ``wire_rows`` equals the Struct's own builtins, and
so do the bytes the pull encodes straight from the columns (``server.intents.wire``), in
JSON and in MessagePack.
"""

from __future__ import annotations

import msgspec
import pytest

from core.time import from_db, wire_from_db
from server.clock import SteppingClock
from server.customers.model import Customer
from server.customers.store import CustomerStore
from server.errors import IllegalTransitionError
from server.intents.readers import CrewScope
from server.intents.wire import StoredStep, encoded_customers
from server.services import Services
from server.workorders.evidence import Evidence, EvidenceStore
from server.workorders.model import Actor, Status, Step, TransitionIn, WorkOrderType
from server.workorders.store import WorkOrderStore
from sync.protocol import WireFormat
from tests.factories import order_in
from tests.integration.sync.world import DISPATCHER

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")


def as_received(value: object) -> object:
    """What a tablet decodes (a tuple and a list are the same array on the wire)."""
    return msgspec.json.decode(msgspec.json.encode(value))


def test_wire_rows_are_the_orders_builtins(services: Services, clock: SteppingClock) -> None:
    ids = []
    for kind in WorkOrderType:
        wo = services.workorders.create(DISPATCH, order_in(kind, crew_id="crew-a"))
        ids.append(wo.id)
    for wo_id in ids[::2]:
        clock.advance(minutes=30)
        for to in (Status.EN_ROUTE, Status.IN_PROGRESS):  # the first one its type allows
            try:
                services.workorders.transition(DISPATCHER, wo_id, TransitionIn(to=to))
            except IllegalTransitionError:
                continue
            break
    # a row written before times were zero-padded UTC text still reads the same
    services.db.execute("UPDATE work_orders SET updated_at = ? WHERE id = ?",
                        ["2026-11-02T01:02:03.500000+00:00", ids[0]])
    # and steps stored before ``done_server_at``/``done_source`` existed get their defaults
    with_steps = next(i for i in ids if services.db.execute(
        "SELECT steps FROM work_orders WHERE id = ?", [i]).fetchone()[0] != "[]")
    old_steps = [{k: v for k, v in step.items() if k not in ("done_server_at", "done_source")}
                 for step in msgspec.json.decode(services.db.execute(
                     "SELECT steps FROM work_orders WHERE id = ?", [with_steps]).fetchone()[0])]
    services.db.execute("UPDATE work_orders SET steps = ? WHERE id = ?",
                        [msgspec.json.encode(old_steps).decode(), with_steps])
    store = WorkOrderStore(services.db)
    expected = {i: as_received(store.get(i, None)) for i in ids}
    got = store.wire_rows([*ids, "no-such-order"])
    assert {i: as_received(row) for i, row in got.items()} == expected
    assert any(row["deadlines"] for row in got.values())
    # the pull's encoder, straight from the columns, sends the same rows in both formats
    scope = CrewScope(services.db, "crew-a", 500)
    pulled: dict[str, object] = {
        i: {**row, "evidence": []} for i, row in expected.items()  # type: ignore[dict-item]
    }
    assert {i: as_received(row) for i, row in scope.read("work_order", ids).items()} == pulled
    for fmt, decode in ((WireFormat.JSON, msgspec.json.decode),
                        (WireFormat.MSGPACK, msgspec.msgpack.decode)):
        sent = scope.encoded("work_order", [*ids, "no-such-order"], fmt)
        assert {i: decode(data) for i, data in sent.items()} == pulled, fmt
    assert "done_source" not in services.db.execute(
        "SELECT steps FROM work_orders WHERE id = ?", [with_steps]).fetchone()[0]


def test_the_pull_sends_an_orders_evidence_without_device_ids(services: Services,
                                                              clock: SteppingClock) -> None:
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a")).id
    store = EvidenceStore(services.db)
    for n, sha in enumerate(("ab" * 32, None)):
        store.add(Evidence(id=f"ev-{n}", work_order_id=wo, kind="photo" if sha else "note",
                           payload={"text": "阀门井积水", "n": n}, attachment_sha256=sha,
                           device_id="dev-secret", crew_id="crew-a", mutation_id=n + 1,
                           device_time=clock(), server_time=clock()))
    scope = CrewScope(services.db, "crew-a", 500)
    pulled = {i: as_received(row) for i, row in scope.read("work_order", [wo]).items()}
    evidence = pulled[wo]["evidence"]  # type: ignore[index]
    assert [e["attachment_pending"] for e in evidence] == [True, False]
    assert {e["device_id"] for e in evidence} == {None}
    for fmt, decode in ((WireFormat.JSON, msgspec.json.decode),
                        (WireFormat.MSGPACK, msgspec.msgpack.decode)):
        sent = scope.encoded("work_order", [wo], fmt)
        assert {i: decode(data) for i, data in sent.items()} == pulled, fmt


def test_the_pull_encodes_only_the_crews_orders(services: Services) -> None:
    mine = services.workorders.create(DISPATCH, order_in(crew_id="crew-a")).id
    theirs = services.workorders.create(DISPATCH, order_in(crew_id="crew-b")).id
    for fmt in WireFormat:
        assert set(CrewScope(services.db, "crew-a", 500).encoded(
            "work_order", [mine, theirs], fmt)) == {mine}


def test_a_stored_step_has_the_steps_fields_names_and_defaults() -> None:
    """``StoredStep`` is ``Step`` with its times as text: a field added to ``Step`` and not
    to it would be dropped from every order a tablet pulls."""
    def shape(struct: type[msgspec.Struct]) -> list[tuple[str, object, object]]:
        return [(f.encode_name, f.default,
                 None if f.default_factory is msgspec.NODEFAULT else f.default_factory())
                for f in msgspec.structs.fields(struct)]

    assert shape(StoredStep) == shape(Step)
    # its times stay the stored text: never parsed, so never re-written differently
    text = '[{"key":"a","title":"t","done_at":"2026-11-02T01:02:03.5Z"}]'
    step = msgspec.json.decode(text, type=list[StoredStep])[0]
    assert (step.done_at, step.requires, step.required, step.done_source) == (
        "2026-11-02T01:02:03.5Z", [], True, None)


def test_customer_wire_rows_are_the_customers_builtins(services: Services) -> None:
    store = CustomerStore(services.db)
    ids = [r[0] for r in services.db.execute("SELECT id FROM customers ORDER BY id LIMIT 20")]
    services.db.execute("UPDATE customers SET property_dispute = 1, channels = ? WHERE id = ?",
                        ['["sms"]', ids[0]])
    expected = {c.id: as_received(c) for c in store.get_many(ids)}
    assert {i: as_received(r) for i, r in store.wire_rows([*ids, "nobody"]).items()} == expected
    for fmt, decode in ((WireFormat.JSON, msgspec.json.decode),
                        (WireFormat.MSGPACK, msgspec.msgpack.decode)):
        sent = encoded_customers(services.db, [*ids, "nobody"], fmt)
        assert {i: decode(data) for i, data in sent.items()} == expected, fmt
    assert expected[ids[0]]["property_dispute"] is True  # type: ignore[index]


@pytest.mark.parametrize("text", [
    "2026-11-02T01:02:03.000000Z", "2026-11-02T01:02:03.120000Z", "2026-11-02T01:02:03.000123Z",
    "2026-11-02T01:02:03+00:00", "2026-11-02T09:02:03+08:00", "826-11-02T01:02:03Z"])
def test_a_stored_time_reaches_the_wire_as_msgspec_writes_it(text: str) -> None:
    assert wire_from_db(text) == msgspec.to_builtins(from_db(text))


def test_a_snapshot_reads_the_crews_rows_set_wise_as_the_pull_reads_them_by_id(
        services: Services, clock: SteppingClock) -> None:
    """``encoded_all`` (a snapshot: by the crew, in a few statements) sends what ``encoded``
    (a pull: by id) sends, only for the ids asked, never another crew's order nor the
    customer of an order closed for good."""
    people = [f"snap-c{n}" for n in range(len(WorkOrderType) + 1)]
    services.customers.import_customers(
        Customer(id=c, account_no=f"88{n:06d}", name=f"客户{n}", address=f"经十路{n}号",
                 lon=117.0, lat=36.65) for n, c in enumerate(people))
    mine = [services.workorders.create(DISPATCH, order_in(
        kind, crew_id="crew-a", customer_id=people[n])).id
        for n, kind in enumerate(WorkOrderType)]
    theirs = services.workorders.create(DISPATCH, order_in(
        crew_id="crew-b", customer_id=people[-1])).id
    EvidenceStore(services.db).add(Evidence(
        id="ev-snap", work_order_id=mine[0], kind="photo", payload={"text": "井盖"},
        attachment_sha256="cd" * 32, device_id="dev-secret", crew_id="crew-a", mutation_id=1,
        device_time=clock(), server_time=clock()))
    services.workorders.transition(DISPATCHER, mine[1], TransitionIn(
        to=Status.CANCELLED, reason="duplicate report"))
    scope = CrewScope(services.db, "crew-a", 500)
    asked = [*mine[1:], theirs, "no-such-order"]  # the log need not name every order
    for fmt in WireFormat:
        by_id = scope.encoded("work_order", asked, fmt)
        assert scope.encoded_all("work_order", asked, fmt) == by_id
        assert set(by_id) == set(mine[1:])
        sent = scope.encoded_all("work_order", mine, fmt)
        assert set(sent) == set(mine)
        assert sent[mine[0]] == scope.encoded("work_order", [mine[0]], fmt)[mine[0]]
        shown = scope.encoded_all("customer", people, fmt)
        assert shown == encoded_customers(
            services.db, scope.scope_store.customers_of_crew(people, "crew-a"), fmt)
        # the cancelled order's customer and crew-b's are not the crew's to see
        assert set(shown) == {people[n] for n in range(len(mine)) if n != 1}
    evidence = msgspec.json.decode(
        scope.encoded_all("work_order", [mine[0]], WireFormat.JSON)[mine[0]])["evidence"]
    assert [(e["id"], e["device_id"], e["attachment_pending"]) for e in evidence] == [
        ("ev-snap", None, True)]
