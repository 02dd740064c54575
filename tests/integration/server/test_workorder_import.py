"""Importing work orders (``WorkOrderService.create_many``, ``POST /workorders/import``,
``waterops workorders import``): what N creates give, all or nothing, dispatch only.

Runs on the store the suite runs on (SQLite, or PostgreSQL with
``WATEROPS_TEST_DATABASE_URL``); everything is compared through the public API.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.accounts.model import Role
from server.app import create_app
from server.clock import SteppingClock
from server.errors import ForbiddenError, NotFoundError, RuleViolationError
from server.services import Services
from server.workorders.model import Actor, LineString, Point, WorkOrderIn, WorkOrderType
from server.workorders.store import Filters
from tests.factories import TOKENS, assert_problem, bearer, cli_env, make_clock, make_services

pytestmark = pytest.mark.integration

DISPATCHER = Actor(user_id="disp-wang", role="dispatcher")
API = "/api/v1"


def _orders(clock: SteppingClock) -> list[WorkOrderIn]:
    """Orders of every kind of difference create makes: crews or none, customers, types,
    a large pipe, a third party's damage (an extra clock), a line, an old report."""
    now = clock()
    out = [WorkOrderIn(type=t, location=Point((117.0 + i / 1000, 36.65)),
                       crew_id=("crew-a", "crew-b", None)[i % 3],
                       customer_id=f"cust-{i + 1:05d}" if i % 2 else None,
                       pipe_diameter_mm=(100, 600, None)[i % 3], priority=1 + i % 5,
                       title=f"import {i}", reported_at=now - timedelta(hours=i))
           for i, t in enumerate(WorkOrderType)]
    out.append(WorkOrderIn(type=WorkOrderType.BURST_REPAIR, crew_id="crew-a",
                           location=LineString([(117.0, 36.6), (117.01, 36.61)]),
                           fields={"third_party_damage": True}, pipe_diameter_mm=300))
    return out


def _observed(svc: Services, client: TestClient[Litestar], ids: list[str]
              ) -> dict[str, Any]:
    """What the API shows of ``ids`` (ids replaced by their position): the orders, their
    audit trails, and what each crew's tablet pulls of them and of customers."""
    position = {wo_id: str(i) for i, wo_id in enumerate(ids)}
    office = bearer(TOKENS["dispatcher"])
    orders, trails = [], []
    for wo_id in ids:
        body = client.get(f"{API}/workorders/{wo_id}", headers=office).json()
        body.pop("id")
        orders.append(body)
        trail = client.get(f"{API}/workorders/{wo_id}/history", headers=office).json()["items"]
        trails.append([{k: v for k, v in e.items() if k not in ("id", "entity_id")}
                       for e in trail])
    pulled: dict[str, set[tuple[str, str]]] = {}
    for crew in ("crew_a", "crew_b"):
        cursor, seen = None, set()
        for _ in range(100):
            page = client.post(f"{API}/sync/pull", json={"cursor": cursor, "limit": 200},
                               headers=bearer(TOKENS[crew])).json()
            # our orders (the demo's own have random ids) and the customers
            seen |= {(r["entity"], position.get(r["id"], r["id"])) for r in page["upserts"]
                     if r["id"] in position or r["entity"] == "customer"}
            cursor = page["cursor"]
            if not page["more"]:
                break
        pulled[crew] = seen
    version = svc.workorders.store.list_version()
    return {"orders": orders, "trails": trails, "pulled": pulled, "versioned": version}


@pytest.fixture
def twin(tmp_path: Path) -> Any:
    """A second demo store at the same instant as the ``services`` fixture's."""
    clock = make_clock()
    svc = make_services(str(tmp_path / "twin"), clock)
    with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
        yield svc, client, clock
    svc.close()


def test_an_import_gives_what_as_many_creates_give(
        services: Services, client: TestClient[Litestar], clock: SteppingClock,
        twin: Any) -> None:
    twin_svc, twin_client, twin_clock = twin
    clock.advance(hours=30)
    twin_clock.advance(hours=30)
    orders = _orders(clock)
    assert orders == _orders(twin_clock)
    before = services.workorders.store.list_version()
    one_by_one = [services.workorders.create(DISPATCHER, o).id for o in orders]
    imported = twin_svc.workorders.create_many(DISPATCHER, orders)
    assert imported.created == len(orders) == len(imported.ids)
    assert imported.numbers == [services.workorders.get_unchecked(i).number for i in one_by_one]
    created = _observed(services, client, one_by_one)
    batch = _observed(twin_svc, twin_client, imported.ids)
    assert batch["orders"] == created["orders"]
    assert batch["trails"] == created["trails"]
    assert batch["pulled"] == created["pulled"]
    # every assigned order reached its crew, the unassigned none
    assert {p for e, p in batch["pulled"]["crew_a"] if e == "work_order"} == {
        str(i) for i, o in enumerate(orders) if o.crew_id == "crew-a"}
    assert any(d["rule"] == "third_party_damage_arrival"
               for d in batch["orders"][-1]["deadlines"])
    assert before is not None
    assert batch["versioned"] > before
    # the next order's number follows the import's, as it follows the creates'
    later = WorkOrderIn(type=WorkOrderType.COMPLAINT, location=Point((117.0, 36.65)))
    assert (twin_svc.workorders.create(DISPATCHER, later).number
            == services.workorders.create(DISPATCHER, later).number)


