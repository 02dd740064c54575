"""Bounds on what a request body may be, checked before anything decodes it.

A body nested ten thousand levels deep made msgspec (and Python) raise RecursionError,
a 500 on five endpoints; a value nested a few hundred levels that did decode could be
stored and break every later read of its row. Nothing in our wire formats nests deeper
than a GeoJSON polygon inside a feature (about 8 levels), so JSON bodies deeper than
``MAX_JSON_DEPTH`` are refused with a 400 problem before decoding. The depth is measured
in linear time with numpy over the bracket characters outside strings.
"""

from __future__ import annotations

import re
from typing import Any, Final

import numpy as np
from litestar import Request

from core.errors import WaterOpsError

MAX_JSON_DEPTH: Final = 64

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_KEEP = bytes(range(256)).translate(None, b"[]{}")  # every byte but the brackets


class BodyTooDeepError(WaterOpsError):
    code = "too-deeply-nested"

    def __init__(self, depth: int) -> None:
        super().__init__(f"the body nests {depth} levels; at most {MAX_JSON_DEPTH} are accepted",
                         max_depth=MAX_JSON_DEPTH)


def json_depth(body: bytes) -> int:
    """The deepest array/object nesting of a JSON text (brackets inside strings ignored)."""
    brackets = _STRING.sub(b"", body).translate(None, _KEEP)
    if not brackets:
        return 0
    arr = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((arr == ord("[")) | (arr == ord("{")), 1, -1)
    return int(np.cumsum(steps, dtype=np.int64).max())


async def check_body_depth(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: refuse over-deep JSON bodies (the body is cached for later)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if "json" not in request.headers.get("content-type", ""):
        return
    depth = json_depth(await request.body())
    if depth > MAX_JSON_DEPTH:
        raise BodyTooDeepError(depth)
