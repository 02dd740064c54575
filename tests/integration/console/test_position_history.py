"""Crew position history: a crew's track for a period (office roles), the retention
setting, and the ``positions`` worker job that purges what is older.

Real app and store, fixes pushed through the real sync endpoint, a stepping clock
(2026-11-23 09:00 Beijing time, inside the default 07:00-20:00 shift).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from server.workers import service_jobs
from tests.factories import assert_problem, bearer

pytestmark = pytest.mark.integration
TRACK = "/api/v1/console/crews/{crew}/track"


def _push(client: TestClient[Any], clock: SteppingClock, token: str,
          fixes: list[tuple[timedelta, float, float]]) -> None:
    now = clock()
    r = client.post("/api/v1/sync/push", headers=bearer(token), json={
        "protocol": 1, "mutations": [], "device_time": now.isoformat(),
        "positions": [{"taken_at": (now - ago).isoformat(), "lon": lon, "lat": lat,
                       "accuracy_m": 3.0} for ago, lon, lat in fixes]})
    assert r.status_code == 200, r.text


def _track(client: TestClient[Any], crew: str, since: str, until: str,
           token: str = "wo_demo_supervisor") -> Any:
    return client.get(TRACK.format(crew=crew), params={"since": since, "until": until},
                      headers=bearer(token))


def test_an_office_role_reads_a_crews_track_oldest_first(client: TestClient[Any],
                                                         clock: SteppingClock) -> None:
    _push(client, clock, "wo_demo_crew_a", [(timedelta(minutes=10), 117.003, 36.651),
                                            (timedelta(minutes=30), 117.001, 36.650)])
    _push(client, clock, "wo_demo_crew_a2", [(timedelta(minutes=20), 117.002, 36.652)])
    _push(client, clock, "wo_demo_crew_b", [(timedelta(minutes=15), 116.99, 36.64)])
    body = _track(client, "crew-a", "2026-11-23T08:00:00+08:00",
                  "2026-11-23T09:00:00+08:00").json()
    assert [p["lon"] for p in body["points"]] == [117.001, 117.002, 117.003]
    assert [p["user_name"] for p in body["points"]] == ["张师傅", "赵师傅", "张师傅"]
    assert body["truncated"] is False
    assert body["kept_from"] == "2026-11-16T01:00:00Z"  # 7 days (position_retention_days)
    # the period is [since, until): a fix at 08:50 is left out by until=08:45
    narrow = _track(client, "crew-a", "2026-11-23T08:00:00+08:00",
                    "2026-11-23T08:45:00+08:00").json()
    assert [p["lon"] for p in narrow["points"]] == [117.001, 117.002]


@pytest.mark.parametrize("token", ["wo_demo_crew_a", "wo_demo_crew_b", "wo_demo_reader"])
def test_field_roles_never_read_a_track_not_even_their_own(client: TestClient[Any],
                                                           token: str) -> None:
    r = _track(client, "crew-a", "2026-11-23T00:00:00Z", "2026-11-23T02:00:00Z", token)
    assert_problem(r, 403, "forbidden")


@pytest.mark.parametrize(("crew", "since", "until", "status"), [
    ("no-such-crew", "2026-11-23T00:00:00Z", "2026-11-23T02:00:00Z", 404),
    ("crew-a", "2026-11-23T02:00:00Z", "2026-11-23T00:00:00Z", 400),
    ("crew-a", "2026-11-23T00:00:00", "2026-11-23T02:00:00Z", 422),
    ("crew-a", "1900-01-01T00:00:00Z", "2026-11-23T02:00:00Z", 422),
    ("crew-a", "yesterday", "2026-11-23T02:00:00Z", 400),
])
def test_a_bad_track_request_is_a_clear_problem(client: TestClient[Any], crew: str, since: str,
                                                until: str, status: int) -> None:
    r = _track(client, crew, since, until)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_positions_job_purges_past_the_retention_without_any_push(
        client: TestClient[Any], services: Services, clock: SteppingClock) -> None:
    _push(client, clock, "wo_demo_crew_a", [(timedelta(minutes=5), 117.0, 36.65)])
    clock.advance(days=6)
    _push(client, clock, "wo_demo_crew_b", [(timedelta(minutes=5), 116.99, 36.64)])
    job = next(j for j in service_jobs(services) if j.name == "positions")
    assert job.run() == {"purged": 0}  # 6 days: both kept (7 days)
    assert job.backlog is not None
    assert job.backlog() == 2
    clock.advance(days=1, minutes=1)  # crew A's fix is now 7 days and 6 minutes old
    assert job.run() == {"purged": 1}
    assert _track(client, "crew-a", "2026-11-20T00:00:00Z",
                  "2026-12-01T00:00:00Z").json()["points"] == []
    assert len(_track(client, "crew-b", "2026-11-20T00:00:00Z",
                      "2026-12-01T00:00:00Z").json()["points"]) == 1


def test_the_retention_is_the_setting(tmp_path: Any, clock: SteppingClock) -> None:
    from server.app import create_app
    from tests.factories import make_services
    svc = make_services(str(tmp_path), clock, position_retention_days=2)
    try:
        with TestClient(create_app(svc.settings, clock=clock, services=svc)) as c:
            _push(c, clock, "wo_demo_crew_a", [(timedelta(minutes=5), 117.0, 36.65)])
            clock.advance(days=2, minutes=1)
            assert c.post("/api/v1/console/positions/purge",
                          headers=bearer("wo_demo_admin")).json() == {"purged": 1}
            assert c.post("/api/v1/console/positions/purge",
                          headers=bearer("wo_demo_dispatcher")).status_code == 403
    finally:
        svc.close()


def test_the_cli_twins_answer_in_json(services: Services) -> None:
    """The CLI reads the wall clock, so only answers that do not depend on it are checked
    here (the track and purge rules themselves are tested over HTTP above)."""
    import json

    from server.cli import main
    env = {"WATEROPS_DATA_DIR": services.settings.data_dir}
    if services.settings.database_url:  # the same store on PostgreSQL
        env["WATEROPS_DATABASE_URL"] = services.settings.database_url
    runner = CliRunner()
    r = runner.invoke(main, ["console", "crew-track", "crew-a", "--since",
                             "2026-11-23T08:00:00+08:00", "--until",
                             "2026-11-23T09:00:00+08:00", "--json"], env=env)
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert (body["crew_id"], body["points"], body["truncated"]) == ("crew-a", [], False)
    r = runner.invoke(main, ["console", "crew-track", "no-such-crew", "--since",
                             "2026-11-23T08:00:00+08:00", "--until",
                             "2026-11-23T09:00:00+08:00"], env=env)
    assert r.exit_code != 0
    assert "no-such-crew" in r.output
    r = runner.invoke(main, ["console", "purge-positions", "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"purged": 0}  # nothing was ever recorded
