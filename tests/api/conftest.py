from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.model.client import ALL_SCOPES, Scope
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.store import Store


class Api:
    """A running app on the test's store, and tokens with whatever scopes a test needs."""

    def __init__(self, client: TestClient, store: Store) -> None:
        self.client = client
        self.store = store
        self._made = 0

    def token(self, *scopes: Scope) -> dict[str, str]:
        self._made += 1
        _, token = create_client(self.store, f"client-{self._made}", scopes or ALL_SCOPES)
        return {"Authorization": f"Bearer {token}"}

    def bound(self, *scopes: Scope, **bindings: tuple[str, ...]) -> dict[str, str]:
        """A client bound to schools, organisations or providers (gateway/security/reach.py)."""
        self._made += 1
        name = f"client-{self._made}"
        _, token = create_client(self.store, name, scopes, **bindings)
        return {"Authorization": f"Bearer {token}"}

    def mis(self, *schools: str) -> dict[str, str]:
        """A school MIS's client: it writes the registers of its own schools only."""
        return self.bound("attendance:write", schools=schools or ("120456",))


@pytest.fixture
def api(store: Store, database_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=database_url), store, logging=False)
    with TestClient(app) as client:
        yield Api(client, store)


Open = Callable[[str], Api]


@pytest.fixture
def authority(store: Store, database_url: str) -> Iterator[Open]:
    """Apps on the test's store under the policy pack each test names."""
    clients: list[TestClient[Any]] = []

    def open_app(policy: str) -> Api:
        app = create_app(Settings(database_url=database_url, policy=policy), store, logging=False)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Api(client, store)

    yield open_app
    for client in clients:
        client.__exit__(None, None, None)
