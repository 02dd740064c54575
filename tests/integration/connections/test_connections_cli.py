"""``waterops connections``: every step of a connection from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main
from server.fieldwork.photos import compose_photo

pytestmark = pytest.mark.integration


def test_a_connection_from_application_to_return_visit_on_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path), "WATEROPS_POLICY_PROFILE": "jinan"}

    def run(*args: str) -> dict[str, object]:
        r = runner.invoke(main, ["connections", *args, "--json"], env=env)
        assert r.exit_code == 0, r.output
        body: dict[str, object] = json.loads(r.output)
        return body

    body = json.dumps({"project_type": "single_meter", "channel": "hotline",
                       "applicant": "李娜", "phone": "13900001234", "address": "山大路 3 号",
                       "location": [117.0, 36.65]})
    c = run("apply", body)
    number = str(c["number"])
    assert c["stage"] == "applied"
    accepted = run("accept", number, json.dumps({"missing_documents": ["property_deed"]}))
    assert accepted["missing_documents"] == ["property_deed"]
    assert run("documents", number, "property_deed")["missing_documents"] == []
    photo = tmp_path / "site.jpg"
    photo.write_bytes(compose_photo(taken_at=None, lon=117.0, lat=36.65, label="cli"))
    run("photo", number, "survey_photos", str(photo))
    run("step", number, "survey_point", "--kind", "geometry", "--ref", "117.0001,36.6501")
    assert run("step", number, "survey_notes", "--kind", "note", "--ref", "门口")["stage"] \
        == "surveyed"
    assert run("design", number, "0" * 64)["stage"] == "designed"
    for step in ("meter_well", "meter_installation", "completion_acceptance",
                 "water_quality_test"):
        last = run("step", number, step)
    assert last["stage"] == "constructed"
    assert run("meter", number, "M-CLI-1")["meter_no"] == "M-CLI-1"
    assert run("step", number, "water_on")["stage"] == "water_on"
    assert run("return-visit", number, "--satisfied")["stage"] == "visited"
    page = run("list")
    items = page["items"]
    assert isinstance(items, list)
    assert [x["number"] for x in items] == [number]
    assert page["next_cursor"] is None
    stats = runner.invoke(main, ["connections", "stats", "--csv"], env=env)
    assert stats.exit_code == 0
    assert stats.output.splitlines()[0].startswith("stage,project_type,unit")
    refused = runner.invoke(main, ["connections", "accept", number], env=env)
    assert refused.exit_code == 1
    assert "stage" in refused.output
    bad = runner.invoke(main, ["connections", "apply", '{"project_type": "castle"}'], env=env)
    assert bad.exit_code != 0
