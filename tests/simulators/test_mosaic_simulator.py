"""The Mosaic stand-in keeps the casenote contract and misbehaves only when told to.

The gateway's delivery tests trust it to answer as contracts/mosaic says, so the clients here
are the ones the gateway uses (zeep, built from the WSDL, with a WS-Security UsernameToken) or
raw HTTP for what zeep would never send, and every answer is checked against the XSD.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import zeep.exceptions
from lxml import etree
from zeep.wsse.username import UsernameToken

from simulators.mosaic import MosaicSimulator, running_mosaic
from tests.simulators.support import (
    SOAP,
    RecordingClient,
    fault_and_detail,
    post,
    stop_while_held,
    valid_against,
)

CONTRACT = Path(__file__).parents[2] / "contracts" / "mosaic"
SCHEMA = etree.XMLSchema(etree.parse(str(CONTRACT / "casenote.xsd")))
TNS = "http://mosaic.example/services/casenote/v1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
BINDING = f"{{{TNS}}}CasenoteBinding"
USER, PASSWORD = "s19-gateway-test", "correct horse"
UPN, NHS = "A123456789012", "9434765919"


@pytest.fixture
def mosaic() -> Iterator[MosaicSimulator]:
    with running_mosaic(username=USER, password=PASSWORD) as simulator:
        simulator.add_person("1001", upn=UPN, nhs_number=NHS)
        simulator.add_person("1002", upn="B987654321098")
        yield simulator


class Client(RecordingClient):
    """A zeep client with the gateway's WS-Security UsernameToken (or a wrong password)."""

    def __init__(
        self, mosaic: MosaicSimulator, password: str = PASSWORD, timeout: float | None = None
    ) -> None:
        super().__init__(
            mosaic,
            BINDING,
            timeout,
            wsse=UsernameToken(USER, password),  # type: ignore[no-untyped-call]
        )


@pytest.fixture
def client(mosaic: MosaicSimulator) -> Client:
    return Client(mosaic)


def valid(element: etree._Element) -> bool:
    return valid_against(SCHEMA, element)


def casenote(reference: str = "s19/case/7/event/1", person_id: str = "1001") -> dict[str, Any]:
    return {
        "personId": person_id,
        "casenoteType": "STATUS_CHANGE",
        "eventDate": "2026-03-02T09:30:00Z",
        "author": {"worker": "J. Smith", "team": "Children Missing Education"},
        "subject": "Case opened: 15 days' absence through illness",
        "body": "Referred by the school on 2 March; alternative provision being arranged.",
        "sourceSystem": "s19-gateway",
        "sourceReference": reference,
        "attachments": {
            "attachment": [
                {
                    "reference": "https://gateway.example/documents/41",
                    "title": "Medical evidence",
                    "mediaType": "application/pdf",
                },
                {"reference": "https://gateway.example/documents/42", "title": "Plan"},
            ]
        },
    }


def mosaic_fault(fault: zeep.exceptions.Fault) -> dict[str, str | None]:
    """What the gateway reads from a zeep Fault, after checking the detail against the XSD."""
    detail = fault.detail.find(f"{{{TNS}}}MosaicFault")
    assert valid(detail)
    return {
        "faultcode": fault.code,
        "code": detail.findtext(f"{{{TNS}}}code"),
        "message": detail.findtext(f"{{{TNS}}}message"),
        "existingCasenoteId": detail.findtext(f"{{{TNS}}}existingCasenoteId"),
    }


def raw_envelope(
    payload: str, *, username: str = USER, password: str = PASSWORD, security: bool = True
) -> bytes:
    header = (
        f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{username}</wsse:Username>"
        f"<wsse:Password>{password}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security></soap:Header>"
        if security
        else "<soap:Header/>"
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}" '
        f'xmlns:tns="{TNS}">{header}<soap:Body>{payload}</soap:Body></soap:Envelope>'
    ).encode()


FIND_BY_UPN = (
    f"<tns:FindPersonRequest><tns:identifier><tns:scheme>UPN</tns:scheme>"
    f"<tns:value>{UPN}</tns:value></tns:identifier></tns:FindPersonRequest>"
)


