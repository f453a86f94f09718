"""Every endpoint but the health checks needs a token; every API route needs its scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway.app import create_app
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.store import Store
from tests.api.conftest import Api


def assert_problem(response, status: int, title: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] == title
    return body


def test_health_is_open(api: Api) -> None:
    assert api.client.get("/health/live").json() == {"status": "ok"}
    ready = api.client.get("/health/ready")
    assert ready.status_code == 200
    # Without a token: up or down, and nothing of the backlog or the set-up.
    assert ready.json() == {"status": "ready"}
    assert api.client.get("/health/ready", headers=api.token("cases:read")).json() == {
        "status": "ready"
    }
    assert api.client.get(
        "/health/ready", headers={"Authorization": "Bearer s19_not-a-token"}
    ).json() == {"status": "ready"}
    detailed = api.client.get("/health/ready", headers=api.token("admin"))
    assert detailed.status_code == 200
    assert detailed.json() == {
        "status": "ready",
        "database": "ok",
        "migrations": "current",
        "outbox": {},
        "destinations_not_configured": {
            "mosaic": "GATEWAY_MOSAIC_URL",
            "nhs": "GATEWAY_NHS_FHIR_URL",
            "provider": "an adapter for the authority's provider channel",
            "school": "an adapter for the authority's school channel",
        },
    }


@pytest.mark.parametrize(
    "path", ["/api/v1/cases", "/api/v1/admin/deliveries", "/schema/openapi.json"]
)
def test_no_token_is_401_with_a_bearer_challenge(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert_problem(response, 401, "Unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_unknown_token_is_401(api: Api) -> None:
    response = api.client.get("/api/v1/cases", headers={"Authorization": "Bearer s19_guess"})
    assert_problem(response, 401, "Unauthenticated")


def test_revoked_and_expired_tokens_are_401(api: Api) -> None:
    headers = api.token("cases:read")
    assert api.client.get("/api/v1/cases", headers=headers).status_code == 200
    with api.store.unit_of_work() as uow:
        uow.clients.revoke("client-1", uow.now)
    assert_problem(api.client.get("/api/v1/cases", headers=headers), 401, "Unauthenticated")

    past = api.store.clock.now() - dt.timedelta(seconds=1)
    _, token = create_client(api.store, "expired", ["cases:read"], expires_at=past)
    expired = {"Authorization": f"Bearer {token}"}
    assert_problem(api.client.get("/api/v1/cases", headers=expired), 401, "Unauthenticated")


def test_missing_scope_is_403_naming_the_scope(api: Api) -> None:
    headers = api.token("reports:read")
    body = assert_problem(api.client.get("/api/v1/cases", headers=headers), 403, "Forbidden")
    assert body["detail"] == "this operation needs the cases:read scope"
    body = assert_problem(
        api.client.post("/api/v1/cases", headers=api.token("cases:read"), json={}), 403, "Forbidden"
    )
    assert "cases:write" in body["detail"]


def test_every_api_operation_declares_and_enforces_a_scope(api: Api) -> None:
    document = api.client.get("/schema/openapi.json", headers=api.token()).json()
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
    ]
    assert len(operations) >= 10
    wrong_scope = api.token("nhs")  # no API route in the spine takes this scope
    for path, method, op in operations:
        [requirement] = op["security"]
        [scope] = requirement["bearer"]
        concrete = path.replace("{case_id}", "x").replace("{child_id}", "x")
        concrete = concrete.replace("{delivery_id}", "x")
        response = api.client.request(method.upper(), concrete, headers=wrong_scope, json={})
        assert response.status_code == 403, (method, path)
        assert scope in response.json()["detail"]
    handlers = {
        id(handler): handler
        for route in api.client.app.routes
        if route.path.startswith("/api/")
        for handler in getattr(route, "route_handlers", [])
        if "OPTIONS" not in handler.http_methods
    }
    assert len(handlers) == len(operations)  # the document shows every API route
    assert all(handler.opt.get("scope") for handler in handlers.values())


# --- failed-login throttle ----------------------------------------------------------------------

GUESSES = 20  # Settings.auth_failures_per_minute


def bearer(token: str, source: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if source is not None:
        headers["X-Forwarded-For"] = source
    return headers


def assert_throttled(response) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(response, 429, "Too Many Requests")
    assert body["detail"].startswith("too many failed authentications")
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_a_valid_token_is_never_refused_by_the_throttle(api: Api) -> None:
    admin = api.token("admin")
    for n in range(GUESSES):
        guessed = api.client.get("/api/v1/cases", headers=bearer(f"s19_guess-{n}"))
        assert_problem(guessed, 401, "Unauthenticated")
    assert_throttled(api.client.get("/api/v1/cases", headers=bearer("s19_guess-more")))
    # The address is throttled, and the admin from that same address is served all the same.
    served = api.client.get("/api/v1/admin/deliveries", headers=admin)
    assert served.status_code == 200, served.text
    assert served.json()["items"] == []
    assert api.client.get("/health/ready", headers=admin).json()["database"] == "ok"
    # A success forgets nothing: the next wrong token from there is still refused, and neither
    # a missing token nor the wrong scheme gets round it.
    assert_throttled(api.client.get("/api/v1/cases", headers=bearer("s19_guess-again")))
    assert_throttled(api.client.get("/api/v1/cases"))
    assert_throttled(api.client.get("/api/v1/cases", headers={"Authorization": "Basic eDp5"}))


def test_tokens_tried_on_readiness_count_as_failures(api: Api) -> None:
    for n in range(GUESSES):
        tried = api.client.get("/health/ready", headers=bearer(f"s19_guess-{n}"))
        assert tried.json() == {"status": "ready"}
    # Throttled there, readiness still says only up or down, and the API refuses the next guess.
    assert api.client.get("/health/ready", headers=bearer("s19_guess-x")).json() == {
        "status": "ready"
    }
    assert_throttled(api.client.get("/api/v1/cases", headers=bearer("s19_guess-y")))
    # Probes carry no token: they are never counted, and an admin is still given the details.
    assert api.client.get("/health/ready").json() == {"status": "ready"}
    assert api.client.get("/health/ready", headers=api.token("admin")).json()["migrations"] == (
        "current"
    )


@pytest.fixture
def behind_a_proxy(store: Store, database_url: str) -> Iterator[TestClient[Any]]:
    """The app behind a proxy it trusts, as `gateway serve` runs it with
    GATEWAY_TRUSTED_PROXIES: each request comes from the address its X-Forwarded-For names."""
    app = create_app(Settings(database_url=database_url), store, logging=False)
    with TestClient(ProxyHeadersMiddleware(app, trusted_hosts=["testclient"])) as client:  # type: ignore[arg-type]
        yield client


def test_one_wrong_token_is_throttled_from_whichever_address_sends_it(
    behind_a_proxy: TestClient[Any], store: Store
) -> None:
    client = behind_a_proxy
    leaked = "s19_a-revoked-token-still-in-a-script"
    for n in range(GUESSES):
        tried = client.get("/api/v1/cases", headers=bearer(leaked, f"203.0.113.{n}"))
        assert_problem(tried, 401, "Unauthenticated")
    assert_throttled(client.get("/api/v1/cases", headers=bearer(leaked, "198.51.100.7")))
    # The token is throttled, not the new address: another wrong token from there is a 401,
    # and a right one is served.
    assert_problem(
        client.get("/api/v1/cases", headers=bearer("s19_other", "198.51.100.7")),
        401,
        "Unauthenticated",
    )
    _, token = create_client(store, "reader", ("cases:read",))
    assert client.get("/api/v1/cases", headers=bearer(token, "198.51.100.7")).status_code == 200


def test_many_addresses_each_guessing_once_are_not_throttled(
    behind_a_proxy: TestClient[Any],
) -> None:
    for n in range(GUESSES + 5):
        tried = behind_a_proxy.get("/api/v1/cases", headers=bearer(f"s19_g{n}", f"192.0.2.{n}"))
        assert_problem(tried, 401, "Unauthenticated")
