"""A crew's tablet receives the pipe network around its work orders through the pull."""

from __future__ import annotations

from collections import Counter

import pytest
from litestar.testing import TestClient

from tests.factories import TOKENS, bearer

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
