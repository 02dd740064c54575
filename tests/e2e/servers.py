"""Start real ``waterops`` processes (serve, worker) for end-to-end tests.

Each process's output is drained by a thread into a list, so a chatty server never
blocks on a full pipe; readiness is the line uvicorn prints once it listens ("Uvicorn
running on"; its "startup complete" comes before the socket is bound), never a sleep.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

#: how long a process may take to say it is ready (a bound, not a timing assertion)
START_PATIENCE_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    def __init__(self, args: Sequence[str], env: dict[str, str] | None, ready: str | None
                 ) -> None:
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._marker = ready
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", *args], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})},
            cwd=str(Path(__file__).resolve().parents[2]))
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()
        if ready is None:
            self._ready.set()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if self._marker is not None and self._marker in line:
                self._ready.set()
        self._ready.set()

    def wait_ready(self) -> None:
        if not self._ready.wait(START_PATIENCE_S) or self.proc.poll() is not None:
            self.stop()
            pytest.fail(f"{self.proc.args!r} did not start:\n" + "".join(self.lines[-50:]))

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._thread.join(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return int(self.proc.returncode or 0)


@contextmanager
def serving(args: Sequence[str], env: dict[str, str] | None = None
            ) -> Iterator[tuple[Process, str]]:
    """``waterops serve ARGS --port <free>``; yields the process and its base URL."""
    port = free_port()
    proc = Process(["serve", *args, "--port", str(port)], env, "Uvicorn running on")
    try:
        proc.wait_ready()
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


@contextmanager
def serving_in_process(app: object) -> Iterator[str]:
    """``app`` under a real uvicorn on a free port in this process; yields its base URL.

    For tests that need the service's own clock or handlers of their own (the service is
    the app object, not a subprocess), on a real socket with uvicorn's lifespan.
    """
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",  # type: ignore[arg-type]
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(400):  # bounded: the server says when it listens
        if server.started:
            break
        started.wait(0.025)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
