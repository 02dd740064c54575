"""Plain factory functions for test data (no mocks of our own code)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from server.clock import SteppingClock
from server.demo import seed_demo
from server.services import Services
from server.settings import Settings
from server.workorders.model import Point, WorkOrderIn, WorkOrderType

#: Monday 2026-11-23 09:00 in Shanghai: a plain working day
MONDAY_0900_LOCAL: Final = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def make_clock(start: datetime = MONDAY_0900_LOCAL) -> SteppingClock:
    return SteppingClock(start)


def make_settings(data_dir: str, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]


def make_services(data_dir: str, clock: SteppingClock, *, demo: bool = True,
                  **overrides: object) -> Services:
    svc = Services(make_settings(data_dir, **overrides), clock)
    if demo:
        seed_demo(svc, customers=60)
    return svc


def order_in(kind: WorkOrderType = WorkOrderType.BURST_REPAIR, *, crew_id: str | None = "crew-a",
             customer_id: str | None = None, diameter: int | None = 300,
             lon: float = 117.001, lat: float = 36.651) -> WorkOrderIn:
    return WorkOrderIn(type=kind, location=Point((lon, lat)), crew_id=crew_id,
                       customer_id=customer_id, pipe_diameter_mm=diameter, title="test order")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


TOKENS: Final = {
    "admin": "wo_demo_admin",
    "supervisor": "wo_demo_supervisor",
    "dispatcher": "wo_demo_dispatcher",
    "crew_a": "wo_demo_crew_a",
    "crew_b": "wo_demo_crew_b",
    "reader": "wo_demo_reader",
}
