"""Every operation of the OpenAPI document x every identity, against the demo world.

The expected status of each (operation, identity) is in ``EXPECTED`` below, one row per
operation, one column per identity in the order of ``authz_world.IDENTITIES``::

    none garbage revoked | reader crew_b crew_a crew_a2 | dispatcher supervisor admin

The record ids in the paths belong to crew A (its burst order, the outage on it, a ticket
routed to it, its half-finished upload...), so crew B and the meter reader must be
refused (403) wherever a crew A member is let through. Reads walk one shared world;
every other operation gets a fresh copy of the world and the identities act one after
the other in column order, so a later column may see an earlier one's change (crew A
starts the outage: 200, crew A's colleague then gets 409 because it is started).

Adding a route: the walk fails and names the operation with the statuses it observed;
check each one against the policy you meant (server/authz/policies.py), then paste the
row here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.services import Services
from tests.factories import make_clock
from tests.integration.server.authz_world import IDENTITIES, World, build_world

pytestmark = pytest.mark.integration

#: bodies for operations whose empty body would say nothing about authorization
BODIES: Final[dict[str, object]] = {
    "PUT /api/v1/bursts/{wo_id}/plan": {"isolation_id": "{isolation_id}"},
    "POST /api/v1/outages/tasks/{task_id}/door-notice": {"photo_sha256": "{sha256}"},
    "POST /api/v1/workorders/{wo_id}/transitions": {"to": "en_route"},
    "POST /api/v1/workorders/{wo_id}/assignment": {"crew_id": "crew-b"},
    "POST /api/v1/outages/{outage_id}/cancel": {"reason": "walk"},
    "POST /api/v1/console/outages/{outage_id}/door-tasks/assignment": {"crew_id": "crew-b"},
    "POST /api/v1/tickets/{ticket_id}/reply": {"note": "已处理"},
    "POST /api/v1/tickets/{ticket_id}/send-back": {"reason": "not ours"},
    "POST /api/v1/complaints/{complaint_id}/contact": {},
    "POST /api/v1/sync/reviews/{review_id}/resolution": {"resolution": "ok"},
    # actions naming their order in the body: valid bodies, so the scope is what answers
    "POST /api/v1/bursts/arrival": {"work_order_id": "{wo_id}"},
    "POST /api/v1/bursts/resurfacing": {"work_order_id": "{wo_id}", "area_m2": 4.0},
    "POST /api/v1/bursts/valve-operations": {"work_order_id": "{wo_id}", "valve_id": "V1",
                                             "action": "closed"},
    "POST /api/v1/fieldwork/steps": {"work_order_id": "{wo_id}", "step_key": "survey",
                                     "evidence": [{"kind": "note", "ref": "walk"}]},
    "POST /api/v1/fieldwork/photos": {"work_order_id": "{wo_id}", "step_key": "survey",
                                      "sha256": "{sha256}"},
    "POST /api/v1/fieldwork/marked-lines": {"work_order_id": "{wo_id}", "fixes": []},
    "POST /api/v1/reading-routes/readings": {"work_order_id": "{wo_id}",
                                             "customer_id": "{customer_id}",
                                             "meter_no": "M1", "value": 1.0},
    "POST /api/v1/sync/attachments": {"sha256": "cd" * 32, "size": 64,
                                      "content_type": "image/jpeg", "work_order_id": "{wo_id}"},
    "POST /api/v1/connections": {"project_type": "single_meter", "channel": "counter",
                                 "applicant": "李娜", "phone": "13900001234",
                                 "address": "山大路 3 号", "location": [117.0, 36.65]},
    "POST /api/v1/connections/{connection_id}/steps": {"step_key": "survey_notes",
                                                       "kind": "note", "ref": "walk"},
    "POST /api/v1/connections/{connection_id}/photos": {"step_key": "survey_photos",
                                                        "sha256": "{sha256}"},
    "POST /api/v1/connections/{connection_id}/meter": {"meter_no": "M-WALK"},
    "POST /api/v1/connections/{connection_id}/documents": {"received": ["id_card"]},
    "POST /api/v1/connections/{connection_id}/appointment": {
        "at": "2026-12-30T09:00:00+08:00"},
    "POST /api/v1/connections/{connection_id}/design": {"sha256": "ef" * 32},
    "POST /api/v1/connections/{connection_id}/return-visit": {"satisfied": True},
    "POST /api/v1/connections/{connection_id}/cancellation": {"reason": "walk"},
    "POST /api/v1/tickets/{ticket_id}/extensions": {"reason": "排期",
                                                    "new_due_at": "2026-12-30T00:00:00+08:00"},
}
QUERY_SAMPLES: Final[dict[str, str]] = {
    "phone_last4": "5678", "since": "2026-11-01T00:00:00Z", "until": "2026-11-24T00:00:00Z",
    "offset": "0",
}

# none garbage revoked | reader crew_b crew_a crew_a2 | dispatcher supervisor admin
EXPECTED: Final[dict[str, str]] = {
    "GET /api/v1/alerts": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/bursts/{wo_id}": "401 401 401 403 403 409 409 409 409 409",
    "GET /api/v1/calendar": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/calendar/years/{year}": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/complaints": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/connections": "401 401 401 403 403 403 403 200 200 200",
    "POST /api/v1/connections": "401 401 401 403 403 403 403 201 201 201",
    "GET /api/v1/connections/overdue": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/connections/stats": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/connections/stats/csv": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/connections/{connection_id}": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/connections/{connection_id}/acceptance":
        "401 401 401 403 403 403 403 409 409 409",
    "POST /api/v1/connections/{connection_id}/appointment":
        "401 401 401 403 403 403 403 200 200 200",
    "POST /api/v1/connections/{connection_id}/cancellation":
        "401 401 401 403 403 403 403 200 409 409",
    "POST /api/v1/connections/{connection_id}/design": "401 401 401 403 403 403 403 200 200 200",
    "PUT /api/v1/connections/{connection_id}/design/drawing":
        "401 401 401 403 403 403 403 200 200 200",
    "POST /api/v1/connections/{connection_id}/documents": "401 401 401 403 403 403 403 409 409 409",
    "POST /api/v1/connections/{connection_id}/meter": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/connections/{connection_id}/photos": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/connections/{connection_id}/return-visit":
        "401 401 401 403 403 403 403 409 409 409",
    "POST /api/v1/connections/{connection_id}/steps": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/public/connections/{application}": "200 200 200 200 200 200 200 200 200 200",
    "GET /api/v1/complaints/{complaint_id}": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/crews": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/customers": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/customers/{customer_id}": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/customers/import": "401 401 401 403 403 403 403 403 403 422",
    "GET /api/v1/deadlines/overdue": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/deadlines/reminders": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/fieldwork/{wo_id}/completeness": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/fieldwork/{wo_id}/notices": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/network": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/network/imports/{version}/warnings": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/network/isolations/{isolation_id}": "401 401 401 403 200 200 200 200 200 200",
    "GET /api/v1/network/isolations/{isolation_id}/area": "401 401 401 403 200 200 200 200 200 200",
    "GET /api/v1/network/isolations/{isolation_id}/customers":
        "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/notices/chain/verification": "401 401 401 403 403 403 403 403 200 200",
    "GET /api/v1/notices/public-key": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/notices/{doc_id}": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/notices/{doc_id}/escpos": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/notices/{doc_id}/pdf": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/notices/{doc_id}/signature.svg": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/notices/{doc_id}/verification": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/outages": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/outages/{outage_id}": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/outages/{outage_id}/notices": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/outages/{outage_id}/conflicts": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/outages/{outage_id}/sms-cost": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/outages/{outage_id}/report": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/outages/{outage_id}/report.csv": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/outages/{outage_id}/tasks": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/public/complaints/{number}": "200 200 200 200 200 200 200 200 200 200",
    "GET /api/v1/public/health": "200 200 200 200 200 200 200 200 200 200",
    "GET /api/v1/public/notices/{doc_id}/verification": "200 200 200 200 200 200 200 200 200 200",
    "GET /api/v1/public/outages/feed.geojson": "200 200 200 200 200 200 200 200 200 200",
    "GET /api/v1/public/outages/feed.ics": "200 200 200 200 200 200 200 200 200 200",
    "GET /api/v1/reading-routes/{wo_id}": "401 401 401 403 403 409 409 409 409 409",
    "GET /api/v1/stats/service": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/stats/service/csv": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/stats/timeliness": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/sync/attachments/{sha256}": "401 401 401 403 403 200 403 200 200 200",
    "GET /api/v1/sync/info": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/sync/lag": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/sync/reviews": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/tickets": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/tickets/{ticket_id}": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/users": "401 401 401 403 403 403 403 403 200 200",
    "GET /api/v1/users/me": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/workorders": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/workorders/{wo_id}": "401 401 401 403 403 200 200 200 200 200",
    "GET /api/v1/workorders/{wo_id}/history": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/bursts/arrival": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/bursts/resurfacing": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/bursts/valve-operations": "401 401 401 403 403 409 409 409 409 409",
    "POST /api/v1/calendar/years": "401 401 401 403 403 403 403 403 403 400",
    "POST /api/v1/complaints": "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/complaints/{complaint_id}/contact": "401 401 401 403 403 403 403 200 409 409",
    "POST /api/v1/complaints/{complaint_id}/suggestion-handled":
        "401 401 401 403 403 403 403 409 409 409",
    "GET /api/v1/service-info": "401 401 401 403 403 403 403 200 200 200",
    "POST /api/v1/service-info": "401 401 401 403 403 403 403 400 400 400",
    "GET /api/v1/service-info/{info_id}": "401 401 401 403 403 403 403 404 404 404",
    "POST /api/v1/service-info/{info_id}/published": "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/complaints/{complaint_id}/resolve": "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/complaints/{complaint_id}/return-visit":
        "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/crews": "401 401 401 403 403 403 403 403 403 400",
    "POST /api/v1/deadlines/scan": "401 401 401 403 403 403 403 403 200 200",
    "POST /api/v1/devices": "401 401 401 403 403 403 403 403 403 400",
    "POST /api/v1/devices/{device_id}/revocation": "401 401 401 403 403 403 403 403 200 200",
    "POST /api/v1/fieldwork/marked-lines": "401 401 401 403 403 409 409 409 409 409",
    "POST /api/v1/fieldwork/photos": "401 401 401 403 403 422 422 422 422 422",
    "POST /api/v1/fieldwork/steps": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/fieldwork/{wo_id}/removal-check": "401 401 401 403 403 409 409 409 409 409",
    "POST /api/v1/network/import/geojson": "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/network/import/inp": "401 401 401 403 403 403 403 400 400 400",
    # the valve is no option of the plan: the office gets as far as 404
    "POST /api/v1/network/isolations/{isolation_id}/supply-options/{valve_id}/accept":
        "401 401 401 403 403 403 403 404 404 404",
    "POST /api/v1/network/isolations": "401 401 401 403 400 400 400 400 400 400",
    "POST /api/v1/notices": "401 401 401 400 400 400 400 400 400 400",
    "POST /api/v1/outages": "401 401 401 403 400 400 400 400 400 400",
    "POST /api/v1/outages/from-isolation": "401 401 401 403 400 400 400 400 400 400",
    "POST /api/v1/outages/receipts": "401 401 401 403 403 403 403 400 403 400",
    "POST /api/v1/outages/tasks/{task_id}/door-notice": "401 401 401 403 403 422 422 422 422 422",
    "POST /api/v1/outages/{outage_id}/announce": "401 401 401 403 403 403 403 200 409 409",
    "POST /api/v1/outages/{outage_id}/cancel": "401 401 401 403 403 403 403 200 409 409",
    "POST /api/v1/outages/{outage_id}/delay": "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/outages/{outage_id}/restore": "401 401 401 403 403 409 409 409 409 409",
    "POST /api/v1/outages/{outage_id}/start": "401 401 401 403 403 200 409 409 409 409",
    "POST /api/v1/reading-routes/readings": "401 401 401 403 403 409 409 409 409 409",
    "POST /api/v1/reading-routes/{wo_id}/estimates-explained":
        "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/sync/attachments": "401 401 401 403 403 200 403 403 403 403",
    "POST /api/v1/sync/pull": "401 401 401 200 200 200 200 403 403 403",
    "POST /api/v1/sync/push": "401 401 401 200 200 200 200 403 403 403",
    "POST /api/v1/sync/snapshot": "401 401 401 200 200 200 200 403 403 403",
    "POST /api/v1/sync/reviews/{review_id}/resolution": "401 401 401 403 403 403 403 200 422 422",
    "POST /api/v1/tickets": "401 401 401 400 400 400 400 400 400 400",
    "POST /api/v1/tickets/{ticket_id}/accept": "401 401 401 403 403 409 409 409 409 409",
    "POST /api/v1/tickets/{ticket_id}/extensions": "401 401 401 403 403 200 422 422 422 422",
    "POST /api/v1/tickets/{ticket_id}/extensions/{extension_id}/decision":
        "401 401 401 403 403 403 403 403 400 400",
    "POST /api/v1/tickets/{ticket_id}/reply": "401 401 401 403 403 200 409 409 409 409",
    "POST /api/v1/tickets/{ticket_id}/resolve": "401 401 401 403 403 200 409 409 409 409",
    "POST /api/v1/tickets/{ticket_id}/send-back": "401 401 401 403 403 403 403 200 409 409",
    "POST /api/v1/tickets/{ticket_id}/work-order": "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/tickets/{ticket_id}/work-order-link": "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/users": "401 401 401 403 403 403 403 403 403 400",
    "POST /api/v1/workorders": "401 401 401 403 403 403 403 400 400 400",
    "POST /api/v1/workorders/import": "401 401 401 403 403 403 403 400 403 400",
    "POST /api/v1/workorders/{wo_id}/assignment": "401 401 401 403 403 403 403 200 200 200",
    "POST /api/v1/workorders/{wo_id}/transitions": "401 401 401 403 403 200 409 409 409 409",
    "POST /api/v1/workorders/{wo_id}/inspection-on-site":
        "401 401 401 403 403 403 403 409 409 409",
    "PUT /api/v1/bursts/{wo_id}/plan": "401 401 401 403 403 403 403 200 200 200",
    "PUT /api/v1/reading-routes/{wo_id}/stops": "401 401 401 403 403 403 403 400 400 400",
    "PUT /api/v1/sync/attachments/{sha256}": "401 401 401 403 403 200 403 403 403 403",
    # -- the dispatch console (issue 18) ----------------------------------------------------
    "DELETE /api/v1/console/session": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/console/attachments/{sha256}": "401 401 401 403 403 403 403 404 404 404",
    "GET /api/v1/console/config": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/console/crews": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/crews/{crew_id}/track": "401 401 401 403 403 403 403 200 200 200",
    "POST /api/v1/console/positions/purge": "401 401 401 403 403 403 403 403 403 200",
    "GET /api/v1/console/isolations/{isolation_id}/breakdown":
        "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/network": "401 401 401 403 200 200 200 200 200 200",
    "GET /api/v1/console/outages/{outage_id}/delivery": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/outages/{outage_id}/delivery/stream":
        "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/outages/{outage_id}/door-tasks":
        "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/outages/{outage_id}/lead": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/outages/{outage_id}/posting.pdf":
        "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/console/overdue": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/overdue.csv": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/session": "401 401 401 200 200 200 200 200 200 200",
    "GET /api/v1/console/timeliness": "401 401 401 403 403 403 403 200 200 200",
    "GET /api/v1/console/workorders/{wo_id}/evidence": "401 401 401 403 403 200 200 200 200 200",
    "POST /api/v1/console/outages/{outage_id}/door-tasks/assignment":
        "401 401 401 403 403 403 403 200 200 200",
    # sign-in takes its credential from the body, not the header: an empty body fails for all
    "POST /api/v1/public/session": "401 401 401 401 401 401 401 401 401 401",
}


def _cells(row: str) -> list[int]:
    return [int(c) for c in row.split()]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("authz") / "world", make_clock())


@pytest.fixture(scope="module")
def spec(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    svc = world.copy(tmp_path_factory.mktemp("authz-spec") / "w")
    try:
        with TestClient(create_app(svc.settings, clock=world.clock, services=svc)) as c:
            doc: dict[str, Any] = c.get("/schema/openapi.json").json()
            return doc
    finally:
        svc.close()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for path, item in sorted(spec["paths"].items()):
        for method, op in sorted(item.items()):
            if method in ("get", "post", "put", "delete", "patch"):
                yield f"{method.upper()} {path}", method.upper(), path, op


def _fill(template: str, ids: dict[str, str]) -> str:
    out = template
    for name, value in ids.items():
        out = out.replace("{" + name + "}", value)
    return out


def _request(client: TestClient[Litestar], world: World,
             method: str, path: str, op: dict[str, Any], key: str, token: str | None) -> int:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    params = {p["name"]: QUERY_SAMPLES.get(p["name"], "x")
              for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")}
    url = _fill(path, world.ids)
    kwargs: dict[str, Any] = {"headers": headers, "params": params}
    if method == "PUT" and "sync/attachments" in path:
        kwargs["content"] = b"\xff\xd8\xff\xe0"
    elif method == "PUT" and path.endswith("/design/drawing"):
        kwargs["content"] = b"%PDF-1.4\n%%EOF\n"  # the office's drawing, raw bytes
    elif method in ("POST", "PUT"):
        body = BODIES.get(key, {})
        kwargs["json"] = {k: _fill(v, world.ids) if isinstance(v, str) else v
                          for k, v in body.items()} if isinstance(body, dict) else body
    r = client.request(method, url, **kwargs)
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), (key, r.text)
    if r.status_code == 429:
        assert "retry-after" in r.headers, key
    return r.status_code


def _walk(client: TestClient[Litestar], world: World,
          ops: list[tuple[str, str, str, dict[str, Any]]]) -> dict[str, list[int]]:
    return {key: [_request(client, world, method, path, op, key, world.tokens[who])
                  for who in IDENTITIES]
            for key, method, path, op in ops}


def _serve(app: Litestar, svc: Services) -> None:
    """Point the running app at another copy of the world, as its start-up does for the
    first (``create_app``'s ``start``): every request reads the services from the app's
    state, so one app walks every copy instead of one app built per operation."""
    app.state.update({"services": svc, "settings": svc.settings})
    svc.send_alerts_in_background()


def test_every_operation_has_a_row(spec: dict[str, Any]) -> None:
    keys = [key for key, *_ in operations(spec)]
    missing = [k for k in keys if k not in EXPECTED]
    stale = sorted(set(EXPECTED) - set(keys))
    assert not missing, (
        "operations without a row in EXPECTED (tests/integration/server/test_authz_walk.py):"
        "\n  " + "\n  ".join(missing) + "\nadd one row per operation with the status each "
        f"identity must get, columns: {' '.join(IDENTITIES)}")
    assert not stale, f"rows for operations that no longer exist: {stale}"


def test_every_operation_times_every_identity(world: World, spec: dict[str, Any],
                                              tmp_path: Path) -> None:
    ops = list(operations(spec))
    reads = [o for o in ops if o[1] == "GET"]
    first = world.copy(tmp_path / "reads")
    try:
        with TestClient(create_app(first.settings, clock=world.clock,
                                   services=first)) as client:
            observed = _walk(client, world, reads)
            # each write gets a fresh copy of the world: the identities act one after
            # another, and what one changed must not decide the answer of the next
            for n, op in enumerate(o for o in ops if o[1] != "GET"):
                svc = world.copy(tmp_path / f"w{n}")
                try:
                    _serve(client.app, svc)
                    observed |= _walk(client, world, [op])
                finally:
                    _serve(client.app, first)
                    svc.close()
    finally:
        first.close()
    wrong = {key: seen for key, seen in observed.items()
             if key in EXPECTED and _cells(EXPECTED[key]) != seen}
    unlisted = {key: seen for key, seen in observed.items() if key not in EXPECTED}
    lines = [f"{key}: expected {EXPECTED[key]!r}, got {' '.join(map(str, seen))!r}"
             for key, seen in sorted(wrong.items())]
    lines += [f"{key!r}: {' '.join(map(str, seen))!r},  # no row yet: check, then add"
              for key, seen in sorted(unlisted.items())]
    assert not lines, (f"columns: {' '.join(IDENTITIES)}\n" + "\n".join(lines))
    assert all(s != 500 for seen in observed.values() for s in seen)
