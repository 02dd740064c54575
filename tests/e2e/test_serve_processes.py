"""``waterops serve --processes 2``: two HTTP processes on one socket and one store (issue
19). Each keeps its own page cache, yet every list answered after a write shows it,
whichever process answers; a revoked token is refused by both; SIGTERM stops them all.
On SQLite and, in the PostgreSQL pass, on one PostgreSQL schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.api_client import Api
from tests.e2e.servers import serving
from tests.factories import PG_URL_ENV, fresh_pg_url

pytestmark = pytest.mark.e2e

DISPATCHER = "wo_demo_dispatcher"
ORDER = {"type": "burst_repair", "crew_id": "crew-a",
         "location": {"type": "Point", "coordinates": [117.001, 36.651]}}
#: requests on fresh connections per check: the kernel hands each to either process
ROUNDS = 12


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux ``/proc``)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _ids(base: str, token: str = DISPATCHER) -> set[str]:
    api = Api(base, token)  # a new connection each time
    try:
        r = api.list_work_orders(limit=500)
        assert r.status_code == 200, r.text
        return {w["id"] for w in r.json()["items"]}
    finally:
        api.close()


def test_two_processes_serve_one_store_and_never_a_stale_page(tmp_path: Path) -> None:
    base_url = os.environ.get(PG_URL_ENV)
    env = {"WATEROPS_DATABASE_URL": fresh_pg_url(base_url)} if base_url else {}
    with serving(["--demo", "--no-workers", "--processes", "2", "--data-dir",
                  str(tmp_path)], env) as (proc, base):
        children = _children(proc.proc.pid)
        assert len(children) == 2
        before = _ids(base)
        for _ in range(ROUNDS):  # both processes keep the page
            assert _ids(base) == before
        writer, admin = Api(base, DISPATCHER), Api(base, "wo_demo_admin")
        try:
            for _ in range(3):
                created = writer.create_work_order(ORDER)
                assert created.status_code == 201, created.text
                wo_id = created.json()["id"]
                for _ in range(ROUNDS):
                    assert wo_id in _ids(base)
            issued = admin.http.post("/api/v1/devices", json={
                "user_id": "disp-wang", "label": "spare console"})
            assert issued.status_code == 201, issued.text
            token, device = issued.json()["token"], issued.json()["device_id"]
            for _ in range(ROUNDS):  # both processes keep the page for this token's scope
                assert _ids(base, token)
            revoked = admin.http.post(f"/api/v1/devices/{device}/revocation")
            assert revoked.status_code == 200, revoked.text
        finally:
            writer.close()
            admin.close()
        for _ in range(ROUNDS):
            api = Api(base, token)
            try:
                assert api.list_work_orders(limit=500).status_code == 401
            finally:
                api.close()
        assert proc.stop() == 0
        assert not _children(proc.proc.pid) & children
