"""``waterops calendar`` and the desk's commands past the calendar's edge, as an operator
runs them: the real console script in a subprocess, the whole process moved into 2027
with Debian's ``faketime`` (installed by .ci/run), so the CLI's own clock is exercised."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

FAKETIME = shutil.which("faketime")
WATEROPS = [sys.executable, "-m", "server.cli"]

HALF_2027 = """\
year = 2027
notice = "half a year"
[[holidays]]
name = "元旦"
from = 2027-01-01
to = 2027-01-03
[[holidays]]
name = "春节"
from = 2027-02-05
to = 2027-02-12
workdays = [2027-01-31, 2027-02-20]
"""

FULL_2027 = HALF_2027.replace('"half a year"', '"国办发明电〔2026〕test"') + """\
[[holidays]]
name = "清明节"
from = 2027-04-03
to = 2027-04-05
[[holidays]]
name = "劳动节"
from = 2027-05-01
to = 2027-05-05
workdays = [2027-05-08]
[[holidays]]
name = "端午节"
from = 2027-06-09
to = 2027-06-09
[[holidays]]
name = "中秋节"
from = 2027-09-15
to = 2027-09-15
[[holidays]]
name = "国庆节"
from = 2027-10-01
to = 2027-10-07
workdays = [2027-09-26, 2027-10-09]
"""


def run(args: list[str], data_dir: Path, at: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = [] if at is None else [str(FAKETIME), at]
    env = {**os.environ, "WATEROPS_DATA_DIR": str(data_dir), "PYTHONPATH": str(Path.cwd())}
    return subprocess.run([*prefix, *WATEROPS, *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@pytest.fixture(autouse=True)
def _needs_faketime() -> None:
    assert FAKETIME is not None, "faketime (Debian package) is installed by .ci/run"


def test_tickets_of_2027_are_stored_from_the_cli_with_provisional_clocks(tmp_path: Path) -> None:
    body = json.dumps({"channel": "hotline_12345", "category": "hotline_general", "title": "x"})
    r = run(["tickets", "create", body, "--json"], tmp_path, "2027-03-01 10:00:00")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    ticket = json.loads(r.stdout)
    assert ticket["number"].startswith("T20270301")
    accept = next(d for d in ticket["deadlines"] if d["rule"] == "transfer_accept")
    assert accept["provisional"] is True
    r = run(["tickets", "list", "--json"], tmp_path, "2027-03-01 10:05:00")
    assert [t["id"] for t in json.loads(r.stdout)["items"]] == [ticket["id"]]


def test_a_half_year_file_is_refused_without_a_traceback(tmp_path: Path) -> None:
    notice = tmp_path / "2027.toml"
    notice.write_text(HALF_2027, encoding="utf-8")
    r = run(["calendar", "import", str(notice)], tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "2027-06-09 (端午节)" in r.stderr
    assert "2027-10-01 (国庆节)" in r.stderr
    r = run(["calendar", "show", "2027", "--json"], tmp_path)
    assert json.loads(r.stdout)["source"] == "provisional"


def test_importing_the_year_from_the_cli_recomputes_and_shows_it(tmp_path: Path) -> None:
    body = json.dumps({"channel": "operations_transfer", "category": "hydrant_fault",
                       "title": "春节前"})
    # Thursday 4 February 2027 17:00 Shanghai (09:00 UTC): the hour before Spring Festival
    r = run(["tickets", "create", body, "--json"], tmp_path, "2027-02-04 09:00:00")
    assert r.returncode == 0, r.stderr
    notice = tmp_path / "2027.toml"
    notice.write_text(FULL_2027, encoding="utf-8")
    r = run(["calendar", "import", str(notice), "--json"], tmp_path, "2027-02-04 09:10:00")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["year"] == 2027
    assert [c["rule"] for c in result["changed"]] == ["transfer_accept"]
    assert result["changed"][0]["new_due_at"].startswith("2027-02-15T01:00")
    r = run(["calendar", "show", "2027"], tmp_path)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("2027  source: imported (国办发明电〔2026〕test)")
    assert "2027-02-20 周六 ADJ  春节" in lines
    assert "2027-02-11 周四 REST 春节" in lines
    r = run(["calendar", "status", "--json"], tmp_path, "2027-03-01 10:00:00")
    status = json.loads(r.stdout)
    assert 2027 in status["official_years"]
    assert status["warnings"] == []
