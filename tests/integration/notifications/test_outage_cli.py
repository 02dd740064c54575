"""The ``waterops outages`` commands: the same calls as the routes, printing JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main
from tests.integration.notifications.conftest import channel_urls
from tests.integration.notifications.gateway import Gateway

pytestmark = pytest.mark.integration


def test_create_announce_send_and_report(tmp_path: Path, gateway: Gateway) -> None:
    # the CLI reads the wall clock: an emergency (urgent, so quiet hours never hold it)
    # expected to end far in the future keeps the run independent of the time of day
    start = datetime(2100, 1, 4, 2, 0, tzinfo=UTC)
    body = {"kind": "emergency", "cause": "水表井改造", "start_at": start.isoformat(),
            "expected_restoration_at": (start + timedelta(hours=4)).isoformat(),
            "recipients": [{"customer_id": "K1", "phone": "13700000001", "channels": ["sms"],
                            "compound": "南苑小区", "street": "花园路"}]}
    env = {"WATEROPS_DATA_DIR": str(tmp_path),
           "WATEROPS_CHANNELS": json.dumps({"sms": channel_urls(gateway)["sms"] + "&rate=0"})}
    runner = CliRunner()

    def run(*args: str) -> dict[str, object]:
        result = runner.invoke(main, ["outages", *args, "--json"], env=env,
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        parsed: dict[str, object] = json.loads(result.output)
        return parsed

    outage = run("create", json.dumps(body, ensure_ascii=False))
    oid = str(outage["id"])
    assert run("announce", oid)["state"] == "started"
    summary = run("worker", "--once")
    assert summary["sent"] == 1
    assert gateway.recipients("/sms/", "phone") == ["13700000001"]
    report = run("report", oid)
    notices = report["notices"]
    assert isinstance(notices, list)
    assert notices[0]["notified"] == 1
    csv_out = runner.invoke(main, ["outages", "report", oid, "--csv"], env=env)
    assert csv_out.output.splitlines()[0].startswith("\ufeffoutage_id,customer_id")
    missing = runner.invoke(main, ["outages", "start", "OUT-none"], env=env)
    assert missing.exit_code != 0
    assert "no outage" in missing.output
