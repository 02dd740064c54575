"""A crew's tablet receives the pipe network around its work orders through the pull."""

from __future__ import annotations

from collections import Counter

import pytest
from litestar.testing import TestClient

from geo.model import IsolationRequest
from server.services import Services
from server.workorders.model import Actor, WorkOrderType
from tests.factories import TOKENS, bearer, order_in

pytestmark = pytest.mark.integration


def test_first_sync_brings_pipes_valves_and_nodes_near_the_crews_orders(
        client: TestClient) -> None:  # type: ignore[type-arg]
    entities: Counter[str] = Counter()
    cursor = None
    for _ in range(50):
        page = client.post("/api/v1/sync/pull", json={"cursor": cursor},
                           headers=bearer(TOKENS["crew_a"])).json()
        entities.update(row["entity"] for row in page["upserts"])
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert entities["work_order"] > 0 and entities["customer"] > 0
    assert entities["pipe"] > 0 and entities["valve"] > 0 and entities["node"] > 0
    # the network is limited to the radius around the crew's orders, not the whole city
    assert entities["pipe"] <= 50


def test_a_burst_orders_isolation_plan_reaches_the_crew_with_its_plan_b(
        client: TestClient, services: Services) -> None:  # type: ignore[type-arg]
    dispatcher = Actor(user_id="disp-wang", role="dispatcher")
    wo = services.workorders.create(dispatcher, order_in(WorkOrderType.BURST_REPAIR))
    plan = services.network.isolate(IsolationRequest(pipe_ids=["P-R2-1"]))
    crew = services.accounts.authenticate(TOKENS["crew_a"])
    assert crew is not None
    services.fieldwork.bursts.attach_plan(crew, wo.id, plan)
    plans: dict[str, dict[str, object]] = {}
    cursor = None
    for _ in range(50):
        page = client.post("/api/v1/sync/pull", json={"cursor": cursor},
                           headers=bearer(TOKENS["crew_a"])).json()
        plans |= {r["id"]: r["data"] for r in page["upserts"] if r["entity"] == "isolation_plan"}
        cursor = page["cursor"]
        if not page["more"]:
            break
    synced = plans[wo.id]["plan"]
    assert synced["id"] == plan.id  # type: ignore[index]
    valves = synced["valves_to_close"]  # type: ignore[index]
    assert valves and all("fallback" in v for v in valves)
    other = client.post("/api/v1/sync/pull", json={"cursor": None},
                        headers=bearer(TOKENS["crew_b"])).json()
    assert all(r["entity"] != "isolation_plan" for r in other["upserts"])
