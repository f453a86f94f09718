"""What handlers receive: the store and the calling client."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State

from gateway.model.client import Client
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store

ClientRequest = Request[Client, Any, State]


def provide_store(state: State) -> Store:
    store: Store = state.store
    return store


def provide_pack(state: State) -> PolicyPack:
    pack: PolicyPack = state.pack
    return pack


def endpoint_of(request: ClientRequest) -> str:
    """The route template, not the concrete path: audit rows then group by endpoint."""
    return f"{request.method} {request.scope.get('path_template') or request.url.path}"
