"""Bearer-token authentication and per-route scopes.

Authentication runs as middleware on every path but the health checks; the scope guard sits
on the /api router and fails closed: a route that forgets to declare a scope is refused.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    TooManyRequestsException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from gateway.model.client import Client, Scope
from gateway.security.clients import authenticate
from gateway.security.throttle import FailureThrottle

SECURITY_SCHEME = "bearer"


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        throttle: FailureThrottle = connection.app.state.auth_throttle
        address = connection.client.host if connection.client else "unknown"
        wait = throttle.retry_after(address)
        if wait is not None:
            raise TooManyRequestsException(
                "too many failed authentications from this address; try again later",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            throttle.failed(address)
            raise NotAuthorizedException("send a bearer token in the Authorization header")
        store = connection.app.state.store
        client = await anyio.to_thread.run_sync(authenticate, store, token)
        if client is None:
            throttle.failed(address)
            raise NotAuthorizedException("the token is unknown, expired or revoked")
        return AuthenticationResult(user=client, auth=None)


def scope_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    needed = handler.opt.get("scope")
    if needed is None:
        raise PermissionDeniedException("this route declares no scope and is closed")
    client: Client = connection.user
    if needed not in client.scopes:
        raise PermissionDeniedException(f"this operation needs the {needed} scope")


def json_body_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """A body sent to a JSON route must say it is JSON: a form or a file posted by mistake
    is refused instead of being read as something it is not. Routes that take other media
    (attendance feeds) say so with ``opt={"media": "any"}``."""
    if handler.opt.get("media") == "any":
        return
    if connection.scope.get("method") not in {"POST", "PUT", "PATCH"}:
        return
    if connection.headers.get("content-length", "0") in {"", "0"}:
        return
    media = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise HTTPException(
            status_code=415,
            detail=f"send application/json, not {media or 'a body without a content type'}",
        )


def scoped(scope: Scope) -> dict[str, Any]:
    """Route keyword arguments declaring ``scope`` to the guard and to the OpenAPI document."""
    return {"opt": {"scope": scope}, "security": [{SECURITY_SCHEME: [scope]}]}
