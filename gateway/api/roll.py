"""/api/v1/roll: schools' admission-register returns (SI 2024/208), deletions and additions."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency

from gateway.api.auth import scoped
from gateway.api.deps import ClientRequest
from gateway.model.roll import RollChangeReport
from gateway.roll.returns import receive_returns
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store


class RollController(Controller):
    path = "/roll"
    tags = ["roll"]

    @post(
        "/deletions",
        operation_id="receive_roll_deletions",
        opt={"scope": "attendance:write", "media": "any"},  # JSON, or a CTF as XML
        security=scoped("attendance:write")["security"],
    )
    async def deletions(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        state: State,
    ) -> Response[RollChangeReport]:
        """Pupils deleted from a school's admission register (contracts/roll): a JSON array,
        or a Common Transfer File of leavers as ``application/xml``. A deletion with no
        destination school, on a ground that may leave the child missing education, opens an
        enquiry (a case of kind ``cme_enquiry``). 201; 200 when every return was already held."""
        return await self._receive(request, store, pack, state.roll_readers["deletions"])

    @post("/additions", operation_id="receive_roll_additions", **scoped("attendance:write"))
    async def additions(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        state: State,
    ) -> Response[RollChangeReport]:
        """Pupils added to a school's admission register: each closes the child's open
        enquiry into missing education, where its status allows."""
        return await self._receive(request, store, pack, state.roll_readers["additions"])

    async def _receive(
        self, request: ClientRequest, store: Store, pack: PolicyPack, reader: Any
    ) -> Response[RollChangeReport]:
        body = await request.body()
        content_type = request.headers.get("content-type", "application/json")
        report = await anyio.to_thread.run_sync(
            receive_returns, store, body, content_type, reader, request.user, pack
        )
        fresh = any(not outcome.duplicate for outcome in report.outcomes)
        return Response(report, status_code=201 if fresh else 200)
