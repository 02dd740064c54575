"""The office uploads the design drawing itself (设计草图), over HTTP and on the CLI,
through the attachment vault: by hash, with the size limit and the order's quota."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main
from server.fieldwork.photos import compose_photo
from tests.factories import assert_problem
from tests.integration.connections.kit import (
    API,
    CREW,
    OFFICE,
    SH,
    apply_and_accept,
    ok,
    survey_over_http,
    world,
)

pytestmark = pytest.mark.integration

FRIDAY_1400 = datetime(2026, 11, 27, 14, 0, tzinfo=SH)
DRAWING = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
           b"% design sketch: DN25 from the DN600 main, meter well at the gate\n"
           b"trailer << /Root 1 0 R >>\n%%EOF\n")
OCTETS = {"Content-Type": "application/octet-stream"}


def test_the_office_uploads_the_drawing_and_it_is_the_design_sketch(tmp_path: Path) -> None:
    with world(tmp_path, FRIDAY_1400) as (client, svc, clock):
        c = apply_and_accept(client, "general_works")
        survey_over_http(client, clock, str(c["id"]))
        url = f"{API}/{c['id']}/design/drawing?title=接水设计图"
        crew = client.put(url, content=DRAWING, headers={**CREW, **OCTETS})
        assert_problem(crew, 403, "forbidden")  # the drawing office's step, not the crew's
        designed = ok(client.put(url, content=DRAWING, headers={**OFFICE, **OCTETS}))
        assert designed["stage"] == "designed"
        sha = hashlib.sha256(DRAWING).hexdigest()
        rows = [e for e in svc.fieldwork.service.evidence_of(str(c["work_order_id"]))
                if e.step_key == "design_sketch"]
        assert [(e.attachment_sha256, e.payload.get("ref")) for e in rows] == \
            [(sha, "接水设计图")]
        # the bytes are in the vault, complete, as a tablet's upload would be
        assert svc.fieldwork.service.blobs.read(sha) == DRAWING
        status = ok(client.get(f"/api/v1/sync/attachments/{sha}", headers=CREW))
        assert status["complete"] is True
        assert status["content_type"] == "application/pdf"


def test_not_a_drawing_and_over_the_orders_quota_are_refused(tmp_path: Path) -> None:
    with world(tmp_path, FRIDAY_1400) as (client, _svc, _clock):
        c = apply_and_accept(client, "single_meter")
        url = f"{API}/{c['id']}/design/drawing"
        text = client.put(url, content=b"just some words", headers={**OFFICE, **OCTETS})
        assert_problem(text, 400, "connection-bad-input")
        assert text.headers["content-type"].startswith("application/problem+json")
        empty = client.put(url, content=b"", headers={**OFFICE, **OCTETS})
        assert_problem(empty, 400, "connection-bad-input")
    quota_dir = tmp_path / "quota"
    with world(quota_dir, FRIDAY_1400, attachment_order_quota_bytes=len(DRAWING) - 1) as (
            client, svc, _clock):
        c = apply_and_accept(client, "single_meter")
        over = client.put(f"{API}/{c['id']}/design/drawing", content=DRAWING,
                          headers={**OFFICE, **OCTETS})
        assert over.status_code == 413, over.text
        assert over.json()["type"].endswith("/attachment-quota-exceeded")
        assert svc.fieldwork.service.blobs.read(hashlib.sha256(DRAWING).hexdigest()) is None


def test_on_the_cli_the_drawing_file_is_uploaded(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path), "WATEROPS_POLICY_PROFILE": "jinan"}

    def run(*args: str) -> dict[str, object]:
        r = runner.invoke(main, ["connections", *args, "--json"], env=env)
        assert r.exit_code == 0, r.output
        body: dict[str, object] = json.loads(r.output)
        return body

    c = run("apply", json.dumps({"project_type": "single_meter", "channel": "counter",
                                 "applicant": "李娜", "phone": "13900001234",
                                 "address": "山大路 3 号", "location": [117.0, 36.65]}))
    number = str(c["number"])
    run("accept", number)
    photo = tmp_path / "site.jpg"
    photo.write_bytes(compose_photo(taken_at=None, lon=117.0, lat=36.65, label="cli"))
    run("photo", number, "survey_photos", str(photo))
    run("step", number, "survey_point", "--kind", "geometry", "--ref", "117.0001,36.6501")
    run("step", number, "survey_notes", "--kind", "note", "--ref", "门口")
    drawing = tmp_path / "design.pdf"
    drawing.write_bytes(DRAWING)
    assert run("design", number, str(drawing), "--title", "设计图")["stage"] == "designed"
    notes = tmp_path / "notes.txt"
    notes.write_text("not a drawing", encoding="utf-8")
    c2 = run("apply", json.dumps({"project_type": "single_meter", "channel": "counter",
                                  "applicant": "李娜", "phone": "13900001234",
                                  "address": "山大路 5 号", "location": [117.0, 36.65]}))
    run("accept", str(c2["number"]))
    refused = runner.invoke(main, ["connections", "design", str(c2["number"]), str(notes)],
                            env=env)
    assert refused.exit_code == 1
    assert "only JPEG, PNG, WebP and PDF" in refused.output
