"""The floor of an HTTP figure: a bare Litestar route returning fixed bytes.

Run by ``bench._load.floor_server`` as ``python -m bench._floor --port P --body FILE``.
It uses the same framework and the same uvicorn settings as ``waterops serve`` (no
access log), so what separates the two figures is the project's own work per request.

A route whose answer is a query (a report over counters) is compared with a bare route
that also runs that query: ``--query FILE --database URL`` (a SQLite file path or a
PostgreSQL URL) runs the raw SQL through the bare driver on every request before
answering the fixed bytes, so the ratio is the project's work beyond the SQL itself.
"""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, Response, get

from bench._common import raw_connection
from server.http_server import SharedSocketServer, supervise


def raw_query(database: str, query: str) -> Callable[[], None]:
    """Run ``query`` on ``database`` through the bare driver; the connection is opened on
    first use, in the process that serves (after the fork)."""
    conn: Any = None

    def run() -> None:
        nonlocal conn
        if conn is None:
            conn = raw_connection(database)
        conn.execute(query).fetchall()

    return run


def make_app(body: bytes, content_type: str, work: Callable[[], None] | None = None
             ) -> Litestar:
    @get(["/", "/{path:path}"], sync_to_thread=False)
    def answer() -> Response[bytes]:
        if work is not None:
            work()
        return Response(body, media_type=content_type)

    return Litestar(route_handlers=[answer], openapi_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--query", help="a file of raw SQL to run on every request")
    parser.add_argument("--database", help="the SQLite path or PostgreSQL URL of --query")
    args = parser.parse_args()
    work = (raw_query(args.database, Path(args.query).read_text(encoding="utf-8"))
            if args.query and args.database else None)
    app = make_app(Path(args.body).read_bytes(), args.content_type, work)
    if args.processes == 1:
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning",
                    access_log=False)
        return
    # as many processes on one socket as the project's serve --processes, forked the same
    # way (server.http_server.run_processes), so the ratio compares like with like
    sock = socket.create_server(("127.0.0.1", args.port), backlog=2048)
    children = []
    for _ in range(args.processes):
        pid = os.fork()
        if pid == 0:
            try:
                SharedSocketServer(uvicorn.Config(app, log_level="warning",
                                                  access_log=False)).run(sockets=[sock])
            finally:
                os._exit(0)
        children.append(pid)
    sock.close()
    raise SystemExit(supervise(children))


if __name__ == "__main__":
    main()
