"""Every error answer is an RFC 9457 problem-details body (application/problem+json).

One place decides the status of each error: a domain exception carries ``code`` and
``http_status`` class attributes (see ``server.errors``; other packages follow the same
convention), Litestar's own HTTP exceptions keep their status, and anything else is a 500
with a generic detail after the traceback is logged.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from core.time import EVENT_YEARS, TimeRangeError

PROBLEM_JSON: Final = "application/problem+json"
#: Retry-After of a 429 whose cause names no wait of its own
DEFAULT_RETRY_AFTER_S: Final = 60
log = logging.getLogger("waterops.problems")

_HTTP_CODES: Final[dict[int, tuple[str, str]]] = {
    400: ("bad-request", "Malformed request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "You may not do this"),
    404: ("not-found", "No such resource"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("rule-violation", "The request breaks a rule"),
    429: ("too-many-requests", "Too many requests"),
}


def _base(request: Request[Any, Any, Any]) -> str:
    settings = request.app.state.get("settings")
    return str(getattr(settings, "problem_base_url", "about:blank")).rstrip("/")


def problem(request: Request[Any, Any, Any], status: int, code: str, title: str,
            detail: str, extra: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"{_base(request)}/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    for key, value in (extra or {}).items():
        if key not in body:
            body[key] = value
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def http_exception_handler(request: Request[Any, Any, Any],
                           exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code, title = _HTTP_CODES.get(status, ("http-error", "HTTP error"))
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException):
        code, title = "validation-failed", "The request body or parameters are invalid"
        extra["errors"] = exc.extra if exc.extra else []
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="waterops"')
    if status == 429:
        headers.setdefault("Retry-After", str(DEFAULT_RETRY_AFTER_S))
    return problem(request, status, code, title, str(exc.detail), extra, headers or None)


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    status = getattr(exc, "http_status", None)
    code = getattr(exc, "code", None)
    if isinstance(status, int) and isinstance(code, str):
        title = str(getattr(exc, "title", "") or _HTTP_CODES.get(status, ("", "Error"))[1])
        detail = str(getattr(exc, "detail", None) or exc)
        extra = dict((getattr(exc, "extra", None) or {}).items())
        if not extra:
            extra = {
                k: v for k, v in vars(exc).items()
                if not k.startswith("_") and k not in ("detail", "args")
                and isinstance(v, str | int | float | bool | list | dict | type(None))
            }
        headers = None
        if status == 429:
            # every 429 says when to come back (RFC 9110 §10.2.3), in whole seconds
            wait = extra.get("retry_after_s", getattr(exc, "retry_after_s", None))
            headers = {"Retry-After": str(int(wait) if isinstance(wait, int | float)
                                          else DEFAULT_RETRY_AFTER_S)}
        return problem(request, status, code, title, detail, extra, headers)
    if isinstance(exc, OverflowError):
        # date arithmetic past datetime's range can only come from an extreme input time
        return problem(request, 422, TimeRangeError.code, TimeRangeError.title, str(exc),
                       {"accepted_years": list(EVENT_YEARS)})
    if isinstance(exc, RecursionError):
        return problem(request, 400, "too-deeply-nested", "The request is nested too deeply",
                       "the request body is nested deeper than the service accepts")
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, "internal-error", "Internal server error",
                   "The server failed to handle this request; it has been logged.")
