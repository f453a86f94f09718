"""The NHS team stand-in takes BaRS request messages, refuses broken ones, and misbehaves only
when told to.

The gateway's delivery tests trust it to answer as a BaRS receiver does, so requests go over
real HTTP with httpx (the gateway's FHIR client), the messages are built here by hand from the
standard rather than by the gateway's own code, and every answer is read back with the
fhir.resources R4B models, so an answer this stand-in gives is one a FHIR client can read.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pydantic
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from simulators.nhs import MAX_BODY_BYTES, NhsTeamSimulator, ReceivedRequest, running_nhs_team
from tests.simulators.support import stop_while_held

FHIR_JSON = "application/fhir+json"
NHS_NUMBER = "9434765919"
FAMILY, GIVEN = "Okonkwo-Test", "Adaeze"
EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


@pytest.fixture
def team() -> Iterator[NhsTeamSimulator]:
    with running_nhs_team() as simulator:
        yield simulator


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def message(bundle_id: str | None = None) -> dict[str, Any]:
    """A BaRS servicerequest-request message asking an NHS team for EHC needs assessment
    advice: MessageHeader, ServiceRequest, Task, Patient, and the two organisations."""
    header, request, task, patient, council, nhs_team = (urn() for _ in range(6))
    return {
        "resourceType": "Bundle",
        "id": bundle_id or str(uuid.uuid4()),
        "meta": {"lastUpdated": "2026-03-02T09:30:00+00:00"},
        "identifier": {"system": "https://tools.ietf.org/html/rfc4122", "value": str(uuid.uuid4())},
        "type": "message",
        "timestamp": "2026-03-02T09:30:00+00:00",
        "entry": [
            {
                "fullUrl": header,
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": header.removeprefix("urn:uuid:"),
                    "eventCoding": {"system": EVENTS, "code": "servicerequest-request"},
                    "reason": {
                        "coding": [
                            {
                                "system": "https://fhir.nhs.uk/CodeSystem/message-reason-bars",
                                "code": "new",
                            }
                        ]
                    },
                    "destination": [
                        {
                            "endpoint": "https://nhs-team.example/fhir/R4",
                            "receiver": {"reference": nhs_team},
                        }
                    ],
                    "sender": {"reference": council},
                    "source": {"endpoint": "https://gateway.example/fhir/R4"},
                    "focus": [{"reference": request}],
                },
            },
            {
                "fullUrl": request,
                "resource": {
                    "resourceType": "ServiceRequest",
                    "id": request.removeprefix("urn:uuid:"),
                    "status": "active",
                    "intent": "plan",
                    "category": [
                        {"coding": [{"system": "http://snomed.info/sct", "code": "3457005"}]}
                    ],
                    "code": {"text": "Health advice for an EHC needs assessment"},
                    "subject": {"reference": patient},
                    "authoredOn": "2026-03-02T09:30:00+00:00",
                    "requester": {"reference": council},
                    "performer": [{"reference": nhs_team}],
                    "reasonCode": [
                        {"text": "EHC needs assessment (Children and Families Act 2014 s36)"}
                    ],
                },
            },
            {
                "fullUrl": task,
                "resource": {
                    "resourceType": "Task",
                    "id": task.removeprefix("urn:uuid:"),
                    "status": "requested",
                    "intent": "order",
                    "focus": {"reference": request},
                    "for": {"reference": patient},
                    "authoredOn": "2026-03-02T09:30:00+00:00",
                    "requester": {"reference": council},
                    "owner": {"reference": nhs_team},
                    "restriction": {"period": {"end": "2026-03-30T17:00:00+00:00"}},
                },
            },
            {
                "fullUrl": patient,
                "resource": {
                    "resourceType": "Patient",
                    "id": patient.removeprefix("urn:uuid:"),
                    "identifier": [
                        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER}
                    ],
                    "name": [{"family": FAMILY, "given": [GIVEN]}],
                    "birthDate": "2014-05-17",
                },
            },
            {
                "fullUrl": council,
                "resource": {
                    "resourceType": "Organization",
                    "id": council.removeprefix("urn:uuid:"),
                    "identifier": [{"system": ODS, "value": "E10000012"}],
                    "name": "Essex County Council",
                },
            },
            {
                "fullUrl": nhs_team,
                "resource": {
                    "resourceType": "Organization",
                    "id": nhs_team.removeprefix("urn:uuid:"),
                    "identifier": [{"system": ODS, "value": "RQ8"}],
                    "name": "Community Paediatrics",
                },
            },
        ],
    }


def resource(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    )
    return found


def post(
    team: NhsTeamSimulator,
    body: bytes | dict[str, Any],
    *,
    content_type: str = FHIR_JSON,
    request_id: str | None = "req-1",
    correlation_id: str | None = "corr-1",
    timeout: float = 5,
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    if correlation_id is not None:
        headers["X-Correlation-Id"] = correlation_id
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(team.process_message_url, content=content, headers=headers, timeout=timeout)


def outcome(response: httpx.Response) -> OperationOutcome:
    """The answer, which is always an OperationOutcome in FHIR JSON that R4B can read."""
    assert response.headers["content-type"] == FHIR_JSON
    return OperationOutcome.model_validate(response.json())


def issues(response: httpx.Response) -> list[dict[str, Any]]:
    read = outcome(response)
    return [
        {
            "severity": issue.severity,
            "code": issue.code,
            "diagnostics": issue.diagnostics,
            "expression": issue.expression,
        }
        for issue in read.issue
    ]


# Accepting -----------------------------------------------------------------------------------


def test_the_message_built_here_is_valid_r4b() -> None:
    # The valid case is only a test of the receiver if the message really is valid.
    Bundle.model_validate(message())


def test_a_valid_message_is_accepted_and_stored(team: NhsTeamSimulator) -> None:
    sent = message()
    response = post(team, sent)
    assert response.status_code == 200
    assert response.json() == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": "accepted"}],
    }
    outcome(response)
    assert response.headers["x-request-id"] == "req-1"
    assert response.headers["x-correlation-id"] == "corr-1"
    assert team.received == [sent]
    assert team.service_requests() == [resource(sent, "ServiceRequest")]
    assert team.duplicates == 0
    assert team.requests == [
        ReceivedRequest("POST", "/fhir/R4/$process-message", "req-1", "corr-1")
    ]
    assert team.requests[0] == ("POST", "/fhir/R4/$process-message", "req-1", "corr-1")


def test_received_is_a_copy(team: NhsTeamSimulator) -> None:
    post(team, message())
    team.received[0]["id"] = "changed"
    assert team.received[0]["id"] != "changed"


def test_relative_references_to_entries_are_accepted(team: NhsTeamSimulator) -> None:
    sent = message()
    patient = resource(sent, "Patient")
    patient["id"] = "child-1"
    resource(sent, "ServiceRequest")["subject"] = {"reference": "Patient/child-1"}
    resource(sent, "Task")["for"] = {"reference": "Patient/child-1/_history/1"}
    assert post(team, sent).status_code == 200


def test_absolute_full_urls_resolve_like_uuids(team: NhsTeamSimulator) -> None:
    sent = message()
    sent["entry"][3]["fullUrl"] = "https://gateway.example/fhir/R4/Patient/child-1"
    resource(sent, "Patient")["id"] = "child-1"
    for name in ("ServiceRequest", "Task"):
        key = "subject" if name == "ServiceRequest" else "for"
        resource(sent, name)[key] = {"reference": "https://gateway.example/fhir/R4/Patient/child-1"}
    assert post(team, sent).status_code == 200


def test_content_type_parameters_are_allowed(team: NhsTeamSimulator) -> None:
    response = post(team, message(), content_type="application/fhir+json; charset=utf-8")
    assert response.status_code == 200


# Refusing a broken message -------------------------------------------------------------------


def finished_task(bundle: dict[str, Any]) -> None:
    resource(bundle, "Task")["status"] = "finished"


def dangling_uuid(bundle: dict[str, Any]) -> None:
    resource(bundle, "ServiceRequest")["subject"] = {"reference": urn()}


def dangling_relative(bundle: dict[str, Any]) -> None:
    resource(bundle, "Task")["owner"] = {"reference": "Organization/not-in-the-bundle"}


def header_not_first(bundle: dict[str, Any]) -> None:
    bundle["entry"][0], bundle["entry"][1] = bundle["entry"][1], bundle["entry"][0]


def collection(bundle: dict[str, Any]) -> None:
    bundle["type"] = "collection"


def other_event(bundle: dict[str, Any]) -> None:
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = "servicerequest-response"


def unknown_element(bundle: dict[str, Any]) -> None:
    resource(bundle, "Patient")["nhsNumber"] = NHS_NUMBER


def unknown_resource_type(bundle: dict[str, Any]) -> None:
    bundle["entry"][4]["resource"]["resourceType"] = "Organisation"


def no_id(bundle: dict[str, Any]) -> None:
    del bundle["id"]


def bad_date(bundle: dict[str, Any]) -> None:
    resource(bundle, "Patient")["birthDate"] = "17/05/2014"


def entry_without_resource(bundle: dict[str, Any]) -> None:
    del bundle["entry"][5]["resource"]


@pytest.mark.parametrize(
    ("breakage", "code", "expression", "words"),
    [
        (finished_task, "invalid", "Bundle.entry[2].resource.status", "must be one of"),
        (dangling_uuid, "invalid", "Bundle.entry[1].resource.subject.reference", "fullUrl"),
        (dangling_relative, "invalid", "Bundle.entry[2].resource.owner.reference", "no resource"),
        (header_not_first, "structure", "Bundle.entry[0].resource", "MessageHeader"),
        (collection, "invalid", "Bundle.type", "must be message"),
        (other_event, "invalid", "Bundle.entry[0].resource.eventCoding", "servicerequest-request"),
        (unknown_element, "structure", "Bundle.entry[3].resource.nhsNumber", "Extra inputs"),
        (unknown_resource_type, "structure", "Bundle.entry[4].resource.resourceType", "R4B"),
        (no_id, "invalid", "Bundle.id", "message id"),
        (bad_date, "structure", "Bundle.entry[3].resource.birthDate", "Date"),
        (entry_without_resource, "structure", "Bundle.entry[5]", "no resource"),
    ],
)
def test_a_broken_message_is_refused_naming_the_problem(
    team: NhsTeamSimulator,
    breakage: Callable[[dict[str, Any]], None],
    code: str,
    expression: str,
    words: str,
) -> None:
    sent = message()
    breakage(sent)
    response = post(team, sent)
    assert response.status_code == 422
    found = issues(response)
    matching = [issue for issue in found if issue["expression"] == [expression]]
    assert matching, found
    assert matching[0]["severity"] == "error"
    assert matching[0]["code"] == code
    assert words in matching[0]["diagnostics"]
    assert expression in matching[0]["diagnostics"]
    assert team.received == []


def test_every_problem_is_reported_at_once(team: NhsTeamSimulator) -> None:
    sent = message()
    finished_task(sent)
    dangling_uuid(sent)
    collection(sent)
    expressions = {e for issue in issues(post(team, sent)) for e in issue["expression"] or []}
    assert {
        "Bundle.entry[2].resource.status",
        "Bundle.entry[1].resource.subject.reference",
        "Bundle.type",
    } <= expressions


def test_a_refusal_does_not_repeat_the_childs_data(team: NhsTeamSimulator) -> None:
    sent = message()
    bad_date(sent)
    unknown_element(sent)
    resource(sent, "Patient")["gender"] = GIVEN  # a value quoted back would be a name
    response = post(team, sent)
    assert response.status_code == 422
    for value in (NHS_NUMBER, FAMILY, GIVEN, "17/05/2014"):
        assert value not in response.text


def test_a_body_that_is_not_a_bundle_is_refused(team: NhsTeamSimulator) -> None:
    response = post(team, resource(message(), "Patient"))
    assert response.status_code == 422
    assert issues(response)[0]["code"] == "structure"


def test_bad_json_is_a_400(team: NhsTeamSimulator) -> None:
    response = post(team, b'{"resourceType": "Bundle", ')
    assert response.status_code == 400
    [issue] = issues(response)
    assert issue["code"] == "invalid"
    assert "not valid JSON" in issue["diagnostics"]


@pytest.mark.parametrize(
    "body",
    [b'{"resourceType": "Bundle", "resourceType": "Bundle"}', b'{"n": NaN}', b"\xff\xfe"],
)
def test_json_fhir_does_not_allow_is_a_400(team: NhsTeamSimulator, body: bytes) -> None:
    response = post(team, body)
    assert response.status_code == 400
    assert issues(response)[0]["code"] == "invalid"


def test_a_deeply_nested_body_is_refused_not_crashed_on(team: NhsTeamSimulator) -> None:
    response = post(team, b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    assert response.status_code in (400, 422)
    outcome(response)
    assert post(team, message()).status_code == 200


def test_another_media_type_is_a_415(team: NhsTeamSimulator) -> None:
    response = post(team, message(), content_type="application/json")
    assert response.status_code == 415
    assert FHIR_JSON in issues(response)[0]["diagnostics"]
    assert team.received == []


def test_a_missing_request_id_is_a_400(team: NhsTeamSimulator) -> None:
    response = post(team, message(), request_id=None)
    assert response.status_code == 400
    assert "X-Request-Id" in issues(response)[0]["diagnostics"]
    assert team.received == []
    assert team.requests == [ReceivedRequest("POST", "/fhir/R4/$process-message", None, "corr-1")]


def test_a_body_over_five_megabytes_is_a_413(team: NhsTeamSimulator) -> None:
    response = post(team, b" " * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert issues(response)[0]["code"] == "too-long"


def test_unknown_paths_and_methods(team: NhsTeamSimulator) -> None:
    missing = httpx.post(team.base_url + "/Task", content=b"{}", timeout=5)
    assert missing.status_code == 404
    assert issues(missing)[0]["code"] == "not-found"
    wrong = httpx.get(team.process_message_url, timeout=5)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    outcome(wrong)


# Metadata ------------------------------------------------------------------------------------


def test_metadata_is_a_capability_statement_offering_process_message(
    team: NhsTeamSimulator,
) -> None:
    response = httpx.get(team.base_url + "/metadata", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.rest is not None
    assert statement.messaging is not None
    [rest], [messaging] = statement.rest, statement.messaging
    assert [op.name for op in rest.operation or []] == ["process-message"]
    assert [e.address for e in messaging.endpoint or []] == [team.process_message_url]


def test_reading_metadata_does_not_use_up_a_knob(team: NhsTeamSimulator) -> None:
    team.fail_next(1)
    assert httpx.get(team.metadata_url, timeout=5).status_code == 200
    assert post(team, message()).status_code == 503


# Knobs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "retry_after"),
    [
        (503, "transient", "1"),
        (429, "throttled", "1"),
        (400, "invalid", None),
        (401, "security", None),
    ],
)
def test_fail_next_answers_that_status_and_code_then_recovers(
    team: NhsTeamSimulator, status: int, code: str, retry_after: str | None
) -> None:
    team.fail_next(2, status=status, code=code, diagnostics="try later")
    for _ in range(2):
        response = post(team, message())
        assert response.status_code == status
        assert response.headers.get("retry-after") == retry_after
        assert issues(response) == [
            {"severity": "error", "code": code, "diagnostics": "try later", "expression": None}
        ]
    assert team.received == []
    assert post(team, message()).status_code == 200
    assert len(team.received) == 1


def test_failures_are_used_up_in_the_order_set(team: NhsTeamSimulator) -> None:
    team.fail_next(1, status=503)
    team.fail_next(1, status=429, code="throttled", retry_after=30)
    first, second = post(team, message()), post(team, message())
    assert (first.status_code, second.status_code) == (503, 429)
    assert second.headers["retry-after"] == "30"


def test_fail_next_takes_only_what_an_outcome_can_say(team: NhsTeamSimulator) -> None:
    with pytest.raises(ValueError, match="issue type"):
        team.fail_next(1, code="UNAVAILABLE")
    with pytest.raises(ValueError, match="4xx or 5xx"):
        team.fail_next(1, status=302)
    with pytest.raises(ValueError, match="negative"):
        team.fail_next(-1)


def test_delay_next_runs_a_client_into_its_timeout(team: NhsTeamSimulator) -> None:
    team.delay_next(1, 2.0)
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        post(team, message(), timeout=0.2)
    assert time.monotonic() - started < 1.5
    # Only the one request was held.
    assert post(team, message(), timeout=1).status_code == 200


def test_drop_next_stores_the_message_but_never_answers(team: NhsTeamSimulator) -> None:
    sent = message()
    team.drop_next(1)
    with pytest.raises(httpx.TransportError) as dropped:
        post(team, sent)
    assert isinstance(dropped.value, httpx.RemoteProtocolError | httpx.ReadError)
    assert team.received == [sent]
    # The sender, not knowing, sends again: answered, not stored twice.
    assert post(team, sent).status_code == 200
    assert team.received == [sent]
    assert team.duplicates == 1


def test_a_refused_message_does_not_use_up_a_drop(team: NhsTeamSimulator) -> None:
    team.drop_next(1)
    broken = message()
    finished_task(broken)
    assert post(team, broken).status_code == 422
    with pytest.raises(httpx.TransportError):
        post(team, message())


def test_a_repeated_message_id_is_accepted_but_stored_once(team: NhsTeamSimulator) -> None:
    first = message("msg-1")
    again = copy.deepcopy(first)
    assert post(team, first).status_code == 200
    response = post(team, again, request_id="req-2")
    assert response.status_code == 200
    assert issues(response)[0]["diagnostics"] == "accepted"
    assert post(team, message("msg-2")).status_code == 200
    assert [bundle["id"] for bundle in team.received] == ["msg-1", "msg-2"]
    assert team.duplicates == 1
    assert len(team.service_requests()) == 2


def test_concurrent_copies_of_one_message_are_stored_once(team: NhsTeamSimulator) -> None:
    sent = message()
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        barrier.wait()
        statuses.append(post(team, sent).status_code)

    senders = [threading.Thread(target=send) for _ in range(6)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=10)
    assert statuses == [200] * 6
    assert len(team.received) == 1
    assert team.duplicates == 5


def test_stopped_refuses_connections_and_restarts_on_the_same_port(
    team: NhsTeamSimulator,
) -> None:
    sent = message()
    post(team, sent)
    url = team.process_message_url
    team.stop()
    assert not team.running
    with pytest.raises(httpx.ConnectError):
        post(team, message())
    team.start()
    assert team.process_message_url == url
    assert team.received == [sent]
    assert post(team, message()).status_code == 200


def test_stopping_drops_a_request_being_held(team: NhsTeamSimulator) -> None:
    team.delay_next(1, 30.0)
    result, waited = stop_while_held(team, lambda: post(team, message()).status_code)
    assert waited < 2
    assert len(result) == 1
    assert isinstance(result[0], httpx.RemoteProtocolError | httpx.ReadError)
    assert team.received == []


def test_reset_forgets_messages_requests_and_knobs(team: NhsTeamSimulator) -> None:
    sent = message()
    post(team, sent)
    post(team, sent)
    team.fail_next(1)
    team.delay_next(1, 5)
    team.drop_next(1)
    team.reset()
    assert (team.received, team.requests, team.duplicates) == ([], [], 0)
    # The message id is forgotten too, and no knob is left.
    assert post(team, sent, timeout=1).status_code == 200
    assert team.received == [sent]


def test_a_validator_message_quoting_a_value_has_it_withheld() -> None:
    # fhir.resources' messages name rules, not values, today; this holds the line if a
    # validator ever quotes what it was given.
    from simulators.nhs import _model_issues

    class Quoting(pydantic.BaseModel):
        family: str

        @pydantic.field_validator("family")
        @classmethod
        def refuse(cls, value: str) -> str:
            raise ValueError(f"{value!r} is not allowed")

    with pytest.raises(pydantic.ValidationError) as error:
        Quoting.model_validate({"family": FAMILY})
    [issue] = _model_issues(error.value, "Patient.name[0]", {"family": FAMILY})
    assert FAMILY not in issue.diagnostics
    assert issue.diagnostics == "Patient.name[0].family: Value error, '[withheld]' is not allowed"
