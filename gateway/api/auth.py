"""Bearer-token authentication and per-route scopes.

Authentication runs as middleware on every path but the health checks; the scope guard sits
on the /api router and fails closed: a route that forgets to declare a scope is refused.
"""

from __future__ import annotations

import math
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
from gateway.security.throttle import FailureThrottle, source_key, token_key
from gateway.store.unit_of_work import Store

SECURITY_SCHEME = "bearer"


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        client, wait = await anyio.to_thread.run_sync(
            authenticate_bearer,
            connection.app.state.store,
            connection.app.state.auth_throttle,
            connection.client.host if connection.client else None,
            connection.headers.get("authorization", ""),
        )
        if client is not None:
            return AuthenticationResult(user=client, auth=None)
        if wait is not None:
            raise TooManyRequestsException(
                "too many failed authentications from this address or with this token; "
                "try again later",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        raise NotAuthorizedException(
            "the token is unknown, expired or revoked"
            if bearer_token(connection.headers.get("authorization", ""))
            else "send a bearer token in the Authorization header"
        )


def authenticate_bearer(
    store: Store, throttle: FailureThrottle, host: str | None, authorization: str
) -> tuple[Client | None, float | None]:
    """The client an Authorization header's bearer token names, or None and, when the caller
    is to be refused 429, the seconds it is to wait.

    The token is looked up before the throttle is asked, so a right token is always served,
    whoever else has failed from its address. A missing or wrong one is a failure of the
    source address and of the token presented; when either has failed too often already, the
    caller is told to wait whether or not this one would have been right, so 401 and 429 say
    nothing a 200 would not."""
    keys = [source_key(host)]
    if token := bearer_token(authorization):
        client = authenticate(store, token)
        if client is not None:
            return client, None
        keys.append(token_key(token))
    return None, throttle.failed(*keys)


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


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
