"""/api/v1/portal/notifications: the Children's Services Portal's webhook."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency

from gateway.api.auth import scoped
from gateway.api.deps import ClientRequest
from gateway.intake.portal import NotificationOutcome, receive_notification
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store


class PortalController(Controller):
    path = "/portal"
    tags = ["portal"]

    @post("/notifications", operation_id="receive_portal_notification", **scoped("portal:write"))
    async def receive(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        state: State,
    ) -> Response[NotificationOutcome]:
        """A notification as the portal sends it (contracts/portal/notification.schema.json).
        201 with the case it opened and the routing decision; 200 when the same notice was
        already received and it was attached to that case instead."""
        body = await request.body()
        reader: Any = state.portal_reader
        outcome = await anyio.to_thread.run_sync(
            receive_notification, store, body, reader, request.user, pack
        )
        return Response(outcome, status_code=200 if outcome.duplicate else 201)
