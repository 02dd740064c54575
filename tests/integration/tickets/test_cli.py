"""``waterops tickets``: the same use cases from the command line, JSON with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main

pytestmark = pytest.mark.integration


def test_create_list_scan_and_stats_from_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path)}
    body = json.dumps({"channel": "counter", "category": "urgent", "title": "爆管",
                       "unit": "管网所"})
    r = runner.invoke(main, ["tickets", "create", body, "--json"], env=env)
    assert r.exit_code == 0, r.output
    created = json.loads(r.output)
    assert created["category"] == "urgent"
    r = runner.invoke(main, ["tickets", "list", "--json"], env=env)
    assert [t["id"] for t in json.loads(r.output)["items"]] == [created["id"]]
    r = runner.invoke(main, ["tickets", "scan", "--json"], env=env)
    assert r.exit_code == 0
    assert "reminders" in json.loads(r.output)
    r = runner.invoke(main, ["tickets", "stats", "--csv"], env=env)
    assert r.output.splitlines()[0].startswith("\ufeffmetric,source,rule,group")
    r = runner.invoke(main, ["tickets", "stats", "--json", "--group-by", "unit"], env=env)
    rows = json.loads(r.output)["rows"]
    assert any(x["rule"] == "ticket_urgent" and x["group"] == "管网所" for x in rows)
    r = runner.invoke(main, ["tickets", "create", '{"channel": "fax"}'], env=env)
    assert r.exit_code != 0


def test_jn_11_service_information_from_the_cli(tmp_path: Path) -> None:
    """JN 11: register a change, list it open, record where it was published (the due
    times themselves are checked against fixed dates in test_rule_flows.py; the CLI runs
    on the wall clock)."""
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path)}
    body = json.dumps({"title": "报装流程调整", "category": "procedures"})
    r = runner.invoke(main, ["service-info", "register", body, "--json"], env=env)
    assert r.exit_code == 0, r.output
    item = json.loads(r.output)
    assert item["rule"] == "service_info_publication"
    assert item["clause"].startswith("JN 11")
    r = runner.invoke(main, ["service-info", "list"], env=env)
    assert item["id"] in r.output
    assert "open" in r.output
    r = runner.invoke(main, ["service-info", "published", item["id"], "--where", "官网",
                             "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["published_where"] == "官网"
    r = runner.invoke(main, ["service-info", "published", "nope", "--where", "官网"], env=env)
    assert r.exit_code != 0
    assert "Traceback" not in r.output


def test_lc_30_inspection_on_site_from_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path)}
    body = json.dumps({"type": "burst_repair", "title": "施工挖断",
                       "location": {"type": "Point", "coordinates": [117.0, 36.65]},
                       "fields": {"third_party_damage": True}})
    r = runner.invoke(main, ["workorders", "create", body, "--json"], env=env)
    assert r.exit_code == 0, r.output
    wo = json.loads(r.output)
    assert "third_party_damage_arrival" in {d["rule"] for d in wo["deadlines"]}
    r = runner.invoke(main, ["workorders", "inspection-on-site", wo["id"], "--json"], env=env)
    assert r.exit_code == 0, r.output
    met = next(d for d in json.loads(r.output)["deadlines"]
               if d["rule"] == "third_party_damage_arrival")
    assert met["met_at"] is not None
    r = runner.invoke(main, ["workorders", "inspection-on-site", "nope"], env=env)
    assert r.exit_code != 0
    assert "Traceback" not in r.output
