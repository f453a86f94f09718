"""The UKRLP stand-in keeps the ProviderQueryServiceV6 contract and misbehaves only when told to.

The gateway's client tests trust it to answer as contracts/ukrlp says, so the clients here are
a zeep client built from the WSDL, as the gateway builds one, or raw HTTP for what zeep would
never send, and every answer is checked against the XSD.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree

from simulators.ukrlp import BINDING, XSD_PATH, ReceivedQuery, UkrlpSimulator, running_ukrlp
from tests.simulators.support import SOAP, RecordingClient, fault_and_detail, post, valid_against

SCHEMA = etree.XMLSchema(etree.parse(str(XSD_PATH)))
TNS = "http://ukrlp.co.uk.server.ws.v3"
COMMON = "http://www.ukrlp.gov.uk/commonlibrary"
UPDATED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def ukrlp() -> Iterator[UkrlpSimulator]:
    with running_ukrlp(clock=lambda: UPDATED) as simulator:
        simulator.add_provider(
            "10012345",
            "Bridge Learning Ltd",
            postcode="LN1 1AA",
            verified_by=("Companies House", "DfE"),
            verified_on=dt.date(2019, 7, 22),
            aliases=("Bridge Learning",),
        )
        simulator.add_provider("10054321", "Fen Tutors", status="PD2")
        yield simulator


class Client(RecordingClient):
    """A strict zeep client, with the query the gateway sends."""

    def __init__(self, ukrlp: UkrlpSimulator, timeout: float | None = None) -> None:
        super().__init__(
            ukrlp, BINDING, timeout, settings=zeep.Settings(strict=True, forbid_dtd=True)
        )

    def query(self, *ukprns: int, status: str = "A", query_id: int = 7) -> Any:
        return self.service.retrieveAllProviders(
            SelectionCriteria={
                "UnitedKingdomProviderReferenceNumberList": {
                    "UnitedKingdomProviderReferenceNumber": list(ukprns)
                },
                "CriteriaCondition": "OR",
                "StakeholderId": 3,
                "ApprovedProvidersOnly": "No",
                "ProviderStatus": status,
            },
            QueryId=query_id,
        )


@pytest.fixture
def client(ukrlp: UkrlpSimulator) -> Client:
    return Client(ukrlp)


def valid(element: etree._Element) -> bool:
    return valid_against(SCHEMA, element)


def raw_envelope(criteria: str, query_id: str = "1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}" '
        f'xmlns:ukr="{TNS}"><soap:Body><ukr:ProviderQueryRequest>'
        f"<SelectionCriteria>{criteria}</SelectionCriteria><QueryId>{query_id}</QueryId>"
        "</ukr:ProviderQueryRequest></soap:Body></soap:Envelope>"
    ).encode()


# As UKRLP's own examples send it: UKPRN list, condition, stakeholder, approved-only, status.
BY_UKPRN = (
    "<UnitedKingdomProviderReferenceNumberList>"
    "<UnitedKingdomProviderReferenceNumber>10012345</UnitedKingdomProviderReferenceNumber>"
    "</UnitedKingdomProviderReferenceNumberList><CriteriaCondition>OR</CriteriaCondition>"
    "<StakeholderId>1</StakeholderId><ApprovedProvidersOnly>No</ApprovedProvidersOnly>"
    "<ProviderStatus>A</ProviderStatus>"
)


def raw_fault(response: httpx.Response) -> dict[str, str | None]:
    fault, detail = fault_and_detail(response, f"{{{TNS}}}faultDetail")
    assert valid(detail)
    return {
        "faultcode": fault.findtext("faultcode"),
        "faultstring": fault.findtext("faultstring"),
        "major": detail.findtext("major"),
        "minor": detail.findtext("minor"),
    }


def test_zeep_client_finds_a_provider_with_its_whole_record(
    ukrlp: UkrlpSimulator, client: Client
) -> None:
    answer = client.query(10012345)
    assert valid(client.last_payload())
    assert (answer.QueryId, answer.StakeholderId) == (7, 3)
    [record] = answer.MatchingProviderRecords
    assert record.UnitedKingdomProviderReferenceNumber == 10012345
    assert (record.ProviderName, record.ProviderStatus) == ("Bridge Learning Ltd", "A")
    [contact] = record.ProviderContact
    assert (contact.ContactType, contact.ContactAddress.PostCode) == ("L", "LN1 1AA")
    assert contact.LastUpdated == UPDATED
    assert record.ProviderVerificationDate.date() == dt.date(2019, 7, 22)
    assert [a.ProviderAlias for a in record.ProviderAliases] == ["Bridge Learning"]
    assert [v.VerificationAuthority for v in record.VerificationDetails] == [
        "Companies House",
        "DfE",
    ]
    # The address is in the common library's namespace, the rest unqualified.
    raw = client.last_payload()
    assert raw.find("MatchingProviderRecords/ProviderContact/ContactAddress") is not None
    assert raw.findtext(f".//ContactAddress/{{{COMMON}}}PostCode") == "LN1 1AA"
    assert ukrlp.requests == [
        ReceivedQuery(ukprns=("10012345",), provider_status="A", stakeholder_id="3", query_id="7")
    ]


def test_an_unknown_ukprn_is_an_empty_answer(ukrlp: UkrlpSimulator, client: Client) -> None:
    answer = client.query(10099999, query_id=8)
    assert valid(client.last_payload())
    assert answer.MatchingProviderRecords == []
    assert answer.QueryId == 8
    assert len(ukrlp.requests) == 1


def test_a_query_answers_only_providers_with_the_status_asked(client: Client) -> None:
    assert client.query(10054321, status="A").MatchingProviderRecords == []
    [record] = client.query(10054321, status="PD2").MatchingProviderRecords
    assert valid(client.last_payload())
    assert (record.ProviderName, record.ProviderStatus) == ("Fen Tutors", "PD2")
    # No postcode, no verification date: the optional elements are left out, not empty.
    assert (record.ProviderContact, record.ProviderVerificationDate) == ([], None)


def test_several_ukprns_answer_in_the_order_asked(ukrlp: UkrlpSimulator, client: Client) -> None:
    ukrlp.add_provider("10000001", "Alpha Provision")
    answer = client.query(10000001, 10099999, 10012345, 10000001)
    assert [r.ProviderName for r in answer.MatchingProviderRecords] == [
        "Alpha Provision",
        "Bridge Learning Ltd",
    ]


def test_without_a_ukprn_list_every_provider_with_the_status_answers(
    ukrlp: UkrlpSimulator,
) -> None:
    criteria = "<StakeholderId>1</StakeholderId><ProviderStatus>PD2</ProviderStatus>"
    response = post(ukrlp, raw_envelope(criteria))
    assert response.status_code == 200
    payload = etree.fromstring(response.content).find(f"{{{SOAP}}}Body")[0]
    assert valid(payload)
    assert [e.text for e in payload.iterfind("MatchingProviderRecords/ProviderName")] == [
        "Fen Tutors"
    ]


def test_a_raw_request_as_ukrlp_examples_send_it_is_answered(ukrlp: UkrlpSimulator) -> None:
    response = post(ukrlp, raw_envelope(BY_UKPRN), SOAPAction='"retrieveAllProviders"')
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    payload = etree.fromstring(response.content).find(f"{{{SOAP}}}Body")[0]
    assert valid(payload)
    assert payload.tag == f"{{{TNS}}}ProviderQueryResponse"
    assert payload.findtext("MatchingProviderRecords/ProviderName") == "Bridge Learning Ltd"


@pytest.mark.parametrize(
    ("field", "criteria"),
    [
        (
            "UnitedKingdomProviderReferenceNumber",
            "<UnitedKingdomProviderReferenceNumberList><UnitedKingdomProviderReferenceNumber>"
            "UKPRN-1</UnitedKingdomProviderReferenceNumber></UnitedKingdomProviderReferenceNumberList>"
            "<StakeholderId>1</StakeholderId><ProviderStatus>A</ProviderStatus>",
        ),
        ("StakeholderId", "<ProviderStatus>A</ProviderStatus>"),
        (
            "CriteriaCondition",
            "<CriteriaCondition>XOR</CriteriaCondition><StakeholderId>1</StakeholderId>",
        ),
        (
            "ApprovedProvidersOnly",
            "<StakeholderId>1</StakeholderId><ApprovedProvidersOnly>Y</ApprovedProvidersOnly>",
        ),
        # Valid in the published contract, but not in the subset this service models.
        (
            "ProviderNameList",
            "<ProviderNameList><ProviderName>Bridge</ProviderName></ProviderNameList>"
            "<StakeholderId>1</StakeholderId>",
        ),
    ],
)
def test_a_request_the_schema_refuses_gets_a_client_fault_naming_the_field(
    ukrlp: UkrlpSimulator, field: str, criteria: str
) -> None:
    fault = raw_fault(post(ukrlp, raw_envelope(criteria)))
    assert (fault["faultcode"], fault["major"]) == ("soap:Client", "INVALID_REQUEST")
    assert field in (fault["faultstring"] or "")
    assert fault["minor"] == fault["faultstring"]
    # Logged as received, invalid or not.
    assert len(ukrlp.requests) == 1


def test_a_query_id_that_is_not_a_number_is_refused(ukrlp: UkrlpSimulator) -> None:
    fault = raw_fault(post(ukrlp, raw_envelope(BY_UKPRN, query_id="q-1")))
    assert fault["faultcode"] == "soap:Client"
    assert "QueryId" in (fault["faultstring"] or "")


@pytest.mark.parametrize(
    ("criteria", "major", "words"),
    [
        (
            "<StakeholderId>1</StakeholderId><ProviderStatus>Active</ProviderStatus>",
            "INVALID_REQUEST",
            "'Active' is not one of A, V, PD1, PD2",
        ),
        ("<StakeholderId>1</StakeholderId>", "NOT_SUPPORTED", "needs a ProviderStatus"),
        (
            "<StakeholderId>1</StakeholderId><ApprovedProvidersOnly>Yes</ApprovedProvidersOnly>"
            "<ProviderStatus>A</ProviderStatus>",
            "NOT_SUPPORTED",
            "ApprovedProvidersOnly Yes",
        ),
    ],
    ids=["status-word", "no-status", "approved-only"],
)
def test_what_the_stand_in_does_not_model_is_refused_not_guessed(
    ukrlp: UkrlpSimulator, criteria: str, major: str, words: str
) -> None:
    fault = raw_fault(post(ukrlp, raw_envelope(criteria)))
    assert (fault["faultcode"], fault["major"]) == ("soap:Client", major)
    assert words in (fault["faultstring"] or "")


def test_a_soapaction_naming_another_operation_is_refused(ukrlp: UkrlpSimulator) -> None:
    fault = raw_fault(post(ukrlp, raw_envelope(BY_UKPRN), SOAPAction='"retrieveProvider"'))
    assert fault["faultcode"] == "soap:Client"
    assert "SOAPAction" in (fault["faultstring"] or "")


@pytest.mark.parametrize(
    "body",
    [
        b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>",
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"<ProviderQueryRequest/>",
        raw_envelope(BY_UKPRN).replace(b"ProviderQueryRequest", b"ProviderDeleteRequest"),
    ],
    ids=["not-well-formed", "doctype", "not-an-envelope", "unknown-operation"],
)
def test_a_body_that_is_not_a_query_gets_a_client_fault(ukrlp: UkrlpSimulator, body: bytes) -> None:
    fault = raw_fault(post(ukrlp, body))
    assert (fault["faultcode"], fault["major"]) == ("soap:Client", "INVALID_REQUEST")
    assert ukrlp.requests == []


def test_a_soap_12_envelope_is_a_version_mismatch(ukrlp: UkrlpSimulator) -> None:
    body = raw_envelope(BY_UKPRN).replace(SOAP.encode(), b"http://www.w3.org/2003/05/soap-envelope")
    assert raw_fault(post(ukrlp, body))["faultcode"] == "soap:VersionMismatch"


def test_only_post_to_the_wsdl_address_is_served(ukrlp: UkrlpSimulator) -> None:
    response = httpx.get(ukrlp.url, timeout=5)
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    elsewhere = ukrlp.url.replace("ProviderQueryServiceV6", "ProviderQueryServiceV3")
    assert httpx.post(elsewhere, content=raw_envelope(BY_UKPRN), timeout=5).status_code == 404


def test_fail_next_faults_that_many_requests_then_recovers(
    ukrlp: UkrlpSimulator, client: Client
) -> None:
    ukrlp.fail_next(2)
    for _ in range(2):
        with pytest.raises(zeep.exceptions.Fault) as refused:
            client.query(10012345)
        assert refused.value.code == "soap:Server"
        detail = refused.value.detail.find(f"{{{TNS}}}faultDetail")
        assert valid(detail)
        assert detail.findtext("major") == "UNAVAILABLE"
    [record] = client.query(10012345).MatchingProviderRecords
    assert record.ProviderName == "Bridge Learning Ltd"
    assert len(ukrlp.requests) == 3


def test_fail_next_can_refuse_as_a_client_fault(ukrlp: UkrlpSimulator) -> None:
    ukrlp.fail_next(1, "Client")
    assert raw_fault(post(ukrlp, raw_envelope(BY_UKPRN)))["faultcode"] == "soap:Client"
    assert post(ukrlp, raw_envelope(BY_UKPRN)).status_code == 200


def test_knobs_take_only_what_makes_sense(ukrlp: UkrlpSimulator) -> None:
    with pytest.raises(ValueError, match="negative"):
        ukrlp.fail_next(-1)
    with pytest.raises(ValueError, match="Teapot"):
        ukrlp.fail_next(1, "Teapot")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        ukrlp.delay_next(-1, 1.0)
    with pytest.raises(ValueError, match="not a UKPRN"):
        ukrlp.add_provider("20012345", "Not A Provider")
    with pytest.raises(ValueError, match="not a UKRLP provider status"):
        ukrlp.add_provider("10012346", "Odd Status Ltd", status="Suspended")
    with pytest.raises(TypeError, match="sequences"):
        ukrlp.add_provider("10012346", "One String Ltd", verified_by="DfE")


def test_add_provider_takes_codes_or_words_and_replaces(ukrlp: UkrlpSimulator) -> None:
    assert ukrlp.add_provider("10000002", "Verified Ltd", status="Verified").status == "V"
    assert ukrlp.add_provider("10000002", "Verified Ltd", status="V").status == "V"
    assert ukrlp.add_provider("10000002", "Renamed Ltd", status="PD1").status == "PD1"
    assert [p.name for p in ukrlp.providers] == [
        "Bridge Learning Ltd",
        "Fen Tutors",
        "Renamed Ltd",
    ]
    ukrlp.reset()
    assert (ukrlp.providers, ukrlp.requests) == ([], [])


def test_delay_next_runs_a_client_into_its_timeout(ukrlp: UkrlpSimulator) -> None:
    client = Client(ukrlp, timeout=0.2)
    ukrlp.delay_next(1, 1.0)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        client.query(10012345)
    assert time.monotonic() - started < 0.9
    # Only the one request was held.
    [record] = client.query(10012345).MatchingProviderRecords
    assert record.ProviderName == "Bridge Learning Ltd"


def test_stopped_refuses_connections_and_restarts_on_the_same_port(
    ukrlp: UkrlpSimulator, client: Client
) -> None:
    url = ukrlp.url
    ukrlp.stop()
    assert not ukrlp.running
    with pytest.raises(httpx.ConnectError):
        post(ukrlp, raw_envelope(BY_UKPRN))
    with pytest.raises(requests.exceptions.ConnectionError):
        client.query(10012345)

    ukrlp.start()
    assert ukrlp.url == url
    # The register survived the outage.
    [record] = client.query(10012345).MatchingProviderRecords
    assert record.ProviderName == "Bridge Learning Ltd"