def raw_fault(response: httpx.Response) -> dict[str, str | None]:
    fault, detail = fault_and_detail(response, f"{{{TNS}}}MosaicFault")
    assert valid(detail)
    return {
        "faultcode": fault.findtext("faultcode"),
        "code": detail.findtext(f"{{{TNS}}}code"),
        "message": detail.findtext(f"{{{TNS}}}message"),
    }


def test_zeep_client_finds_the_person_adds_a_casenote_and_reads_it_back(
    mosaic: MosaicSimulator, client: Client
) -> None:
    persons = client.service.FindPerson(identifier={"scheme": "UPN", "value": UPN})
    assert valid(client.last_payload())
    assert [(p.personId, p.matchedOn) for p in persons] == [("1001", "UPN")]

    added = client.service.AddCasenote(casenote=casenote())
    assert valid(client.last_payload())
    assert added.sourceReference == "s19/case/7/event/1"

    stored = client.service.GetCasenoteByReference(sourceReference="s19/case/7/event/1")
    assert valid(client.last_payload())
    assert stored.casenoteId == added.casenoteId
    assert stored.recordedAt.tzinfo is not None
    assert (stored.subject, stored.author.worker, stored.author.team) == (
        "Case opened: 15 days' absence through illness",
        "J. Smith",
        "Children Missing Education",
    )
    assert [(a.title, a.mediaType) for a in stored.attachments.attachment] == [
        ("Medical evidence", "application/pdf"),
        ("Plan", None),
    ]

    [note] = mosaic.notes
    assert (note.person_id, note.casenote_type, note.event_date, note.source_reference) == (
        "1001",
        "STATUS_CHANGE",
        "2026-03-02T09:30:00Z",
        "s19/case/7/event/1",
    )
    assert note.casenote_id == added.casenoteId
    assert mosaic.requests == ["FindPerson", "AddCasenote", "GetCasenoteByReference"]


def test_an_unknown_reference_reads_back_as_nothing(client: Client) -> None:
    assert client.service.GetCasenoteByReference(sourceReference="never-sent") is None
    assert valid(client.last_payload())


@pytest.mark.parametrize(
    ("scheme", "value", "expected"),
    [
        ("UPN", UPN, ["1001"]),
        ("UPN", UPN.lower(), ["1001"]),
        ("NHS_NUMBER", "943 476 5919", ["1001"]),
        ("MOSAIC_ID", "1002", ["1002"]),
        ("MOSAIC_ID", "1003", []),
        ("NHS_NUMBER", "4010232137", []),
    ],
)
def test_find_person_by_each_scheme(
    client: Client, scheme: str, value: str, expected: list[str]
) -> None:
    persons = client.service.FindPerson(identifier={"scheme": scheme, "value": value})
    assert valid(client.last_payload())
    assert [(p.personId, p.matchedOn) for p in persons] == [(i, scheme) for i in expected]


def test_find_person_returns_every_match(mosaic: MosaicSimulator, client: Client) -> None:
    mosaic.add_person("2001", upn="C111111111111")
    mosaic.add_person("2002", upn="C111111111111")
    persons = client.service.FindPerson(identifier={"scheme": "UPN", "value": "C111111111111"})
    assert [p.personId for p in persons] == ["2001", "2002"]


def test_a_second_casenote_with_the_same_reference_is_refused_naming_the_first(
    mosaic: MosaicSimulator, client: Client
) -> None:
    first = client.service.AddCasenote(casenote=casenote())
    with pytest.raises(zeep.exceptions.Fault) as refused:
        client.service.AddCasenote(casenote={**casenote(), "subject": "Sent again"})
    assert mosaic_fault(refused.value) == {
        "faultcode": "soap:Client",
        "code": "DUPLICATE_REFERENCE",
        "message": refused.value.message,
        "existingCasenoteId": first.casenoteId,
    }
    assert [n.subject for n in mosaic.notes] == ["Case opened: 15 days' absence through illness"]


