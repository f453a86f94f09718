"""Security headers on every answer: child data is never kept by a browser or a proxy
(``Cache-Control: no-store``), nothing is sniffed into another type (``nosniff``), and every
page carries a Content-Security-Policy that lets it render and nothing else.

The walk takes every operation in the gateway's own OpenAPI document, with a token, without
one and with a body it must refuse, so error answers (401, 404, 422...) are checked as well as
successes."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import Store
from tests.api.conftest import Api

PERSONAL = ("/api/", "/fhir/")
BODY_METHODS = {"post", "put", "patch"}


def security_problems(response: httpx.Response) -> list[str]:
    """What is missing from one answer that carries (or could carry) a child's data."""
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    problems = []
    if response.headers.get("cache-control") != "no-store":
        problems.append(f"{where}: Cache-Control {response.headers.get('cache-control')!r}")
    if response.headers.get("x-content-type-options") != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options missing")
    if "frame-ancestors 'none'" not in response.headers.get("content-security-policy", ""):
        problems.append(f"{where}: no Content-Security-Policy forbidding framing")
    if len(response.headers.get_list("cache-control")) > 1:
        problems.append(f"{where}: Cache-Control given twice")
    return problems


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)


@pytest.fixture
def unthrottled(store: Store, database_url: str) -> Iterator[Api]:
    """The app with a failure throttle the walk's hundred unauthenticated calls stay under."""
    settings = Settings(database_url=database_url, auth_failures_per_minute=100_000)
    with TestClient(create_app(settings, store, logging=False)) as client:
        yield Api(client, store)


def test_every_api_and_fhir_answer_is_no_store_and_nosniff(unthrottled: Api) -> None:
    api = unthrottled
    document = api.client.get("/schema/openapi.json", headers=api.token()).json()
    token = api.token()
    answers: list[httpx.Response] = []
    operations = [
        (path, method)
        for path, item in document["paths"].items()
        if path.startswith(PERSONAL)
        for method in item
    ]
    assert len(operations) >= 50
    for path, method in operations:
        url = concrete(path)
        answers.append(api.client.request(method, url))  # no token: 401
        if method in BODY_METHODS:
            answers.append(api.client.request(method, url, headers=token, json={}))
            answers.append(
                api.client.request(method, url, headers=token, json={"unexpected": [1, 2]})
            )
        else:
            answers.append(api.client.request(method, url, headers=token))
    # Unknown routes, wrong methods and refused media under both prefixes.
    answers += [
        api.client.get("/api/v1/no-such-thing", headers=token),
        api.client.get("/fhir/R4/NoSuchResource", headers=token),
        api.client.delete("/api/v1/cases", headers=token),
        api.client.post("/api/v1/cases", headers=token, content=b"a=b"),
    ]
    statuses = {answer.status_code for answer in answers}
    assert {200, 401, 404, 405, 415, 422} <= statuses, statuses
    problems = [problem for answer in answers for problem in security_problems(answer)]
    assert problems == []


def test_a_childs_record_is_no_store_with_the_record_in_the_body(api: Api) -> None:
    headers = api.token()
    child = {
        "identifiers": {"upn": "B801200005001"},
        "name": {"given": "Sam", "family": "Example"},
        "date_of_birth": "2014-03-09",
        "home_la": "925",
        "school_urn": "120456",
    }
    created = api.client.post("/api/v1/children", headers=headers, json=child)
    assert created.status_code == 201
    read = api.client.get(f"/api/v1/children/{created.json()['id']}", headers=headers)
    assert read.json()["name"]["family"] == "Example"
    assert security_problems(created) + security_problems(read) == []
    assert read.headers["referrer-policy"] == "no-referrer"
    assert read.headers["x-frame-options"] == "DENY"


def test_errors_outside_the_api_are_no_store_too(api: Api) -> None:
    for response in (
        api.client.get("/metrics"),  # 401
        api.client.get("/no-such-page"),  # 404
        api.client.get("/schema/openapi.json"),  # 401
    ):
        assert response.status_code >= 400
        assert security_problems(response) == []


def test_a_throttled_guess_is_no_store(api: Api) -> None:
    guesses = [
        api.client.get("/api/v1/cases", headers={"Authorization": "Bearer s19_guess"})
        for _ in range(21)
    ]
    assert guesses[-1].status_code == 429
    assert guesses[-1].json()["status"] == 429
    assert security_problems(guesses[-1]) == []


def test_health_answers_are_nosniff(api: Api) -> None:
    response = api.client.get("/health/live")
    assert response.json() == {"status": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"  # a cached "live" would be a lie


def test_the_board_report_has_a_csp_naming_its_one_inline_style(api: Api) -> None:
    response = api.client.get(
        "/api/v1/reports/sla",
        params={"from": "2025-09-01", "to": "2025-12-31", "format": "html"},
        headers=api.token("reports:read"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert security_problems(response) == []
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    [style] = re.findall(r"<style>(.*?)</style>", response.text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy["style-src"] == [f"'sha256-{digest}'"]
    assert "script-src" not in policy  # no script at all: default-src 'none' applies
    assert "<script" not in response.text
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]


def test_every_html_answer_has_a_csp(api: Api) -> None:
    token = api.token()
    for path in ("/schema/no-such-page", "/schema", "/schema/swagger"):
        response = api.client.get(path, headers=token)
        assert response.headers["content-type"].startswith("text/html"), path
        policy = directives(response.headers["content-security-policy"])
        assert policy["frame-ancestors"] == ["'none'"], path
        assert "'unsafe-inline'" not in response.headers["content-security-policy"], path
        assert "'unsafe-eval'" not in response.headers["content-security-policy"], path


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} given twice"
        parsed[name] = values
    return parsed
