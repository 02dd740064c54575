"""The demo walk-through (``waterops demo-walk``) against a real app with a pipe network:
the stuck valve switches to geo's plan B and the burst ends verified."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.fieldwork.walkthrough import walk_burst
from tests.factories import TOKENS, bearer
from tests.unit.geo.geo_networks import build, to_layers

pytestmark = pytest.mark.integration


def test_demo_walk_plays_a_burst_with_plan_b_end_to_end(
        client: TestClient[Litestar], clock: SteppingClock, tmp_path: Path) -> None:
    net = build({"S": (0, 0), "A": (1, 0), "B": (2, 0), "C": (3, 0), "D": (1, 1)},
                [("p1", "S", "A"), ("p2", "A", "B"), ("p3", "B", "C"), ("p4", "A", "D")],
                [("v0", "p1", "S"), ("v4", "p4", "A"), ("v1", "p2", "A"), ("v2", "p2", "B")],
                sources=["S"], customers_per_pipe=2)
    r = client.post("/api/v1/network/import/geojson", json={"layers": to_layers(net)},
                    headers=bearer(TOKENS["dispatcher"]))
    assert r.status_code == 201, r.text
    said: list[tuple[str, str]] = []
    result = walk_burst(client, clock, lambda step, detail: said.append((step, detail)),
                        workdir=tmp_path)
    assert result.status == "verified"
    assert result.rejected == []
    assert result.plan_id is not None
    assert result.plan_revision == 2
    assert result.extra_customers > 0
    assert any("inoperable" in d and "plan B" in d for _s, d in said)
    assert ("supervisor", "evidence complete") in said


def test_demo_walk_passes_again_and_again_on_one_server(
        client: TestClient[Litestar], clock: SteppingClock, tmp_path: Path) -> None:
    """Each walk is a fresh tablet under the demo token: the second one is told (409) and
    registers again, instead of being answered "applied" from the first one's ledger."""
    said: list[tuple[str, str]] = []
    for run in range(3):
        said.clear()
        result = walk_burst(client, clock, lambda step, detail: said.append((step, detail)),
                            workdir=tmp_path)
        assert result.status == "verified", said
        assert result.rejected == []
        assert ("supervisor", "evidence complete") in said
        reinstalled = any("reinstalled app detected" in d for _s, d in said)
        assert reinstalled == (run > 0)
