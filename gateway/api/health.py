"""Liveness and readiness, open to all (load balancers and Kubernetes probes carry no token)."""

from __future__ import annotations

import anyio.to_thread
import msgspec
from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy.exc import SQLAlchemyError

from gateway.store.migrate import pending_revisions
from gateway.store.unit_of_work import Store


class Live(msgspec.Struct, frozen=True):
    status: str


class Ready(msgspec.Struct, kw_only=True, frozen=True):
    status: str
    database: str
    migrations: str
    outbox: dict[str, dict[str, int]]


@get("/health/live", operation_id="health_live", exclude_from_auth=True, tags=["health"])
async def live() -> Live:
    return Live(status="ok")


@get("/health/ready", operation_id="health_ready", exclude_from_auth=True, tags=["health"])
async def ready(state: State) -> Response[Ready]:
    store: Store = state.store
    return await anyio.to_thread.run_sync(_readiness, store)


def _readiness(store: Store) -> Response[Ready]:
    try:
        behind = pending_revisions(store.engine)
        with store.unit_of_work(read_only=True) as uow:
            backlog = uow.outbox.backlog()
    except SQLAlchemyError:
        body = Ready(status="unavailable", database="unreachable", migrations="unknown", outbox={})
        return Response(body, status_code=503)
    body = Ready(
        status="unavailable" if behind else "ready",
        database="ok",
        migrations="pending" if behind else "current",
        outbox=backlog,
    )
    return Response(body, status_code=503 if behind else 200)
