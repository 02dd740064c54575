"""HTTP load that is not the bottleneck: Debian's ``wrk``, and a floor to compare with.

Why wrk: one Python process of httpx clients saturates near 1,200 req/s on this 2-core
machine, below what the service can answer, so its figures measured the client. wrk is
written in C with an event loop; it is driven by a small Lua script that rotates through
the paths and prints its summary as JSON.

Why a floor: a figure alone says little on a shared 2-core machine. ``floor_server``
starts a bare Litestar app under the same uvicorn as ``waterops serve`` that answers
every path with the *same bytes* the project returned; measured in the same run, the
ratio project/floor is the cost of the project's own work per request.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec

_LUA = """
local paths = %(paths)s
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], %(headers)s)
end
done = function(summary, latency, requests)
  io.write("WRKJSON ", string.format(
    '{"requests": %%d, "duration_us": %%d, "errors": %%d, "non2xx": %%d, '
    .. '"p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99)))
end
"""


class LoadResult(msgspec.Struct, frozen=True, kw_only=True):
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    #: socket errors and non-2xx answers (a figure with errors is not a figure)
    errors: int


def wrk_path() -> str | None:
    return shutil.which("wrk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lua_table(items: Sequence[str]) -> str:
    return "{" + ", ".join(json.dumps(i) for i in items) + "}"


def run_wrk(base: str, paths: Sequence[str], headers: dict[str, str], *,
            seconds: float, connections: int = 16, threads: int = 2) -> LoadResult:
    """``wrk`` against ``base`` for ``seconds``, rotating through ``paths``."""
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    lua_headers = "{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}"
                                  for k, v in headers.items()) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA % {"paths": _lua_table(paths), "headers": lua_headers})
    try:
        out = subprocess.run(
            [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
             "--latency", "-s", script.name, base],
            capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    return LoadResult(requests=data["requests"],
                      rps=data["requests"] / (data["duration_us"] / 1e6),
                      p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                      errors=data["errors"] + data["non2xx"])


def wait_ready(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextmanager
def floor_server(body: bytes, content_type: str, processes: int = 1,
                 query: tuple[str, str] | None = None) -> Iterator[str]:
    """A bare Litestar route answering every GET with ``body``, in ``processes`` processes
    on one socket (as many as the service measured beside it); yields its base URL.
    ``query``: (database, raw SQL) the bare route runs on every request first."""
    with tempfile.NamedTemporaryFile("wb", delete=False) as f:
        f.write(body)
    extra: list[str] = []
    query_file: Path | None = None
    if query:
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as q:
            q.write(query[1])
        query_file = Path(q.name)
        extra = ["--database", query[0], "--query", q.name]
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._floor", "--port", str(port), "--body", f.name,
         "--content-type", content_type, "--processes", str(processes), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + "/", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        Path(f.name).unlink(missing_ok=True)
        if query_file is not None:
            query_file.unlink(missing_ok=True)


def route_beside_floor(bench: str, metric: str, base: str, paths: Sequence[str],
                       headers: dict[str, str], *, seconds: float, n: int,
                       processes: int = 1, query: tuple[str, str] | None = None) -> str:
    """Load ``paths`` on the service, then a bare route answering the same bytes (the
    floor, in as many ``processes`` as the service has; running ``query``, a (database,
    raw SQL), on each request when given), both warmed up for a second; emit the figures
    and return the table cell."""
    from bench._common import emit

    sample = httpx.get(base + paths[0], headers=headers, timeout=60)
    sample.raise_for_status()
    run_wrk(base, paths, headers, seconds=1)  # warm-up
    ours = run_wrk(base, paths, headers, seconds=seconds)
    with floor_server(sample.content, "application/json", processes, query) as floor_base:
        run_wrk(floor_base, paths, {}, seconds=1)
        floor = run_wrk(floor_base, paths, {}, seconds=seconds)
    ratio = floor.rps / ours.rps if ours.rps else float("inf")
    emit(bench, f"{metric}_req_per_s", ours.rps, "1/s", n)
    emit(bench, f"{metric}_p50_ms", ours.p50_ms, "ms", n)
    emit(bench, f"{metric}_p99_ms", ours.p99_ms, "ms", n)
    emit(bench, f"{metric}_floor_req_per_s", floor.rps, "1/s", n)
    emit(bench, f"{metric}_floor_p99_ms", floor.p99_ms, "ms", n)
    emit(bench, f"{metric}_vs_floor", ratio, "x", n)
    emit(bench, f"{metric}_errors", ours.errors, "count", max(ours.requests, 1))
    return (f"{ours.rps:8.0f} req/s  p50 {ours.p50_ms:6.2f} ms  p99 {ours.p99_ms:6.2f} ms   "
            f"floor {floor.rps:8.0f} req/s p99 {floor.p99_ms:6.2f} ms   x{ratio:.2f}"
            + (f"  ({ours.errors} errors)" if ours.errors else ""))


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop a benchmark's server; a slow graceful stop must not end the run."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
