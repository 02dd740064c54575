"""``waterops console``: the posting notice and console passwords from the shell."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main
from server.cli.common import open_services
from server.console.sessions import SignInIn
from server.demo import seed_demo

pytestmark = pytest.mark.integration


def test_posting_notice_and_password_from_the_cli(tmp_path: Path) -> None:
    env = {"WATEROPS_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    svc = open_services(str(tmp_path))
    seed_demo(svc, customers=60)
    svc.close()
    start = datetime(2100, 1, 4, 2, 0, tzinfo=UTC)  # the CLI reads the wall clock
    body = {"kind": "planned", "cause": "更换阀门", "start_at": start.isoformat(),
            "expected_restoration_at": (start + timedelta(hours=4)).isoformat(),
            "compounds": ["文化苑"], "streets": ["文化东路"]}
    made = runner.invoke(main, ["outages", "create", json.dumps(body), "--json"], env=env,
                         catch_exceptions=False)
    assert made.exit_code == 0, made.output
    oid = json.loads(made.output)["id"]
    out = tmp_path / "notice.pdf"
    r = runner.invoke(main, ["console", "posting-notice", oid, "--out", str(out), "--json"],
                      env=env, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["bytes"] == out.stat().st_size
    assert out.read_bytes().startswith(b"%PDF")
    r = runner.invoke(main, ["console", "set-password", "sup-li", "--json"], env=env,
                      input="a long enough secret\na long enough secret\n",
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    svc = open_services(str(tmp_path))
    opened = svc.sessions.sign_in(SignInIn(user_id="sup-li", password="a long enough secret"))
    svc.close()
    assert opened.info.role == "supervisor"
    r = runner.invoke(main, ["console", "posting-notice", "OUT-nope", "--out", str(out)],
                      env=env)
    assert r.exit_code != 0
