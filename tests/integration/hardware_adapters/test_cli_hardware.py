"""``waterops hardware ...`` end to end through click, against the simulators."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from server.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("WATEROPS_DEMO", "true")
    return CliRunner()


def test_gnss_read_prints_a_fix_as_json(runner: CliRunner) -> None:
    result = runner.invoke(main, ["hardware", "gnss-read", "--url", "sim://?fix=rtk", "--json"])
    assert result.exit_code == 0, result.output
    fix = json.loads(result.output)
    assert fix["quality"] == 4
    assert abs(fix["lon"] - 117.0) < 1e-3
    assert fix["lon_gcj02"] > fix["lon"]


def test_gnss_read_all_shows_each_verdict(runner: CliRunner) -> None:
    result = runner.invoke(main, ["hardware", "gnss-read", "--url", "sim://?log=jinan",
                                  "--all", "--json"])
    rows = json.loads(result.output)
    assert [r["rejected"] for r in rows[:4]] == ["too-few-satellites"] * 3 + [None]


def test_gnss_read_failure_is_a_json_error_and_exit_1(runner: CliRunner) -> None:
    result = runner.invoke(main, ["hardware", "gnss-read", "--url", "sim://?fix=none",
                                  "--timeout", "1", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"] == "gnss-timeout"


def test_meter_read_and_address(runner: CliRunner) -> None:
    url = "sim://?meters=00000000000777:42.5"
    result = runner.invoke(main, ["hardware", "meter-read", "--url", url,
                                  "--address", "00000000000777", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["volume_m3"] == "42.50"
    result = runner.invoke(main, ["hardware", "meter-address", "--url", url])
    assert result.output.strip() == "00000000000777"


def test_meter_fault_is_reported_by_code(runner: CliRunner) -> None:
    result = runner.invoke(main, ["hardware", "meter-read", "--url",
                                  "sim://?fault=checksum&retries=0", "--address",
                                  "00000012345678"])
    assert result.exit_code == 1
    assert "meter-checksum" in result.output


def test_print_test_previews_the_slip(runner: CliRunner) -> None:
    result = runner.invoke(main, ["hardware", "print-test", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["preview"]["qr_codes"] == ["https://waterops.example/verify/TEST-0001"]
    assert body["preview"]["lines"][0] == "换表通知单"
    assert body["job"]["size_bytes"] > 300


def test_pressure_watch_prints_samples_as_json_lines(runner: CliRunner) -> None:
    result = runner.invoke(main, ["hardware", "pressure-watch", "--url",
                                  "sim://?id=P-1&base=0.3&noise=0", "--count", "2",
                                  "--interval", "0", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["sample"]["pressure_mpa"] for r in rows] == [0.3, 0.3]
    assert all(r["alert"] is None for r in rows)
