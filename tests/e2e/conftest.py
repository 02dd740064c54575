"""Start the real service (`waterops serve --demo`) in a subprocess on a free port."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("live")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--demo", "--data-dir", str(data_dir),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    started = False
    seen: list[str] = []
    for line in proc.stdout:  # the server says when it is ready; no sleeping
        seen.append(line)
        if "Application startup complete" in line:
            started = True
            break
    if not started:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        pytest.fail("service did not start:\n" + "".join(seen))
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()
