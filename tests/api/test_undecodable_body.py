"""Invalid UTF-8 inside a JSON string is the caller's fault: every route that reads a JSON
body answers 400 problem+json naming the byte, never a 500 (gateway/api/request.py)."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from gateway.app import create_app
from gateway.settings import Settings
from tests.api.conftest import Api

BODY = b'{"a":"\xff"}'  # the bad byte is the sixth


def _json_routes() -> list[tuple[str, str]]:
    app: Litestar = create_app(Settings(database_url="sqlite://"), logging=False)
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if (
                not isinstance(handler, HTTPRouteHandler)
                or "data" not in handler.parsed_fn_signature.parameters
            ):
                continue
            for method in handler.http_methods & {"POST", "PUT", "PATCH"}:
                if not route.path.startswith("/fhir"):
                    found.add((method, re.sub(r"\{[^}]+\}", "x", route.path)))
    return sorted(found)


ROUTES = _json_routes()


def test_the_json_routes_are_found() -> None:
    assert ("POST", "/api/v1/cases") in ROUTES
    assert ("PATCH", "/api/v1/children/x") in ROUTES
    assert len(ROUTES) >= 12


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_invalid_utf_8_in_a_json_string_is_a_400_naming_the_byte(
    api: Api, method: str, path: str
) -> None:
    headers = {**api.token(), "content-type": "application/json"}
    answer = api.client.request(method, path, headers=headers, content=BODY)
    assert answer.status_code == 400, (method, path, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["detail"] == "the body is not valid UTF-8 at byte 6"
    assert [e["field"] for e in problem["errors"]] == ["body"]