def test_an_import_refreshes_a_list_page_already_served(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    office = bearer(TOKENS["dispatcher"])
    first = client.get(f"{API}/workorders?limit=50", headers=office)
    assert first.status_code == 200
    r = client.post(f"{API}/workorders/import", headers=office,
                    json={"orders": msgspec.to_builtins(_orders(clock))})
    assert r.status_code == 201, r.text
    ids = set(r.json()["ids"])
    again = client.get(f"{API}/workorders?limit=50", headers=office).json()["items"]
    assert ids <= {o["id"] for o in again}


def _count(services: Services) -> int:
    page = services.workorders.store.list(Filters(limit=500), services.clock())[0]
    return len(page)


@pytest.mark.parametrize(("bad", "error", "field"), [
    ({"crew_id": "crew-nobody"}, NotFoundError, "crew_id"),
    ({"customer_id": "cust-none"}, NotFoundError, "customer_id"),
    ({"priority": 9}, None, "priority"),
    ("future", RuleViolationError, "reported_at"),
])
def test_one_bad_order_writes_nothing_and_is_named(
        services: Services, clock: SteppingClock, bad: Any, error: Any, field: str) -> None:
    orders = _orders(clock)
    change: dict[str, Any] = (
        {"reported_at": clock() + timedelta(minutes=5)} if bad == "future" else bad)
    orders[3] = msgspec.structs.replace(orders[3], **change)
    count, version = _count(services), services.workorders.store.list_version()
    with pytest.raises(error or Exception) as caught:
        services.workorders.create_many(DISPATCHER, orders)
    exc: Any = caught.value
    assert exc.extra["index"] == 3
    assert "order 3" in str(exc)
    assert field in str(exc.extra)
    assert _count(services) == count
    assert services.workorders.store.list_version() == version


def test_http_bad_input_is_a_problem_naming_the_index_and_nothing_is_written(
        services: Services, client: TestClient[Litestar], clock: SteppingClock) -> None:
    office = bearer(TOKENS["dispatcher"])
    good: list[dict[str, Any]] = msgspec.to_builtins(_orders(clock))
    count = _count(services)
    unknown = [*good[:2], {**good[2], "crew_id": "crew-nobody"}, *good[3:]]
    body = assert_problem(client.post(f"{API}/workorders/import", headers=office,
                                      json={"orders": unknown}), 404, "not-found")
    assert body["index"] == 2
    assert body["crew_id"] == "crew-nobody"
    malformed = [*good[:1], {**good[1], "priority": "urgent"}, *good[2:]]
    body = assert_problem(client.post(f"{API}/workorders/import", headers=office,
                                      json={"orders": malformed}), 400, "validation-failed")
    assert "orders[1].priority" in json.dumps(body)
    late = [*good[:4], {**good[4], "reported_at": "2026-12-31T00:00:00Z"}]
    body = assert_problem(client.post(f"{API}/workorders/import", headers=office,
                                      json={"orders": late}), 422, "rule-violation")
    assert body["index"] == 4
    assert _count(services) == count


@pytest.mark.parametrize("role", [Role.CREW_MEMBER, Role.METER_READER, Role.SUPERVISOR])
def test_only_dispatch_imports(services: Services, clock: SteppingClock, role: Role) -> None:
    count = _count(services)
    with pytest.raises(ForbiddenError):
        services.workorders.create_many(
            Actor(user_id="someone", role=str(role), crew_id="crew-a"), _orders(clock))
    assert _count(services) == count


def test_http_refuses_a_crew(services: Services, client: TestClient[Litestar],
                             clock: SteppingClock) -> None:
    count = _count(services)
    body = {"orders": msgspec.to_builtins(_orders(clock))}
    for who in ("crew_a", "reader", "supervisor"):
        assert_problem(client.post(f"{API}/workorders/import", headers=bearer(TOKENS[who]),
                                   json=body), 403, "forbidden")
    assert_problem(client.post(f"{API}/workorders/import", json=body), 401, "unauthenticated")
    assert _count(services) == count


def _cli(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "workorders", "import", *args,
         "--data-dir", services.settings.data_dir],
        capture_output=True, text=True, env={**cli_env(services), "PATH": ""}, check=False,
        timeout=120)


def test_cli_imports_json_lines_or_an_array_all_or_none(
        services: Services, tmp_path: Path) -> None:
    # the CLI runs on the wall clock: orders reported "now" by default
    lines = [msgspec.json.encode(o).decode() for o in
             [WorkOrderIn(type=WorkOrderType.COMPLAINT, location=Point((117.0, 36.65)),
                          crew_id="crew-b", title=f"old system {i}") for i in range(3)]]
    count = _count(services)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], "", lines[1].replace('"crew-b"', '"crew-x"')]) + "\n")
    done = _cli(services, str(bad), "--json")
    assert done.returncode != 0
    assert "line 3" in done.stderr, done.stderr
    assert "crew-x" in done.stderr
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text(lines[0] + "\n" + lines[1][:-5] + "\n")
    done = _cli(services, str(garbled))
    assert done.returncode != 0
    assert "line 2" in done.stderr, done.stderr
    assert _count(services) == count
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(lines) + "\n")
    done = _cli(services, str(good), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == 3
    array = tmp_path / "orders.json"
    array.write_text("[" + ",".join(lines) + "]")
    done = _cli(services, str(array))
    assert done.returncode == 0, done.stderr
    assert "3 work orders created" in done.stdout
    assert _count(services) == count + 6
