"""Request id and one access-log line per request.

The access line carries the path without its query string: queries can hold a UPN or an NHS
number (``/children?upn=...``). The id comes from ``X-Request-Id`` when a caller sends a
sane one, so a request can be followed across systems.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.types.asgi_types import HTTPScope

log = structlog.get_logger("gateway.access")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        http_scope: HTTPScope = scope
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        offered = headers.get("x-request-id", "")
        request_id = offered if _SANE_ID.match(offered) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Raised before a response started (authentication, body limits): the outer
            # exception handler answers, and add_request_id_header stamps the id on it.
            status = getattr(exc, "status_code", 500)
            raise
        finally:
            user: Any = scope.get("user")
            log.info(
                "request",
                method=http_scope["method"],
                # The route's template, never the path as sent: a path can carry a name or a
                # UPN typed where an id belongs. A path no route matched is not logged.
                path=scope.get("path_template") or "(no route)",
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                client=getattr(user, "name", None),
            )
            structlog.contextvars.unbind_contextvars("request_id")


async def add_request_id_header(message: Message, scope: Scope) -> None:
    """``before_send`` hook: also reaches responses made by Litestar's own error handling."""
    if message["type"] != "http.response.start":
        return
    request_id = scope.get("state", {}).get("request_id")
    headers = list(message.get("headers", []))
    if request_id and not any(name == b"x-request-id" for name, _ in headers):
        headers.append((b"x-request-id", str(request_id).encode()))
        message["headers"] = headers
