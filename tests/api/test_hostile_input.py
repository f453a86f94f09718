"""Odd and hostile input gets a 4xx problem, never a 500, and never leaks child data."""

from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy as sa
import structlog

from gateway.logs import configure_logging, error_fields
from gateway.store.schema import children
from tests.api.conftest import Api
from tests.support import child_json


def test_out_of_range_filter_times_are_422(api: Api) -> None:
    headers = api.token("cases:read")
    for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        response = api.client.get("/api/v1/cases", headers=headers, params={"opened_from": value})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "opened_from"


def test_misspelled_fields_are_refused_by_name(api: Api) -> None:
    headers = api.token()
    body = child_json(1)
    body["identifiers"]["nhs"] = "9434765919"
    response = api.client.post("/api/v1/children", headers=headers, json=body)
    assert response.status_code == 422
    assert "nhs" in response.json()["detail"]


def test_deeply_nested_json_is_400(api: Api) -> None:
    headers = {**api.token(), "content-type": "application/json"}
    response = api.client.post("/api/v1/cases", headers=headers, content=b"[" * 100_000)
    assert response.status_code == 400


def test_nul_characters_are_refused_not_500(api: Api) -> None:
    headers = api.token()
    assert api.client.get("/api/v1/cases/%00", headers=headers).status_code in (404, 422)
    body = child_json(2)
    body["name"]["family"] = "Row\u0000ntree"
    response = api.client.post("/api/v1/children", headers=headers, json=body)
    assert response.status_code in (201, 422)  # SQLite stores it; PostgreSQL refuses it


def test_racing_registrations_of_one_child_are_one_201_and_409s(api: Api) -> None:
    headers = api.token()
    body = child_json(3)
    statuses: list[int] = []

    def register() -> None:
        statuses.append(api.client.post("/api/v1/children", headers=headers, json=body).status_code)

    threads = [threading.Thread(target=register) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5


def test_a_database_error_is_logged_without_the_values_it_failed_on(api: Api) -> None:
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    row = {
        "upn": "B801200005001",
        "given_name": "Philippa",
        "family_name": "Quennell",
        "ehcp_status": "none",
        "looked_after": False,
        "created_at": api.store.clock.now(),
        "updated_at": api.store.clock.now(),
    }

    def insert_twice() -> None:
        with api.store.unit_of_work() as uow:
            uow.connection.execute(children.insert().values(id="a", **row))
            uow.connection.execute(children.insert().values(id="b", **row))

    with pytest.raises(sa.exc.IntegrityError) as caught:
        insert_twice()
    assert "Philippa" not in str(caught.value)  # hide_parameters: bound values stay out
    structlog.get_logger("test").error("failed", **error_fields(caught.value))
    logged = stream.getvalue()
    assert "IntegrityError" in logged
    for secret in ("Philippa", "Quennell", "B801200005001"):
        assert secret not in logged  # PostgreSQL's DETAIL names the key: messages stay out


def test_a_json_route_refuses_a_body_that_is_not_json(api: Api) -> None:
    headers = {**api.token(), "content-type": "application/x-www-form-urlencoded"}
    response = api.client.post("/api/v1/children", headers=headers, content=b"upn=B801200005001")
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
