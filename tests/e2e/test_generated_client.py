"""A client generated from the served OpenAPI document works against the real service.

openapi-python-client (offline: it reads the document from a file) writes a package into
a temp dir; the test imports it and drives the service only through its typed functions
and models: create a work order, move it, page through the list by its cursor, and read a
problem's ``type``. Issue 15: the generator used to drop WorkOrder, WorkOrderIn and
Ticket and skip ``POST /workorders``.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.e2e.servers import serving
from tests.factories import TOKENS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PACKAGE = "waterops_generated_client"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("client-server")
    with serving(["--demo", "--data-dir", str(data_dir)]) as (_proc, url):
        yield url


@pytest.fixture(scope="module")
def generated(served: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("client")
    spec = out / "openapi.json"
    spec.write_bytes(httpx.get(f"{served}/schema/openapi.json", timeout=60).content)
    tool = Path(sys.executable).with_name("openapi-python-client")
    env = {**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(tool), "generate", "--path", str(spec), "--output-path", str(out / PACKAGE),
         "--meta", "none"], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # every schema and endpoint made it into the client
    assert "Unable to process schema" not in done.stdout, done.stdout
    assert "will not be generated" not in done.stdout, done.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_work_order_through_the_generated_client(generated: ModuleType, served: str) -> None:
    models = _module("models")
    create = _module("api.work_orders.create_work_order")
    move = _module("api.work_orders.transition")
    listing = _module("api.work_orders.list_orders")
    with generated.AuthenticatedClient(base_url=served, token=TOKENS["dispatcher"]) as boss, \
            generated.AuthenticatedClient(base_url=served, token=TOKENS["crew_b"]) as crew:
        _drive(models, create, move, listing, boss, crew)


def _drive(models: ModuleType, create: ModuleType, move: ModuleType, listing: ModuleType,
           dispatcher: object, crew: object) -> None:

    created = []
    for n in range(3):
        order = create.sync(client=dispatcher, body=models.WorkOrderIn(
            type_=models.WorkOrderType.LINE_MARKING, crew_id="crew-b",
            title=f"generated client {n}",
            location=models.ServerWorkordersModelPoint(coordinates=[117.0, 36.65],
                                                       type_="Point")))
        assert isinstance(order, models.WorkOrder), order
        assert order.status == models.Status.ASSIGNED
        created.append(order)

    moved = move.sync(created[0].id, client=crew, body=models.TransitionIn(
        to=models.Status.EN_ROUTE, expected_version=created[0].version))
    assert isinstance(moved, models.WorkOrder), moved
    assert moved.status == models.Status.EN_ROUTE
    assert moved.version == created[0].version + 1

    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        page = listing.sync(client=dispatcher, limit=2, cursor=cursor)
        assert isinstance(page, models.WorkOrderPage), page
        pages += 1
        seen += [wo.id for wo in page.items]
        if not isinstance(page.next_cursor, str):
            break
        cursor = page.next_cursor
    assert pages >= 2
    assert len(seen) == len(set(seen))
    assert {wo.id for wo in created} <= set(seen)

    refused = move.sync(created[1].id, client=crew,
                        body=models.TransitionIn(to=models.Status.COMPLETED))
    assert isinstance(refused, models.Problem), refused
    assert refused.type_.rsplit("/", 1)[-1] == "illegal-transition"
    assert refused.status == 409