def test_a_casenote_for_an_unknown_person_is_refused(
    mosaic: MosaicSimulator, client: Client
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as refused:
        client.service.AddCasenote(casenote=casenote(person_id="999"))
    fault = mosaic_fault(refused.value)
    assert (fault["faultcode"], fault["code"]) == ("soap:Client", "PERSON_NOT_FOUND")
    assert mosaic.notes == []


def test_wrong_credentials_are_refused(mosaic: MosaicSimulator) -> None:
    client = Client(mosaic, password="guessed")
    with pytest.raises(zeep.exceptions.Fault) as refused:
        client.service.AddCasenote(casenote=casenote())
    fault = mosaic_fault(refused.value)
    assert (fault["faultcode"], fault["code"]) == ("soap:Client", "NOT_AUTHORISED")
    assert mosaic.notes == []


def test_changed_credentials_refuse_the_old_ones(mosaic: MosaicSimulator, client: Client) -> None:
    mosaic.set_credentials(USER, "rotated")
    with pytest.raises(zeep.exceptions.Fault) as refused:
        client.service.FindPerson(identifier={"scheme": "UPN", "value": UPN})
    assert mosaic_fault(refused.value)["code"] == "NOT_AUTHORISED"


def test_a_request_without_a_security_header_is_refused(mosaic: MosaicSimulator) -> None:
    fault = raw_fault(post(mosaic, raw_envelope(FIND_BY_UPN, security=False)))
    assert (fault["faultcode"], fault["code"]) == ("soap:Client", "NOT_AUTHORISED")


def test_a_password_digest_is_not_taken_as_a_password(mosaic: MosaicSimulator) -> None:
    digest = (
        'Type="http://docs.oasis-open.org/wss/2004/01/'
        'oasis-200401-wss-username-token-profile-1.0#PasswordDigest"'
    )
    body = raw_envelope(FIND_BY_UPN).replace(
        b"<wsse:Password>", f"<wsse:Password {digest}>".encode()
    )
    assert raw_fault(post(mosaic, body))["code"] == "NOT_AUTHORISED"


def test_a_raw_request_without_soapaction_is_answered(mosaic: MosaicSimulator) -> None:
    response = post(mosaic, raw_envelope(FIND_BY_UPN))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    payload = etree.fromstring(response.content).find(f"{{{SOAP}}}Body")[0]
    assert valid(payload)
    assert payload.findtext(f"{{{TNS}}}person/{{{TNS}}}personId") == "1001"


def test_a_soapaction_naming_another_operation_is_refused(mosaic: MosaicSimulator) -> None:
    response = post(mosaic, raw_envelope(FIND_BY_UPN), SOAPAction=f'"{TNS}/AddCasenote"')
    assert raw_fault(response)["code"] == "VALIDATION"


@pytest.mark.parametrize(
    ("field", "payload"),
    [
        (
            "personId",  # and the value, P-1001, is not echoed back
            "<tns:AddCasenoteRequest><tns:casenote><tns:personId>P-1001</tns:personId>"
            "<tns:casenoteType>ACTION</tns:casenoteType>"
            "<tns:eventDate>2026-03-02T09:30:00Z</tns:eventDate><tns:author/>"
            "<tns:subject>s</tns:subject><tns:body>b</tns:body>"
            "<tns:sourceSystem>s19</tns:sourceSystem>"
            "<tns:sourceReference>r1</tns:sourceReference>"
            "</tns:casenote></tns:AddCasenoteRequest>",
        ),
        (
            "subject",
            "<tns:AddCasenoteRequest><tns:casenote><tns:personId>1001</tns:personId>"
            "<tns:casenoteType>ACTION</tns:casenoteType>"
            "<tns:eventDate>2026-03-02T09:30:00Z</tns:eventDate><tns:author/>"
            "<tns:subject></tns:subject><tns:body>b</tns:body>"
            "<tns:sourceSystem>s19</tns:sourceSystem>"
            "<tns:sourceReference>r1</tns:sourceReference>"
            "</tns:casenote></tns:AddCasenoteRequest>",
        ),
        (
            "scheme",
            "<tns:FindPersonRequest><tns:identifier><tns:scheme>PASSPORT</tns:scheme>"
            "<tns:value>x</tns:value></tns:identifier></tns:FindPersonRequest>",
        ),
        (
            "sourceReference",
            "<tns:GetCasenoteByReferenceRequest/>",
        ),
    ],
)
def test_a_request_the_schema_refuses_gets_a_fault_naming_the_field(
    mosaic: MosaicSimulator, field: str, payload: str
) -> None:
    fault = raw_fault(post(mosaic, raw_envelope(payload)))
    assert (fault["faultcode"], fault["code"]) == ("soap:Client", "VALIDATION")
    assert field in (fault["message"] or "")
    assert not {"P-1001", "PASSPORT"} & set((fault["message"] or "").replace("'", " ").split())
    assert mosaic.notes == []


@pytest.mark.parametrize(
    "body",
    [
        b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>",
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"<FindPersonRequest/>",
        raw_envelope("<tns:Shutdown/>"),
    ],
    ids=["not-well-formed", "doctype", "not-an-envelope", "unknown-operation"],
)
def test_a_body_that_is_not_a_request_gets_a_validation_fault(
    mosaic: MosaicSimulator, body: bytes
) -> None:
    fault = raw_fault(post(mosaic, body))
    assert (fault["faultcode"], fault["code"]) == ("soap:Client", "VALIDATION")


def test_a_soap_12_envelope_is_a_version_mismatch(mosaic: MosaicSimulator) -> None:
    body = raw_envelope(FIND_BY_UPN).replace(
        SOAP.encode(), b"http://www.w3.org/2003/05/soap-envelope"
    )
    fault = raw_fault(post(mosaic, body))
    assert (fault["faultcode"], fault["code"]) == ("soap:VersionMismatch", "VALIDATION")


def test_only_post_is_allowed(mosaic: MosaicSimulator) -> None:
    response = httpx.get(mosaic.url, timeout=5)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_a_body_over_one_megabyte_is_refused(mosaic: MosaicSimulator) -> None:
    payload = "<tns:Padding>" + "x" * (1024 * 1024) + "</tns:Padding>"
    response = post(mosaic, raw_envelope(payload))
    assert response.status_code == 413
    assert mosaic.requests == []


def test_fail_next_faults_that_many_requests_then_recovers(
    mosaic: MosaicSimulator, client: Client
) -> None:
    mosaic.fail_next(2)
    for _ in range(2):
        with pytest.raises(zeep.exceptions.Fault) as refused:
            client.service.AddCasenote(casenote=casenote())
        fault = mosaic_fault(refused.value)
        assert (fault["faultcode"], fault["code"]) == ("soap:Server", "UNAVAILABLE")
    assert mosaic.notes == []
    client.service.AddCasenote(casenote=casenote())
    assert len(mosaic.notes) == 1


@pytest.mark.parametrize(
    ("code", "faultcode"),
    [("INTERNAL", "soap:Server"), ("NOT_AUTHORISED", "soap:Client")],
)
def test_fail_next_with_a_code_answers_http_500_with_that_code(
    mosaic: MosaicSimulator, code: str, faultcode: str
) -> None:
    mosaic.fail_next(1, code)
    fault = raw_fault(post(mosaic, raw_envelope(FIND_BY_UPN)))
    assert (fault["faultcode"], fault["code"]) == (faultcode, code)
    assert post(mosaic, raw_envelope(FIND_BY_UPN)).status_code == 200


def test_fail_next_takes_only_codes_the_contract_has(mosaic: MosaicSimulator) -> None:
    with pytest.raises(ValueError, match="TEAPOT"):
        mosaic.fail_next(1, "TEAPOT")


def test_fail_for_person_faults_only_that_person(mosaic: MosaicSimulator, client: Client) -> None:
    mosaic.fail_for_person("1002", "INTERNAL")
    with pytest.raises(zeep.exceptions.Fault) as refused:
        client.service.AddCasenote(casenote=casenote("r-1002", person_id="1002"))
    assert mosaic_fault(refused.value)["code"] == "INTERNAL"
    client.service.AddCasenote(casenote=casenote("r-1001", person_id="1001"))
    mosaic.fail_for_person("1002", None)
    client.service.AddCasenote(casenote=casenote("r-1002", person_id="1002"))
    assert [n.source_reference for n in mosaic.notes] == ["r-1001", "r-1002"]


def test_delay_next_runs_a_client_into_its_timeout(mosaic: MosaicSimulator) -> None:
    client = Client(mosaic, timeout=0.2)
    mosaic.delay_next(1, 2.0)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        client.service.FindPerson(identifier={"scheme": "UPN", "value": UPN})
    assert time.monotonic() - started < 1.5
    # Only the one request was held.
    persons = client.service.FindPerson(identifier={"scheme": "UPN", "value": UPN})
    assert [p.personId for p in persons] == ["1001"]


def test_a_crash_after_storing_drops_the_connection_but_keeps_the_note(
    mosaic: MosaicSimulator, client: Client
) -> None:
    mosaic.crash_after_store_next(1)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.service.AddCasenote(casenote=casenote())
    [note] = mosaic.notes
    assert note.source_reference == "s19/case/7/event/1"

    # The server survived, and the note is there for a client that asks before resending.
    stored = client.service.GetCasenoteByReference(sourceReference="s19/case/7/event/1")
    assert stored.casenoteId == note.casenote_id
    with pytest.raises(zeep.exceptions.Fault) as refused:
        client.service.AddCasenote(casenote=casenote())
    assert mosaic_fault(refused.value)["existingCasenoteId"] == note.casenote_id


def test_a_refused_casenote_does_not_use_up_a_crash(
    mosaic: MosaicSimulator, client: Client
) -> None:
    mosaic.crash_after_store_next(1)
    with pytest.raises(zeep.exceptions.Fault):
        client.service.AddCasenote(casenote=casenote(person_id="999"))
    with pytest.raises(requests.exceptions.ConnectionError):
        client.service.AddCasenote(casenote=casenote())
    assert len(mosaic.notes) == 1


def test_stopped_refuses_connections_and_restarts_on_the_same_port(
    mosaic: MosaicSimulator, client: Client
) -> None:
    client.service.AddCasenote(casenote=casenote())
    url = mosaic.url
    mosaic.stop()
    with pytest.raises(httpx.ConnectError):
        post(mosaic, raw_envelope(FIND_BY_UPN))
    with pytest.raises(requests.exceptions.ConnectionError):
        client.service.FindPerson(identifier={"scheme": "UPN", "value": UPN})

    mosaic.start()
    assert mosaic.url == url
    stored = client.service.GetCasenoteByReference(sourceReference="s19/case/7/event/1")
    assert stored.casenoteId == mosaic.notes[0].casenote_id


def test_stopping_drops_a_request_being_held(mosaic: MosaicSimulator) -> None:
    mosaic.delay_next(1, 30.0)
    outcome, waited = stop_while_held(
        mosaic, lambda: post(mosaic, raw_envelope(FIND_BY_UPN)).status_code
    )
    # Dropped at once, not left to the client's own 5 s timeout.
    assert waited < 2
    assert len(outcome) == 1
    assert isinstance(outcome[0], httpx.RemoteProtocolError | httpx.ReadError)


def test_concurrent_casenotes_with_one_reference_are_stored_once(
    mosaic: MosaicSimulator,
) -> None:
    payload = (
        "<tns:AddCasenoteRequest><tns:casenote><tns:personId>1001</tns:personId>"
        "<tns:casenoteType>ACTION</tns:casenoteType>"
        "<tns:eventDate>2026-03-02T09:30:00Z</tns:eventDate><tns:author/>"
        "<tns:subject>s</tns:subject><tns:body>b</tns:body>"
        "<tns:sourceSystem>s19</tns:sourceSystem>"
        "<tns:sourceReference>same</tns:sourceReference>"
        "</tns:casenote></tns:AddCasenoteRequest>"
    )
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        statuses.append(post(mosaic, raw_envelope(payload)).status_code)

    senders = [threading.Thread(target=send) for _ in range(8)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=10)
    assert sorted(statuses) == [200] + [500] * 7
    assert len(mosaic.notes) == 1
