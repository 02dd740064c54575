"""Every error answer is an RFC 9457 problem-details body (application/problem+json).

One place turns errors into answers, and one table decides them: the status and title of
every problem type come from ``core.problems.CATALOGUE``. A ``core.errors.WaterOpsError``
answers its own row (``code``), Litestar's HTTP exceptions the row of their status
(``HTTP_STATUS_CODES``; a body that fails decoding is ``validation-failed``), and anything
else is ``internal-error`` with a generic detail after the traceback is logged.

Litestar's ``ProblemDetailsPlugin`` is not used: it converts HTTP exceptions to bodies but
has no view of our catalogue rows, the extension members of domain errors or the
``Retry-After``/``WWW-Authenticate`` headers, so the two handlers below would remain anyway.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from core.errors import WaterOpsError
from core.problems import CATALOGUE, HTTP_STATUS_CODES, ProblemType
from core.time import EVENT_YEARS

PROBLEM_JSON: Final = "application/problem+json"
#: Retry-After of a 429 whose cause names no wait of its own
DEFAULT_RETRY_AFTER_S: Final = 60
log = logging.getLogger("waterops.problems")


def _base(request: Request[Any, Any, Any]) -> str:
    settings = request.app.state.get("settings")
    return str(getattr(settings, "problem_base_url", "about:blank")).rstrip("/")


def problem(request: Request[Any, Any, Any], code: str, detail: str,
            extra: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    """The problem answer of catalogue row ``code``: its status and title, our detail."""
    row: ProblemType = CATALOGUE[code]
    body: dict[str, Any] = {
        "type": f"{_base(request)}/{row.code}",
        "title": row.title,
        "status": row.status,
        "detail": detail,
        "instance": request.url.path,
    }
    for key, value in (extra or {}).items():
        if key not in body:
            body[key] = value
    if row.status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="waterops"', **(headers or {})}
    if row.status == 429:
        # every 429 says when to come back (RFC 9110 §10.2.3), in whole seconds
        wait = body.get("retry_after_s")
        headers = {"Retry-After": str(int(wait) if isinstance(wait, int | float)
                                      else DEFAULT_RETRY_AFTER_S), **(headers or {})}
    return Response(body, status_code=row.status, media_type=PROBLEM_JSON, headers=headers)


def http_exception_handler(request: Request[Any, Any, Any],
                           exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code = HTTP_STATUS_CODES.get(status, "bad-request" if status < 500 else "internal-error")
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException):
        code = "validation-failed"
        extra["errors"] = exc.extra if exc.extra else []
    return problem(request, code, str(exc.detail), extra, dict(exc.headers or {}) or None)


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, WaterOpsError) and exc.code != "internal-error":
        extra = dict(exc.extra)
        if not extra:
            extra = {
                k: v for k, v in vars(exc).items()
                if not k.startswith("_") and k not in ("detail", "args", "extra")
                and isinstance(v, str | int | float | bool | list | dict | type(None))
            }
        wait = getattr(exc, "retry_after_s", None)
        if "retry_after_s" not in extra and isinstance(wait, int | float):
            extra["retry_after_s"] = wait
        return problem(request, exc.code, str(exc.detail or exc), extra)
    if isinstance(exc, OverflowError):
        # date arithmetic past datetime's range can only come from an extreme input time
        return problem(request, "time-out-of-range", str(exc),
                       {"accepted_years": list(EVENT_YEARS)})
    if isinstance(exc, RecursionError):
        return problem(request, "too-deeply-nested",
                       "the request body is nested deeper than the service accepts")
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, "internal-error",
                   "The server failed to handle this request; it has been logged.")
