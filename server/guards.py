"""Authentication (device bearer tokens), the one policy guard, and the start-up check.

Every route names its policy: ``@post("/x", opt={"policy": "outage.start"})``. The
policies live in ``server.authz``; ``BearerTokenMiddleware`` checks the caller's role
against the named one right after authenticating it (``check_policy``), and services
check the record's scope with the same module. Why in the middleware and not a route
guard: Litestar hands every guard call a copy of the route handler, a cost per request
on every route (issue 19); the check is the same, made at the same point (before the
body is read or the handler runs), and a route naming no policy is refused (403).
``check_route_policies`` runs when the app is built: a route with no policy, or with a
name ``server.authz.POLICIES`` does not know, stops the service from starting (deny by
default). Public routes name a ``public.*`` policy; they are throttled per client address
by ``public_throttle`` instead of needing a token.

The browser console signs in once and then sends a session cookie instead of the token
(``server.console.sessions``); such requests must carry the session's CSRF token on writes.

Every authentication read (token or session) is awaited on the event loop
(``server.loopreads``), never a blocking statement there: on PostgreSQL a blocking round
trip held every other request of the process for its length (issue 19). It is read anew
on every request, so a token or session revoked by any process is refused on its next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.routes import BaseRoute
from litestar.types import ASGIApp

from server.accounts.model import Principal
from server.authz import POLICIES, Scope, authorize
from server.console.sessions import COOKIE, CSRF_HEADER, csrf_ok

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: a route's ``opt`` key naming the ``list_versions`` row its handler reads (issue 19)
LIST_VERSION_OPT: Final = "list_version"
#: the request state key under which authentication leaves that version, as a 1-tuple
LIST_VERSION_STATE: Final = "waterops.list_version"
#: the request state key under which a console session's authentication leaves its CSRF
#: token (``server.routes.console``'s "who am I" answers it without a second read)
SESSION_CSRF_STATE: Final = "waterops.session_csrf"

#: handlers Litestar itself adds (the OpenAPI documents under /schema)
_FRAMEWORK_PREFIXES = ("/schema",)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


class MissingPolicyError(RuntimeError):
    """A route names no policy (or an unknown one): the app refuses to start."""


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The address per-address limits count: the socket's peer, or, when that peer is a
    trusted reverse proxy (``Settings.trusted_proxies``), the last X-Forwarded-For entry
    (the one the proxy itself appended; earlier ones are the client's to forge)."""
    peer = connection.client.host if connection.client else "unknown"
    settings = connection.app.state.get("settings")
    if settings is not None and peer in settings.trusted_proxies:
        forwarded = connection.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return peer


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Resolves ``Authorization: Bearer <token>`` (or the console's session cookie) to a
    Principal, 401 otherwise, then checks the route's policy for it (403; ``check_policy``).

    Every method is authenticated, OPTIONS too (``exclude_http_methods=()``): deny by
    default. Failed attempts count against the client address's unauthenticated budget,
    so a token cannot be guessed at line speed (429 with Retry-After past the budget).
    """

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, exclude_http_methods=())

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]
                                   ) -> AuthenticationResult:
        services = connection.app.state["services"]
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header and COOKIE in connection.cookies:
            found = await _from_session(connection, services, connection.cookies[COOKIE])
            check_policy(connection, found.user)
            return found
        if scheme.lower() != "bearer" or not token.strip():
            await _count_unauthenticated(connection)
            raise NotAuthorizedException("a device bearer token is required")
        principal = await _authenticate(connection, services, token.strip())
        if principal is None:
            await _count_unauthenticated(connection)
            raise NotAuthorizedException("unknown or revoked device token")
        check_policy(connection, principal)
        return AuthenticationResult(user=principal, auth=token)


def check_policy(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> None:
    """The role check of the route's policy (the scope is the service's job); a route
    that names none (Litestar's own OPTIONS answers) is refused: deny by default."""
    name = connection.scope["route_handler"].opt.get("policy")
    if name is None:
        raise PermissionDeniedException("this route names no authorization policy")
    authorize(principal, str(name))


async def _authenticate(connection: ASGIConnection[Any, Any, Any, Any], services: Any,
                        token: str) -> Principal | None:
    """The token's principal, awaited (``AccountService.authenticate_async``). A route
    whose ``opt`` names a list (``LIST_VERSION_OPT``) also gets that list's version, read
    in the same statement as the token (one round trip instead of two on PostgreSQL,
    issue 19) and left in the scope's state under ``LIST_VERSION_STATE`` for the handler
    (``server.routes.deps.list_version_read``)."""
    list_name = connection.scope["route_handler"].opt.get(LIST_VERSION_OPT)
    if list_name is None:
        found: Principal | None = await services.accounts.authenticate_async(token)
        return found
    read = await services.accounts.authenticate_reading_async(token, str(list_name))
    if read is None:
        return None
    principal: Principal = read[0]
    connection.state[LIST_VERSION_STATE] = (read[1],)
    return principal


async def _count_unauthenticated(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """One request without a valid token against its address's budget (429 past it).

    The budget is a row in the store shared by every process (``server.authz.throttle``);
    its write transaction runs in a worker thread, never on the event loop."""
    limiter = connection.app.state["services"].throttle.unauthenticated
    await anyio.to_thread.run_sync(limiter.hit, client_address(connection))


async def _from_session(connection: ASGIConnection[Any, Any, Any, Any], services: Any,
                        session_id: str) -> AuthenticationResult:
    """The console's cookie session (server.console.sessions); writes need the CSRF token,
    which is left in the request state (``SESSION_CSRF_STATE``) for the page to learn. A
    list route gets its list's version from the same statement, as with a token."""
    list_name = connection.scope["route_handler"].opt.get(LIST_VERSION_OPT)
    found = await services.sessions.resolve_async(
        session_id, None if list_name is None else str(list_name))
    if found is None:
        await _count_unauthenticated(connection)
        raise NotAuthorizedException("the console session has ended; sign in again")
    principal, csrf, version = found
    if connection.scope.get("method", "GET") not in SAFE_METHODS and not csrf_ok(
            csrf, connection.headers.get(CSRF_HEADER)):
        raise PermissionDeniedException("a write from the console needs its X-CSRF-Token")
    connection.state[SESSION_CSRF_STATE] = csrf
    if list_name is not None:
        connection.state[LIST_VERSION_STATE] = (version,)
    return AuthenticationResult(user=principal, auth=session_id)


async def public_throttle(connection: ASGIConnection[Any, Any, Any, Any],
                          _route_handler: BaseRouteHandler) -> None:
    """Public routes: a request budget per client address (429 with Retry-After)."""
    await _count_unauthenticated(connection)


def check_route_policies(routes: Iterable[BaseRoute], token_prefix: str,
                         public_prefix: str) -> None:
    """Raise ``MissingPolicyError`` naming every route without a valid policy.

    Routes under ``token_prefix`` (but not ``public_prefix``) need a token and a policy of
    a role; every other route has no token and needs a ``public.*`` policy.
    """
    problems: list[str] = []
    for route in routes:
        if route.path.startswith(_FRAMEWORK_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", set()))
            if methods <= {"OPTIONS", "HEAD"}:
                continue
            label = f"{'/'.join(sorted(methods))} {route.path}"
            name = handler.opt.get("policy")
            if name is None:
                problems.append(f"{label}: no opt['policy']")
                continue
            pol = POLICIES.get(str(name))
            tokened = _under(route.path, token_prefix) and not _under(route.path, public_prefix)
            if pol is None:
                problems.append(f"{label}: unknown policy {name!r}")
            elif tokened and pol.scope is Scope.PUBLIC:
                problems.append(f"{label}: public policy {name!r} on a route that needs a token")
            elif not tokened and pol.scope is not Scope.PUBLIC:
                problems.append(f"{label}: policy {name!r} needs a token but the route has "
                                "no authentication; use a public.* policy or mount it under "
                                f"{token_prefix}")
    if problems:
        raise MissingPolicyError("routes without a valid authorization policy (see "
                                 "server/authz/policies.py):\n  " + "\n  ".join(problems))
