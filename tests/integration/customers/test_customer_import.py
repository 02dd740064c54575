"""Customer register imports (CSV file, HTTP) reach the tablets through the unit of work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import TestClient

from server.cli import main
from server.customers.csvfile import write_customers_csv
from server.services import Services
from server.workorders.model import Actor
from sync.client import DeviceClient, HttpTransport, Replica, RetryPolicy
from tests.factories import TOKENS, assert_problem, bearer, order_in

pytestmark = pytest.mark.integration

ADMIN = bearer(TOKENS["admin"])
DISPATCH = Actor(user_id="disp-wang", role="dispatcher")
HEADER = "id,account_no,name,phone,address,compound,street,channels\n"


def _tablet(client: TestClient[Litestar], services: Services, path: Path) -> DeviceClient:
    return DeviceClient(Replica(path, synchronous="OFF"), HttpTransport(client, TOKENS["crew_a"]),
                        clock=services.clock, sleep=lambda _s: None,
                        retry=RetryPolicy(attempts=2))


def test_a_reimported_phone_number_reaches_the_crew_tablet(
        client: TestClient[Litestar], services: Services, tmp_path: Path) -> None:
    services.workorders.create(DISPATCH, order_in(crew_id="crew-a", customer_id="cust-00003"))
    tablet = _tablet(client, services, tmp_path / "t.db")
    tablet.pull()
    before = tablet.replica.rows("customer")["cust-00003"]
    assert before["phone"] != "13999999999"
    current = services.customers.store.get("cust-00003")
    assert current is not None
    csv_text = write_customers_csv([current]).replace(str(current.phone), "13999999999")
    r = client.post("/api/v1/customers/import", content=csv_text.encode(),
                    headers={**ADMIN, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 1, "created": 0, "updated": 1, "unchanged": 0}
    tablet.pull()
    assert tablet.replica.rows("customer")["cust-00003"]["phone"] == "13999999999"
    again = client.post("/api/v1/customers/import", content=csv_text.encode(),
                        headers={**ADMIN, "Content-Type": "text/csv"})
    assert again.json()["unchanged"] == 1  # the same file twice sends nothing new


def test_a_file_with_bad_rows_is_refused_whole_naming_the_lines(
        client: TestClient[Litestar], services: Services) -> None:
    text = (HEADER + "N1,A1,王一,139,文化路1号,阳光小区,文化路,sms\n"
            "N2,A2\n"  # the name is missing
            "N3,A3,李三,139,,,,\n"
            "N1,A4,重复,139,,,,\n")
    r = client.post("/api/v1/customers/import", content=text.encode(),
                    headers={**ADMIN, "Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/customer-file-invalid")
    assert [e["line"] for e in body["errors"]] == [3, 5]
    assert services.customers.store.get("N1") is None


def test_only_admins_import(client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/customers/import", content=(HEADER + "X,1,x,,,,,\n").encode(),
                    headers={**bearer(TOKENS["dispatcher"]), "Content-Type": "text/csv"})
    assert_problem(r, 403, "forbidden")


def test_json_registers_are_accepted_too(client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/customers/import", headers=ADMIN, json=[
        {"id": "J1", "account_no": "J-1", "name": "赵一", "phone": "13800000001"}])
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1
    bad = client.post("/api/v1/customers/import", headers=ADMIN, json=[{"id": "J2"}])
    assert_problem(bad, 422, "customer-file-invalid")


def test_the_cli_imports_a_file_into_the_store(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text("\ufeff" + HEADER + "C1,A-1,王一,13900000001,文化路1号,阳光小区,文化路,"
                        "wechat|sms\nC2,A-2,李二,,文化路2号,阳光小区,文化路,sms\n",
                        encoding="utf-8")
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path / "data")}
    first = runner.invoke(main, ["customers", "import", str(register), "--json"], env=env,
                          catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"received": 2, "created": 2, "updated": 0,
                                        "unchanged": 0}
    broken = tmp_path / "broken.csv"
    broken.write_text("id,name\nC3,x\n", encoding="utf-8")
    refused = runner.invoke(main, ["customers", "import", str(broken)], env=env)
    assert refused.exit_code != 0
    assert "account_no" in refused.output
