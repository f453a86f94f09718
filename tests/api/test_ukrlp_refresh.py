"""An approved provider refreshed from UKRLP (a loopback SOAP service implementing
contracts/ukrlp): what UKRLP says is kept beside the list's own entry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import Store
from simulators.ukrlp import UkrlpSimulator, running_ukrlp
from tests.api.conftest import Api
from tests.api.test_providers_api import APPROVED, CSV, provider_named


@pytest.fixture
def ukrlp() -> Iterator[UkrlpSimulator]:
    with running_ukrlp() as simulator:
        yield simulator


@pytest.fixture
def with_ukrlp(store: Store, database_url: str, ukrlp: UkrlpSimulator) -> Iterator[Api]:
    settings = Settings(database_url=database_url, ukrlp_url=ukrlp.url)
    with TestClient(create_app(settings, store, logging=False)) as client:
        yield Api(client, store)


def test_a_provider_is_refreshed_from_ukrlp(with_ukrlp: Api, ukrlp: UkrlpSimulator) -> None:
    api = with_ukrlp
    admin = api.token()
    listed = api.client.post(
        "/api/v1/providers/imports/approved", headers=admin | CSV, content=APPROVED
    )
    assert listed.status_code == 200
    tutor = provider_named(api, admin, "Estuary Tuition")
    ukrlp.add_provider(tutor["ukprn"], "ESTUARY TUITION PARTNERSHIP LTD", status="V")
    refreshed = api.client.post(f"/api/v1/providers/{tutor['id']}/ukrlp", headers=admin)
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert (body["name"], body["ukrlp_name"], body["ukrlp_status"]) == (
        "Estuary Tuition Partnership",
        "ESTUARY TUITION PARTNERSHIP LTD",
        "Verified",
    )
    unknown = provider_named(api, admin, "Dengie Farm")
    gone = api.client.post(f"/api/v1/providers/{unknown['id']}/ukrlp", headers=admin).json()
    assert gone["ukrlp_status"] == "not_found"

    ukrlp.fail_next(8)
    down = api.client.post(f"/api/v1/providers/{tutor['id']}/ukrlp", headers=admin)
    assert down.status_code == 503
    assert "UKRLP" in down.json()["detail"]
    officer = api.token("cases:read")
    assert (
        api.client.post(f"/api/v1/providers/{tutor['id']}/ukrlp", headers=officer).status_code
        == 403
    )
