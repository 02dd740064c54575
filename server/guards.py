"""Authentication (device bearer tokens) and the one role guard.

Routes declare ``opt={"roles": {...}}``; ``requires_role`` checks the caller's role
against it. Scope rules (which crew sees which order) are domain functions in the
services, so they are unit-tested without HTTP.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.accounts.model import Principal


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Resolves ``Authorization: Bearer <token>`` to a Principal; 401 otherwise."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]
                                   ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("a device bearer token is required")
        services = connection.app.state["services"]
        principal = services.accounts.authenticate(token.strip())
        if principal is None:
            raise NotAuthorizedException("unknown or revoked device token")
        return AuthenticationResult(user=principal, auth=token)


def requires_role(connection: ASGIConnection[Any, Any, Any, Any],
                  route_handler: BaseRouteHandler) -> None:
    roles = route_handler.opt.get("roles")
    if roles is None:
        return
    principal: Principal = connection.user
    if str(principal.role) not in {str(r) for r in roles}:
        raise PermissionDeniedException(
            f"this action needs one of the roles: {', '.join(sorted(map(str, roles)))}"
        )
