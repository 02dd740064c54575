"""A scope read of many ids selects the same rows on both stores (issue 19).

The snapshot reads a crew's rows 500 ids at a time; on PostgreSQL the ids go as one array
parameter (``core.idlists``), on SQLite as an ``IN`` list. Ids are any text a register
import carries, so ids with the characters an array literal gives meaning to (commas,
quotes, braces, backslashes, blanks) must be found like any other, and an id that is not
there is not found.
"""

from __future__ import annotations

import msgspec
import pytest

from server.customers.model import Customer
from server.intents.readers import CrewScope
from server.intents.store import ScopeStore
from server.services import Services
from server.workorders.evidence import EvidenceStore
from server.workorders.model import Actor
from sync.protocol import WireFormat
from sync.store import SyncStore
from tests.factories import order_in

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")
AWKWARD = ('a,b', 'say "hi"', "{x}", "back\\slash", " lead", "NULL", "客户'1", "")


def test_scope_reads_of_many_ids_find_each_awkward_id_once(services: Services) -> None:
    ids = [f"ids-{i:04d}" for i in range(520)] + [f"ids-{a}" for a in AWKWARD]
    services.customers.import_customers(
        Customer(id=c, account_no=f"9{i:09d}", name=c, address="经十路", lon=117.0,
                 lat=36.65) for i, c in enumerate(ids))
    orders = {services.workorders.create(DISPATCH, order_in(crew_id="crew-a",
                                                            customer_id=c)).id: c
              for c in ids[510:]}  # across the second batch of 500, awkward ids included
    asked = [*ids, "ids-absent", "ids-a"]
    store = ScopeStore(services.db)
    assert sorted(store.customers_of_crew(asked, "crew-a")) == sorted(orders.values())
    scope = CrewScope(services.db, "crew-a", 500)
    for fmt, decode in ((WireFormat.JSON, msgspec.json.decode),
                        (WireFormat.MSGPACK, msgspec.msgpack.decode)):
        sent = scope.encoded("customer", asked, fmt)
        assert sorted(sent) == sorted(orders.values()), fmt
        assert {decode(b)["id"] for b in sent.values()} == set(orders.values())
        wanted = [*orders, "wo-absent"]
        assert sorted(scope.encoded("work_order", wanted, fmt)) == sorted(orders), fmt
    assert sorted(store.orders_of_crew([*orders, "wo-absent"], "crew-a")) == sorted(orders)
    assert len(store.anchors([*orders, "wo-absent"])) == len(orders)


def test_evidence_and_upload_reads_of_many_ids(services: Services) -> None:
    order = services.workorders.create(DISPATCH, order_in(crew_id="crew-a")).id
    many = [f"wo-{i:04d}" for i in range(600)] + [order]
    evidence = EvidenceStore(services.db)
    assert evidence.for_orders(many) == {}
    assert evidence.hashes_of_orders(many) == []
    assert SyncStore(services.db).complete_hashes([f"{i:064x}" for i in range(700)]) == set()
