"""The demo walk-through: a burst repair played end to end against a running server.

A dispatcher opens the burst and asks the network for its isolation plan; the crew's
tablet (the reference sync client with its own replica) takes the order in the morning,
loses signal, records everything on site offline — arrival, barriers photo, survey,
valves (one of them stuck: plan B), repair, flushing, customers' confirmation, cleanup
photo, resurfacing request, completion — and syncs when back in signal; the supervisor
checks the evidence and verifies. Each step is reported through ``say`` so the CLI can
print it (``waterops demo-walk``) and a test can assert on it.

Only HTTP is used (an ``httpx.Client`` pointed at the server), exactly what a tablet and
the office would do; the demo users' public tokens are the defaults.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

from server.fieldwork.photos import compose_photo
from sync.client import DeviceClient, HttpTransport, Replica
from sync.errors import DeviceReinstalledError
from sync.protocol import (
    AddNote,
    AdvanceStatus,
    AttachEvidence,
    CompleteStep,
    Intent,
    Outcome,
    RecordValveOperation,
)

Say = Callable[[str, str], None]

#: where the demo's burst is (a crossing in the demo district)
BURST_AT = (117.0012, 36.6503)


class WalkResult(msgspec.Struct, kw_only=True):
    work_order_id: str
    number: str
    status: str
    plan_id: str | None
    plan_revision: int | None
    extra_customers: int
    rejected: list[str]
    steps: list[tuple[str, str]]


#: a JSON body as the service answered it; the walk reads a few documented fields
Json = dict[str, Any]


def _ok(r: httpx.Response) -> Json:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
    body: Json = r.json()
    return body


def walk_burst(http: httpx.Client, clock: Callable[[], datetime], say: Say, *,
               dispatcher_token: str = "wo_demo_dispatcher",  # noqa: S107 -- public demo token
               crew_token: str = "wo_demo_crew_a",  # noqa: S107 -- public demo token
               supervisor_token: str = "wo_demo_supervisor",  # noqa: S107 -- public demo token
               admin_token: str = "wo_demo_admin",  # noqa: S107 -- public demo token
               crew_user: str = "crew-a-zhang",
               workdir: Path | None = None, prefix: str = "/api/v1") -> WalkResult:
    steps: list[tuple[str, str]] = []

    def note(step: str, detail: str) -> None:
        steps.append((step, detail))
        say(step, detail)

    office = {"Authorization": f"Bearer {dispatcher_token}"}
    boss = {"Authorization": f"Bearer {supervisor_token}"}
    admin = {"Authorization": f"Bearer {admin_token}"}
    lon, lat = BURST_AT
    wo = _ok(http.post(f"{prefix}/workorders", headers=office, json={
        "type": "burst_repair", "title": "经十路与历山路口 DN300 爆管 (demo walk)",
        "priority": 1, "pipe_diameter_mm": 300, "crew_id": "crew-a",
        "location": {"type": "Point", "coordinates": [lon, lat]}}))
    wo_id = str(wo["id"])
    note("dispatch", f"burst {wo['number']} created for crew-a, deadlines: "
         + ", ".join(f"{d['rule']} {d['due_at']}" for d in wo["deadlines"]))
    plan = _isolation(http, prefix, office, wo_id, note)
    folder = workdir or Path(tempfile.mkdtemp(prefix="waterops-walk-"))
    tablet = DeviceClient(Replica(folder / f"tablet-{uuid.uuid4().hex[:8]}.db"),
                          HttpTransport(http, crew_token, prefix), clock=clock,
                          sleep=lambda _s: None)
    try:
        tablet.sync()
        note("tablet", f"morning sync: order {wo['number']} on the tablet; signal lost")
        queued = _offline(tablet, wo_id, plan, clock)
        note("tablet", f"{len(queued)} steps recorded offline, photos waiting to upload")
        try:
            tablet.sync()
        except DeviceReinstalledError:
            # this walk's tablet is a fresh install under the demo token (a walk ran
            # before): the server refuses to answer "applied" from the old install's ledger,
            # so the tablet is registered again and pushes its outbox under the new token
            issued = _ok(http.post(f"{prefix}/devices", headers=admin, json={
                "user_id": crew_user, "label": "demo walk tablet (reinstalled)"}))
            tablet.reregister(HttpTransport(http, str(issued["token"]), prefix))
            note("tablet", f"reinstalled app detected (409): registered again as "
                 f"{issued['device_id']}")
            tablet.sync()
        results = tablet.replica.results()
        rejected = []
        for mid, label in queued:
            res = results[mid]
            if res.outcome is Outcome.REJECTED:
                rejected.append(f"{label}: {res.reason_code}")
            note("sync", f"{label}: {res.outcome}{f' ({res.detail})' if res.detail else ''}")
    finally:
        tablet.replica.close()
    done = _ok(http.get(f"{prefix}/fieldwork/{wo_id}/completeness", headers=boss))
    note("supervisor", "evidence complete" if done["complete"] else f"missing: {done['missing']}")
    flagged = [p for p in done["photos"] if p["flags"]]
    note("supervisor", f"{len(done['photos'])} photos checked, "
         f"{len(flagged)} flagged by their EXIF")
    final = _ok(http.post(f"{prefix}/workorders/{wo_id}/transitions", headers=boss,
                          json={"to": "verified"}))
    note("supervisor", f"{final['number']} {final['status']}")
    status = (_ok(http.get(f"{prefix}/bursts/{wo_id}", headers=boss)) if plan else None)
    working = status["working"] if status else None
    return WalkResult(
        work_order_id=wo_id, number=str(final["number"]), status=str(final["status"]),
        plan_id=str(plan["id"]) if plan else None,
        plan_revision=int(working["revision"]) if working else None,
        extra_customers=len(status["extra_customer_ids"]) if status else 0,
        rejected=rejected, steps=steps)


def _isolation(http: httpx.Client, prefix: str, office: dict[str, str], wo_id: str,
               note: Say) -> Json | None:
    r = http.post(f"{prefix}/network/isolations", headers=office,
                  json={"point": list(BURST_AT), "label": "demo walk"})
    if r.status_code >= 400:
        note("dispatch", f"no isolation plan ({r.status_code}): repair without shutting water off")
        return None
    plan: Json = r.json()
    _ok(http.put(f"{prefix}/bursts/{wo_id}/plan", headers=office,
                 json={"isolation_id": plan["id"]}))
    valves = [v["valve"]["valve_id"] for v in plan["valves_to_close"]]
    note("dispatch", f"isolation plan {plan['id']}: close {', '.join(valves) or 'nothing'}, "
         f"{plan['customer_count']} customers without water")
    return plan


def _offline(tablet: DeviceClient, wo_id: str, plan: Json | None,
             clock: Callable[[], datetime]) -> list[tuple[int, str]]:
    lon, lat = BURST_AT
    queued: list[tuple[int, str]] = []

    def rec(intent: Intent, label: str) -> None:
        queued.append((tablet.record(intent).id, label))

    def photo(step: str) -> None:
        data = compose_photo(taken_at=clock() - timedelta(minutes=1), lon=lon, lat=lat,
                             label=f"{wo_id}{step}")
        sha = tablet.add_blob(data, "image/jpeg")
        rec(AttachEvidence(work_order_id=wo_id, evidence_id=str(uuid.uuid4()), sha256=sha,
                           content_type="image/jpeg", size=len(data), step_key=step,
                           lon=lon, lat=lat), f"photo {step}")

    def check(step: str, kind: str = "check", value: str = "yes") -> None:
        rec(CompleteStep(work_order_id=wo_id, evidence_id=str(uuid.uuid4()), step_key=step,
                         evidence_kind=kind, value=value), f"{step} ({value})")

    rec(AdvanceStatus(work_order_id=wo_id, to="en_route"), "en route")
    check("arrival", value="on site")
    photo("barriers_photo")
    rec(AddNote(work_order_id=wo_id, evidence_id=str(uuid.uuid4()), step_key="survey",
                text="DN300 cast iron, 20 cm crack; gas main 2 m east"), "survey note")
    for valve_id, action in _valve_plan(plan):
        rec(RecordValveOperation(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                                 valve_id=valve_id, action=action), f"valve {valve_id} {action}")
    rec(AdvanceStatus(work_order_id=wo_id, to="in_progress"), "repair started")
    photo("repair")
    check("flushing", value="flushed downstream hydrant 5 min")
    check("customer_confirmation", value="3 customers: pressure and colour fine")
    photo("cleanup_photo")
    check("resurfacing_request", kind="document", value="municipal resurfacing ticket")
    rec(AdvanceStatus(work_order_id=wo_id, to="completed"), "completed")
    return queued


def _valve_plan(plan: Json | None) -> list[tuple[str, str]]:
    """The crew's valve work: the first valve with a plan B is stuck, then plan B's."""
    if plan is None:
        return []
    ops: list[tuple[str, str]] = []
    stuck = False
    for item in plan["valves_to_close"]:
        valve_id = str(item["valve"]["valve_id"])
        fallback = item.get("fallback")
        if fallback and not stuck:
            stuck = True
            ops.append((valve_id, "inoperable"))
            ops.extend((str(v["valve_id"]), "closed") for v in fallback["extra_valves"])
        else:
            ops.append((valve_id, "closed"))
    return ops
