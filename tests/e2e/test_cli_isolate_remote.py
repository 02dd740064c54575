"""`waterops network isolate` with a service (``--server``, or the ``service_url`` setting):
the running service answers, the CLI loads nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.api_client import Api

pytestmark = pytest.mark.e2e


def test_isolate_asks_the_running_service(live_server: str, tmp_path: Path) -> None:
    api = Api(live_server, "wo_demo_dispatcher")
    summary = api.http.get("/api/v1/network/").json()
    api.close()
    assert summary["counts"]["pipes"] > 0
    # an empty data folder: a local isolate would answer network-empty; the server knows
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "network", "isolate", "--pipe", "P-R0-0",
         "--server", live_server, "--token", "wo_demo_dispatcher", "--data-dir",
         str(tmp_path), "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["broken_pipe_ids"] == ["P-R0-0"]
    assert plan["network_version"] == summary["network_version"]
    refused = subprocess.run(
        [sys.executable, "-m", "server.cli", "network", "isolate", "--pipe", "nope",
         "--server", live_server, "--token", "wo_demo_dispatcher"],
        capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 1
    assert "404" in refused.stderr


def test_a_configured_service_is_asked_without_any_option(live_server: str,
                                                          tmp_path: Path) -> None:
    env = {**os.environ, "WATEROPS_SERVICE_URL": live_server,
           "WATEROPS_SERVICE_TOKEN": "wo_demo_dispatcher"}
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "network", "isolate", "--pipe", "P-R0-0",
         "--data-dir", str(tmp_path), "--json"], capture_output=True, text=True, timeout=120,
        check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["broken_pipe_ids"] == ["P-R0-0"]
    # the empty local store was not touched: no index was built or cached there
    assert not (tmp_path / "cache").exists()
