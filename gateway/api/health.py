"""Liveness and readiness, open to all (load balancers and Kubernetes probes carry no token).

Without a token readiness says only up or down: the backlog and which destinations are not
configured are for the people who run the gateway, so they need an admin token.
"""

from __future__ import annotations

import anyio.to_thread
import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from sqlalchemy.exc import SQLAlchemyError

from gateway.api.auth import authenticate_bearer, bearer_token
from gateway.delivery.setup import unconfigured
from gateway.settings import Settings
from gateway.store.migrate import pending_revisions
from gateway.store.unit_of_work import Store


class Live(msgspec.Struct, frozen=True):
    status: str


class Ready(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    status: str
    # With an admin token only:
    database: str | None = None
    migrations: str | None = None
    outbox: dict[str, dict[str, int]] | None = None
    # Destinations the deployment cannot reach: their messages wait, undelivered (or, in
    # development, are only logged), with what each lacks.
    destinations_not_configured: dict[str, str] | None = None


@get("/health/live", operation_id="health_live", exclude_from_auth=True, tags=["health"])
async def live() -> Live:
    return Live(status="ok")


@get("/health/ready", operation_id="health_ready", exclude_from_auth=True, tags=["health"])
async def ready(request: Request[object, object, State], state: State) -> Response[Ready]:
    """Up (200) or down (503). With an admin token the body also gives the database, the
    schema, the outbox backlog and the destinations that are not configured."""
    store: Store = state.store
    detailed = await anyio.to_thread.run_sync(_is_admin, store, request)
    return await anyio.to_thread.run_sync(_readiness, store, state.settings, detailed)


def _is_admin(store: Store, request: Request[object, object, State]) -> bool:
    """Whether the request carries an admin token. A wrong one counts as a failed
    authentication, as on the API; a caller throttled there gets the short answer, the same
    as a wrong token's. Probes send no token and are never counted."""
    authorization = request.headers.get("authorization", "")
    if not bearer_token(authorization):
        return False
    host = request.client.host if request.client else None
    try:
        client, _ = authenticate_bearer(store, request.app.state.auth_throttle, host, authorization)
    except SQLAlchemyError:
        return False
    return client is not None and "admin" in client.scopes


def _readiness(store: Store, settings: Settings, detailed: bool) -> Response[Ready]:
    try:
        behind = pending_revisions(store.engine)
        with store.unit_of_work(read_only=True) as uow:
            backlog = uow.outbox.backlog() if detailed else {}
    except SQLAlchemyError:
        down = Ready(status="unavailable")
        if detailed:
            down = Ready(
                status="unavailable", database="unreachable", migrations="unknown", outbox={}
            )
        return Response(down, status_code=503)
    status = "unavailable" if behind else "ready"
    body = Ready(status=status)
    if detailed:
        body = Ready(
            status=status,
            database="ok",
            migrations="pending" if behind else "current",
            outbox=backlog,
            destinations_not_configured=unconfigured(settings),
        )
    return Response(body, status_code=503 if behind else 200)
