"""Orders go from their columns to the pull's wire rows without a ``WorkOrder`` (issue 19).

The fast path must send exactly what the model would: for orders of every type, moved
along their state machines (deadlines met, steps done), with fields set and a time still
in an older stored form, ``wire_rows`` equals the Struct's own builtins.
"""

from __future__ import annotations

import msgspec
import pytest

from core.time import db_to_wire, from_db
from server.errors import IllegalTransitionError
from server.services import Services
from server.workorders.model import Actor, Status, TransitionIn, WorkOrderType
from server.workorders.store import WorkOrderStore
from tests.factories import order_in
from tests.integration.sync.world import DISPATCHER

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")


def test_wire_rows_are_the_orders_builtins(services: Services) -> None:
    ids = []
    for kind in WorkOrderType:
        wo = services.workorders.create(DISPATCH, order_in(kind, crew_id="crew-a"))
        ids.append(wo.id)
    for wo_id in ids[::2]:
        services.clock.advance(minutes=30)
        for to in (Status.EN_ROUTE, Status.IN_PROGRESS):  # the first one its type allows
            try:
                services.workorders.transition(DISPATCHER, wo_id, TransitionIn(to=to))
            except IllegalTransitionError:
                continue
            break
    # a row written before times were zero-padded UTC text still reads the same
    services.db.execute("UPDATE work_orders SET updated_at = ? WHERE id = ?",
                        ["2026-11-02T01:02:03.500000+00:00", ids[0]])
    store = WorkOrderStore(services.db)
    expected = {i: msgspec.to_builtins(store.get(i, None)) for i in ids}
    got = store.wire_rows([*ids, "no-such-order"])
    assert got == expected
    assert any(row["deadlines"] for row in got.values())


@pytest.mark.parametrize("text", [
    "2026-11-02T01:02:03.000000Z", "2026-11-02T01:02:03.120000Z", "2026-11-02T01:02:03.000123Z",
    "2026-11-02T01:02:03+00:00", "2026-11-02T09:02:03+08:00", "826-11-02T01:02:03Z"])
def test_a_stored_time_reaches_the_wire_as_msgspec_writes_it(text: str) -> None:
    assert db_to_wire(text) == msgspec.to_builtins(from_db(text))
