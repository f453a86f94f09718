"""Every endpoint but the health checks needs a token; every API route needs its scope."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.security.clients import create_client
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
