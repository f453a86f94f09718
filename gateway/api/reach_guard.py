"""Row-level scoping on every route that names a row in its path.

A route naming a child, a case, a placement or an advice request is checked here, before its
handler runs, against the caller's reach (gateway/security/reach.py): a bound client asking
for a row outside it gets the same 404 as for a row that does not exist. Being on the router,
a route added later is covered without remembering to be.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from gateway.errors import NotFound
from gateway.model.client import Client
from gateway.security.reach import reaches_case, reaches_child
from gateway.store.schema import advice_requests, placements
from gateway.store.unit_of_work import Store, UnitOfWork

# Path parameters naming a row that belongs to a child, and how the row is named in a 404.
ROW_PARAMETERS = {
    "child_id": "child",
    "case_id": "case",
    "placement_id": "placement",
    "request_id": "advice request",
}


async def reach_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    client: Client = connection.user
    if not client.bound:
        return
    named = {k: v for k, v in connection.path_params.items() if k in ROW_PARAMETERS}
    if not named:
        return
    store: Store = connection.app.state.store
    out_of_reach = await anyio.to_thread.run_sync(_first_out_of_reach, store, client, named)
    if out_of_reach is not None:
        parameter, value = out_of_reach
        raise NotFound(f"no {ROW_PARAMETERS[parameter]} {value}")


def _first_out_of_reach(
    store: Store, client: Client, named: dict[str, str]
) -> tuple[str, str] | None:
    with store.unit_of_work(read_only=True) as uow:
        for parameter, value in named.items():
            if not _reaches(uow, client, parameter, value):
                return parameter, value
    return None


def _reaches(uow: UnitOfWork, client: Client, parameter: str, value: str) -> bool:
    if parameter == "child_id":
        return reaches_child(uow, client, value)
    if parameter == "case_id":
        return reaches_case(uow, client, value)
    table = placements if parameter == "placement_id" else advice_requests
    case_id = uow.connection.execute(sa.select(table.c.case_id).where(table.c.id == value)).scalar()
    # A row that does not exist is answered here too, before the body is read: a bound client
    # sees the same 404 whether the id was never issued or names another school's row.
    return case_id is not None and reaches_case(uow, client, case_id)
