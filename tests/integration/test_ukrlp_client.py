"""The gateway's UKRLP client against the register's stand-in (simulators/ukrlp.py on loopback):
a provider found whatever its status, nobody found, a malformed UKPRN never sent, and every way
of getting no usable answer reported as unavailable, never as "no such provider"."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.providers.ukrlp import (
    UkrlpClient,
    UkrlpProvider,
    UkrlpRejected,
    UkrlpUnavailable,
)
from simulators.ukrlp import UkrlpSimulator, running_ukrlp


@pytest.fixture
def ukrlp() -> Iterator[UkrlpSimulator]:
    with running_ukrlp() as simulator:
        simulator.add_provider(
            "10012345",
            "Bridge Learning Ltd",
            postcode="LN1 1AA",
            verified_by=("Companies House", "DfE"),
            verified_on=dt.date(2019, 7, 22),
        )
        yield simulator


def client_for(ukrlp: UkrlpSimulator, timeout: float = 5.0) -> UkrlpClient:
    return UkrlpClient(ukrlp.url, timeout_seconds=timeout, wsdl=ukrlp.wsdl_path, stakeholder_id="9")


@pytest.fixture
def client(ukrlp: UkrlpSimulator) -> UkrlpClient:
    return client_for(ukrlp)


def statuses_asked(ukrlp: UkrlpSimulator) -> list[str | None]:
    return [query.provider_status for query in ukrlp.requests]


def test_an_active_provider_is_found_with_one_query(
    ukrlp: UkrlpSimulator, client: UkrlpClient
) -> None:
    assert client.provider("10012345") == UkrlpProvider(
        ukprn="10012345",
        name="Bridge Learning Ltd",
        status="Active",
        postcode="LN1 1AA",
        verified_by=["Companies House", "DfE"],
        verified_on=dt.date(2019, 7, 22),
        status_code="A",
    )
    [query] = ukrlp.requests
    assert (query.ukprns, query.provider_status, query.stakeholder_id) == (
        ("10012345",),
        "A",
        "9",
    )


@pytest.mark.parametrize(
    ("given", "status", "asked", "active"),
    [
        ("Verified", "Verified", ["A", "V"], True),
        ("PD1", "PD1", ["A", "V", "PD1"], False),
        ("PD2", "PD2", ["A", "V", "PD1", "PD2"], False),
    ],
)
def test_a_provider_is_found_whatever_its_status(
    ukrlp: UkrlpSimulator,
    client: UkrlpClient,
    given: str,
    status: str,
    asked: list[str],
    active: bool,
) -> None:
    ukrlp.add_provider("10054321", "Fen Tutors", status=given, verified_by=())
    found = client.provider("10054321")
    assert found is not None
    assert (found.name, found.status, found.active) == ("Fen Tutors", status, active)
    assert (found.postcode, found.verified_by, found.verified_on) == (None, [], None)
    assert statuses_asked(ukrlp) == asked


def test_a_provider_ukrlp_does_not_hold_is_none_after_every_status(
    ukrlp: UkrlpSimulator, client: UkrlpClient
) -> None:
    assert client.provider("10099999") is None
    assert statuses_asked(ukrlp) == ["A", "V", "PD1", "PD2"]
    assert {q.ukprns for q in ukrlp.requests} == {("10099999",)}
    # Each query has its own number.
    assert len({q.query_id for q in ukrlp.requests}) == 4


@pytest.mark.parametrize(
    "ukprn",
    [
        "1001234",  # seven digits
        "100123456",  # nine
        "20012345",  # not starting with 1
        "1001234X",
        " 10012345",
        "10012345\n",
        "\uff110012345",  # a full-width digit one
        "",
        10012345,
    ],
)
def test_a_malformed_ukprn_is_refused_before_anything_is_sent(
    ukrlp: UkrlpSimulator, client: UkrlpClient, ukprn: object
) -> None:
    with pytest.raises(ValueError, match="not a UKPRN"):
        client.provider(ukprn)  # type: ignore[arg-type]
    assert ukrlp.requests == []


def test_a_server_fault_is_unavailable_not_absent(
    ukrlp: UkrlpSimulator, client: UkrlpClient
) -> None:
    ukrlp.fail_next(1)
    with pytest.raises(UkrlpUnavailable, match="soap:Server"):
        client.provider("10012345")
    # Nothing was concluded from the fault: the next look-up finds the provider.
    found = client.provider("10012345")
    assert found is not None
    assert found.name == "Bridge Learning Ltd"


def test_a_fault_on_a_later_status_is_still_unavailable(ukrlp: UkrlpSimulator) -> None:
    # Not held under A, so the client goes on to ask under V, which faults: that is no answer,
    # not "no such provider", and the client does not go on to PD1 and PD2.
    ukrlp.add_provider("10054321", "Fen Tutors", status="PD2")

    class FaultOnSecondQuery(UkrlpClient):
        def _call(self, **arguments: Any) -> Any:
            if len(ukrlp.requests) == 1:
                ukrlp.fail_next(1)
            return super()._call(**arguments)

    client = FaultOnSecondQuery(ukrlp.url, timeout_seconds=5.0, wsdl=ukrlp.wsdl_path)
    with pytest.raises(UkrlpUnavailable, match="soap:Server"):
        client.provider("10054321")
    assert statuses_asked(ukrlp) == ["A", "V"]


def test_a_client_fault_is_rejected(ukrlp: UkrlpSimulator, client: UkrlpClient) -> None:
    ukrlp.fail_next(1, "Client")
    with pytest.raises(UkrlpRejected, match="soap:Client"):
        client.provider("10012345")


def test_a_4xx_is_rejected(ukrlp: UkrlpSimulator) -> None:
    wrong_path = ukrlp.url.replace("ProviderQueryServiceV6", "ProviderQueryServiceV3")
    client = UkrlpClient(wrong_path, timeout_seconds=5.0, wsdl=ukrlp.wsdl_path)
    with pytest.raises(UkrlpRejected, match="HTTP 404"):
        client.provider("10012345")


def test_no_answer_in_time_is_unavailable(ukrlp: UkrlpSimulator) -> None:
    client = client_for(ukrlp, timeout=0.2)
    ukrlp.delay_next(1, 1.0)
    started = time.monotonic()
    with pytest.raises(UkrlpUnavailable, match="in time"):
        client.provider("10012345")
    assert time.monotonic() - started < 0.9


def test_a_register_that_is_down_is_unavailable_until_it_is_back(
    ukrlp: UkrlpSimulator, client: UkrlpClient
) -> None:
    ukrlp.stop()
    with pytest.raises(UkrlpUnavailable, match="cannot reach UKRLP"):
        client.provider("10012345")
    ukrlp.start()
    found = client.provider("10012345")
    assert found is not None
    assert found.status == "Active"


def test_a_stakeholder_id_must_be_a_number(ukrlp: UkrlpSimulator) -> None:
    with pytest.raises(ValueError, match="stakeholder"):
        UkrlpClient(ukrlp.url, wsdl=ukrlp.wsdl_path, stakeholder_id="DfE")
