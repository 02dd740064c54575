"""Shared pieces of the connection walks: the world (app, services, stepping clock, SMS
gateway), an application body, and the crew's field work over HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.clock import SteppingClock
from server.fieldwork.photos import compose_photo
from server.services import Services
from tests.factories import TOKENS, bearer, make_services
from tests.integration.notifications.conftest import channel_urls
from tests.integration.notifications.gateway import Gateway

SH: Final = ZoneInfo("Asia/Shanghai")
OFFICE: Final = bearer(TOKENS["dispatcher"])
SUPERVISOR: Final = bearer(TOKENS["supervisor"])
CREW: Final = bearer(TOKENS["crew_a"])
CREW_B: Final = bearer(TOKENS["crew_b"])
API: Final = "/api/v1/connections"
#: a plot north of the demo district's DN600 main (文化东路, lat 36.6505)
PLOT: Final = (117.0005, 36.6515)
CONSTRUCTION: Final = ("opening", "trench", "bedding", "pipe_laying", "backfill", "meter_well",
                       "meter_installation", "completion_acceptance", "water_quality_test")
EXTERNAL_ONLY: Final = {"opening", "trench", "bedding", "pipe_laying", "backfill"}
#: the project types whose limits the shipped profiles hold (KF 表1, JN 5.3)
PROJECT_TYPES: Final = ("advance_consultation", "platform_small", "platform_factory",
                        "platform_other", "meter_retrofit", "general_works", "single_meter",
                        "fast_connection")

Json = dict[str, Any]


@contextmanager
def world(tmp_path: Path, start: datetime, gateway: Gateway | None = None,
          profile: str = "jinan", **settings: object
          ) -> Iterator[tuple[TestClient[Litestar], Services, SteppingClock]]:
    clock = SteppingClock(start)
    channels = {} if gateway is None else {"sms": channel_urls(gateway)["sms"] + "&rate=0"}
    svc = make_services(str(tmp_path), clock, demo=True, policy_profile=profile,
                        channels=channels, **settings)
    app = create_app(svc.settings, clock=clock, services=svc)
    with TestClient(app) as client:
        yield client, svc, clock
    svc.close()


def application(project_type: str, channel: str = "counter", **extra: object) -> Json:
    return {"project_type": project_type, "channel": channel, "applicant": "王伟",
            "phone": "138 1234 5678", "address": "历山路 18 号", "location": list(PLOT),
            **extra}


def ok(r: Any, status: int = 200) -> Any:
    """The JSON body (an object or a list) of a response with ``status``."""
    assert r.status_code == status, r.text
    return r.json()


def apply_and_accept(client: TestClient[Litestar], project_type: str, **accept: object) -> Json:
    c = ok(client.post(API, json=application(project_type), headers=OFFICE), 201)
    accepted: Json = ok(client.post(f"{API}/{c['id']}/acceptance",
                                    json={"crew_id": "crew-a", **accept}, headers=OFFICE))
    return accepted


def deadline(c: Json, rule: str) -> Json:
    return next(d for d in c["deadlines"] if d["rule"] == rule)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(SH)


def upload_photo(client: TestClient[Litestar], clock: SteppingClock, label: str) -> str:
    """A real JPEG with EXIF, uploaded by the crew's tablet through the attachment API."""
    data = compose_photo(taken_at=clock() - timedelta(minutes=1), lon=PLOT[0], lat=PLOT[1],
                         label=label)
    sha = hashlib.sha256(data).hexdigest()
    ok(client.post("/api/v1/sync/attachments",
                   json={"sha256": sha, "size": len(data), "content_type": "image/jpeg"},
                   headers=CREW))
    ok(client.put(f"/api/v1/sync/attachments/{sha}?offset=0", content=data,
                  headers={**CREW, "Content-Type": "application/octet-stream"}))
    return sha


def survey_over_http(client: TestClient[Litestar], clock: SteppingClock, cid: str) -> Json:
    sha = upload_photo(client, clock, f"survey {cid}")
    ok(client.post(f"{API}/{cid}/photos", json={"step_key": "survey_photos", "sha256": sha,
                                                "lon": PLOT[0], "lat": PLOT[1]}, headers=CREW))
    ok(client.post(f"{API}/{cid}/steps", json={
        "step_key": "survey_point", "kind": "geometry", "ref": "117.00052,36.65148"},
        headers=CREW))
    surveyed: Json = ok(client.post(f"{API}/{cid}/steps", json={
        "step_key": "survey_notes", "kind": "note", "ref": "DN25 接主管, 表井设于门口"},
        headers=CREW))
    return surveyed


def construct_over_http(client: TestClient[Litestar], cid: str, external: bool) -> Json:
    last: Json = {}
    for step in CONSTRUCTION:
        if not external and step in EXTERNAL_ONLY:
            continue
        last = ok(client.post(f"{API}/{cid}/steps", json={"step_key": step}, headers=CREW))
    return last
