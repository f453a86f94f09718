"""Least privilege, proven against the running app: every operation in the OpenAPI document
declares a scope and refuses a client without it; a school's MIS client sends feeds for its
own schools only; guessing tokens is throttled."""

from __future__ import annotations

import re
from typing import Any

from gateway.security.clients import create_client
from tests.api.conftest import Api
from tests.support import make_upn

SCOPES = (
    "cases:read",
    "cases:write",
    "attendance:write",
    "portal:write",
    "nhs",
    "reports:read",
    "admin",
)


def operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    document = api.client.app.openapi_schema.to_schema()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((method.upper(), path, operation))
    return found


def test_every_operation_declares_a_scope_and_refuses_a_client_without_it(api: Api) -> None:
    checked = 0
    for method, path, operation in operations(api):
        if path.startswith("/health/"):
            assert "security" not in operation or operation["security"] == [], path
            continue
        security = operation.get("security")
        assert security, f"{method} {path} declares no security"
        [needed] = [
            scope for requirement in security for scopes in requirement.values() for scope in scopes
        ]
        others = tuple(s for s in SCOPES if s != needed)
        headers = api.token(*others)  # every scope but the one this operation needs
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        answer = api.client.request(
            method,
            concrete,
            headers=headers | {"Content-Type": "application/json"},
            content=b"{}" if method in {"POST", "PUT", "PATCH"} else None,
        )
        assert answer.status_code == 403, f"{method} {path} answered {answer.status_code}"
        checked += 1
    assert checked >= 40


def test_a_schools_mis_client_sends_feeds_for_its_own_schools_only(api: Api) -> None:
    _, token = create_client(api.store, "wragby-mis", ("attendance:write",), schools=("120501",))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def feed(urn: str) -> bytes:
        return (
            f'[{{"school_urn": "{urn}", "upn": "{make_upn(1)}", "date": "2026-01-05", '
            '"am": "/", "pm": "\\\\"}]'
        ).encode()

    own = api.client.post("/api/v1/attendance/feeds", headers=headers, content=feed("120501"))
    assert own.status_code == 202, own.text
    other = api.client.post("/api/v1/attendance/feeds", headers=headers, content=feed("120502"))
    assert other.status_code == 403
    assert "120501 only" in other.json()["detail"]


def test_guessing_tokens_is_throttled(api: Api) -> None:
    statuses = [
        api.client.get("/api/v1/cases", headers={"Authorization": f"Bearer guess-{n}"}).status_code
        for n in range(25)
    ]
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}
    refused = api.client.get("/api/v1/cases", headers={"Authorization": "Bearer guess-x"})
    assert int(refused.headers["retry-after"]) >= 1


def test_guessing_another_schools_marks_reads_the_same_refusal_right_or_wrong(api: Api) -> None:
    """Authorise first, then de-duplicate: a client of school A that sends school B's exact
    feed learns nothing from whether B sent it."""
    from gateway.intake.feed_applier import apply_queued

    def mis(urn: str) -> dict[str, str]:
        _, token = create_client(api.store, f"mis-{urn}", ("attendance:write",), schools=(urn,))
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def feed(mark: str) -> bytes:
        return (
            f'[{{"school_urn": "120502", "upn": "{make_upn(2)}", "date": "2026-01-05", '
            f'"am": "{mark}", "pm": "{mark}"}}]'
        ).encode()

    sent = api.client.post("/api/v1/attendance/feeds", headers=mis("120502"), content=feed("I"))
    assert sent.status_code == 202, sent.text
    apply_queued(api.store)
    guesser = mis("120501")
    right = api.client.post("/api/v1/attendance/feeds", headers=guesser, content=feed("I"))
    wrong = api.client.post("/api/v1/attendance/feeds", headers=guesser, content=feed("N"))
    assert (right.status_code, wrong.status_code) == (403, 403)
    assert "duplicate_of" not in right.text
    assert right.json()["detail"] == wrong.json()["detail"]
