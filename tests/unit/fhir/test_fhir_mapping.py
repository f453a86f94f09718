"""Health advice requests as FHIR R4: what the gateway builds validates, says what BaRS and UK
Core expect, shares only what the family agreed, and what NHS teams send back is read strictly.

Health has six weeks from the request to give its advice (Sutton protocol,
004_a92c0651c0743a78.txt, "3. EHC Needs Assessment Process"), so the due date is checked on
both the ServiceRequest and the Task; "Tell us once" (004, "Undertaking an EHC Needs
Assessment") is why the Patient carries only the categories the family agreed."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.nhs.resources import validate
from gateway.model.advice import AdviceDocument, AdviceRequest, SharingCategory, SharingDecision
from gateway.model.child import Child, ChildIdentifiers
from mappings import fhir
from tests.support import child_details, make_nhs_number

UTC = dt.UTC
BASE = "https://gateway.example/fhir/R4"
REQUESTED_AT = dt.datetime(2026, 1, 5, 9, 0, 12, 345678, tzinfo=UTC)
DUE_AT = dt.datetime(2026, 2, 16, 23, 59, 59, tzinfo=UTC)
REQUESTER = fhir.Requester(
    authority_name="London Borough of Sutton",
    la_code="319",
    team_code="SEN_SERVICE",
    team_name="SEN Service, Cognus (EHC coordinators)",
)
SUMMARY = "Unable to attend since October; the school asks for an EHC needs assessment."
ALL_CATEGORIES: list[SharingCategory] = ["identity", "education", "send", "social_care"]


def make_child(serial: int = 1, **overrides: Any) -> Child:
    details = child_details(serial)
    fields: dict[str, Any] = {
        "id": f"child-{serial}",
        "identifiers": details.identifiers,
        "name": details.name,
        "date_of_birth": details.date_of_birth,
        "home_la": details.home_la,
        "school_urn": details.school_urn,
        "ehcp_status": "assessing",
        "looked_after": True,
        "created_at": REQUESTED_AT,
        "updated_at": REQUESTED_AT,
    }
    fields.update(overrides)
    return Child(**fields)


def sharing(
    categories: list[SharingCategory], *, agreed: bool = True, child_id: str = "child-1"
) -> SharingDecision:
    return SharingDecision(
        child_id=child_id,
        agency="health",
        agreed=agreed,
        categories=categories,
        recorded_at=REQUESTED_AT,
        recorded_by="officer-1",
        source="request form",
    )


def advice(**overrides: Any) -> AdviceRequest:
    fields: dict[str, Any] = {
        "id": "advice-1",
        "case_id": "case-1",
        "child_id": "child-1",
        "adviser": "health",
        "status": "requested",
        "performer": "RVR",
        "reason": "Advice for an Education, Health and Care needs assessment",
        "requested_at": REQUESTED_AT,
        "due_at": DUE_AT,
    }
    fields.update(overrides)
    return AdviceRequest(**fields)


def bundle(req: AdviceRequest | None = None, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "message_id": "message-1",
        "sent_at": REQUESTED_AT + dt.timedelta(seconds=5),
        "source_endpoint": BASE,
        "base_url": BASE,
        "destination_endpoint": "https://nhs.example/R4/$process-message",
    }
    arguments.update(overrides)
    return fhir.advice_bundle(
        req or advice(), make_child(), sharing(ALL_CATEGORIES), REQUESTER, SUMMARY, **arguments
    )


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def references(value: Any) -> list[str]:
    """Every Reference.reference in a resource, however deep."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                found.append(item)
            else:
                found += references(item)
    elif isinstance(value, list):
        for item in value:
            found += references(item)
    return found


def resolve(full_url: str, reference: str) -> str:
    """FHIR's rule (bundle.html#references): a relative reference is resolved against the base
    of the fullUrl of the entry that holds it."""
    if "://" in reference or reference.startswith("urn:"):
        return reference
    base = full_url.rsplit("/", 2)[0]
    return f"{base}/{reference}"


def invalid_path(call: Any) -> str:
    with pytest.raises(fhir.FhirInvalid) as raised:
        call()
    return raised.value.path


# --- every builder's output is valid FHIR ------------------------------------------------------


STATUSES = ["held", "requested", "accepted", "in-progress", "completed", "rejected", "cancelled"]


@pytest.mark.parametrize("status", STATUSES)
def test_every_builder_makes_valid_fhir_in_every_status(status: str) -> None:
    req = advice(
        status=status,
        notes=["Appointment booked."],
        documents=["doc-1"] if status == "completed" else [],
        business_status="Booked" if status != "held" else None,
        status_reason="Not our service" if status in ("rejected", "cancelled") else None,
        completed_at=DUE_AT - dt.timedelta(days=3) if status == "completed" else None,
        version=3,
    )
    child = make_child()
    built = [
        fhir.patient(child, sharing(ALL_CATEGORIES)),
        fhir.service_request(req, child, sharing(ALL_CATEGORIES), REQUESTER, SUMMARY),
        fhir.task(req, REQUESTER, BASE),
        fhir.organization_ods("RVR"),
        fhir.organization_la(REQUESTER),
        fhir.organization_la(msgspec.structs.replace(REQUESTER, la_code=None)),
        fhir.capability_statement(BASE, "1.2.3", REQUESTED_AT),
        fhir.operation_outcome("invalid", "Task.status: required", expression="Task.status"),
        fhir.operation_outcome("not-found", "no such Task", severity="error"),
    ]
    if status != "held":
        built.append(bundle(req))
    for resource in built:
        validate(resource)


def test_the_status_mapping_is_the_documented_one() -> None:
    expected = {
        "held": ("draft", "draft"),
        "requested": ("active", "requested"),
        "accepted": ("active", "accepted"),
        "in-progress": ("active", "in-progress"),
        "completed": ("completed", "completed"),
        "rejected": ("revoked", "rejected"),
        "cancelled": ("revoked", "cancelled"),
    }
    child = make_child()
    for status, (request_status, task_status) in expected.items():
        req = advice(status=status)
        built = fhir.service_request(req, child, sharing(ALL_CATEGORIES), REQUESTER, None)
        assert built["status"] == request_status, status
        assert fhir.task(req, REQUESTER, BASE)["status"] == task_status, status


# --- the message Bundle ------------------------------------------------------------------------


def test_the_bundle_is_a_bars_message_with_the_header_first() -> None:
    message = bundle()
    assert (message["type"], message["id"]) == ("message", "message-1")
    assert instant(message["timestamp"]) == REQUESTED_AT + dt.timedelta(seconds=5)
    kinds = [entry["resource"]["resourceType"] for entry in message["entry"]]
    assert kinds == [
        "MessageHeader",
        "ServiceRequest",
        "Task",
        "Patient",
        "Organization",
        "Organization",
    ]
    header = message["entry"][0]["resource"]
    assert header["id"] == "message-1"
    assert header["eventCoding"] == {
        "system": "https://fhir.nhs.uk/CodeSystem/message-events-bars",
        "code": "servicerequest-request",
    }
    assert header["reason"]["coding"] == [
        {"system": "https://fhir.nhs.uk/CodeSystem/message-reason-bars", "code": "new"}
    ]
    assert header["source"]["endpoint"] == BASE
    assert header["destination"][0]["endpoint"] == "https://nhs.example/R4/$process-message"
    assert header["destination"][0]["receiver"]["reference"] == "Organization/RVR"
    assert header["sender"]["reference"] == "Organization/la-319"
    assert header["focus"] == [{"reference": "ServiceRequest/advice-1"}]


def test_every_reference_in_the_bundle_resolves_to_one_of_its_entries() -> None:
    message = bundle(advice(status="completed", documents=[], completed_at=DUE_AT))
    full_urls = {entry["fullUrl"] for entry in message["entry"]}
    assert len(full_urls) == len(message["entry"])
    for entry in message["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"] == f"{BASE}/{resource['resourceType']}/{resource['id']}"
        found = references(resource)
        assert found or resource["resourceType"] in ("Patient", "Organization")
        for reference in found:
            assert resolve(entry["fullUrl"], reference) in full_urls, reference
    by_url = {entry["fullUrl"]: entry["resource"] for entry in message["entry"]}
    header = message["entry"][0]
    focus = by_url[resolve(header["fullUrl"], header["resource"]["focus"][0]["reference"])]
    assert focus["resourceType"] == "ServiceRequest"
    receiver = header["resource"]["destination"][0]["receiver"]["reference"]
    ods = by_url[resolve(header["fullUrl"], receiver)]
    assert ods["identifier"] == [{"system": fhir.ODS_SYSTEM, "value": "RVR"}]


def test_a_withdrawal_is_an_update_and_a_held_request_is_never_sent() -> None:
    header = bundle(advice(status="cancelled"))["entry"][0]["resource"]
    assert header["reason"]["coding"][0]["code"] == "update"
    assert invalid_path(lambda: bundle(advice(status="held"))) == "ServiceRequest.status"


def test_without_a_destination_endpoint_the_header_says_it_is_unknown() -> None:
    message = bundle(destination_endpoint=None)
    destination = message["entry"][0]["resource"]["destination"][0]
    assert "endpoint" not in destination
    assert destination["_endpoint"]["extension"][0]["valueCode"] == "unknown"
    validate(message)


def test_the_bundle_needs_the_familys_agreement_to_share_identity() -> None:
    def send() -> None:
        fhir.advice_bundle(
            advice(),
            make_child(),
            sharing(["education", "send"]),
            REQUESTER,
            SUMMARY,
            message_id="m",
            sent_at=REQUESTED_AT,
            source_endpoint=BASE,
            base_url=BASE,
        )

    assert invalid_path(send) == "Patient"


# --- ServiceRequest and Task -------------------------------------------------------------------


def test_the_service_request_is_bars_shaped_and_carries_the_six_weeks() -> None:
    built = fhir.service_request(advice(), make_child(), sharing(ALL_CATEGORIES), REQUESTER, None)
    assert (built["status"], built["intent"]) == ("active", "plan")
    systems = {c["system"]: c for concept in built["category"] for c in concept["coding"]}
    assert systems["https://fhir.nhs.uk/CodeSystem/message-category-servicerequest"]["code"] == (
        "referral"
    )
    assert systems["https://s19-gateway.example/CodeSystem/advice-category"] == {
        "system": "https://s19-gateway.example/CodeSystem/advice-category",
        "code": "ehc-needs-assessment-advice",
        "display": "Advice for an EHC needs assessment",
    }
    assert built["code"]["text"] == (
        "Health advice for an Education, Health and Care needs assessment"
    )
    assert built["subject"] == {"reference": "Patient/child-1"}
    assert instant(built["authoredOn"]) == REQUESTED_AT
    assert instant(built["occurrencePeriod"]["start"]) == REQUESTED_AT
    assert instant(built["occurrencePeriod"]["end"]) == DUE_AT
    assert built["requester"]["reference"] == "Organization/la-319"
    assert built["performer"] == [
        {"reference": "Organization/RVR", "identifier": {"system": fhir.ODS_SYSTEM, "value": "RVR"}}
    ]
    assert built["reasonCode"] == [{"text": advice().reason}]
    assert built["identifier"] == [
        {"system": "https://s19-gateway.example/Id/advice-request", "value": "advice-1"}
    ]


def test_the_task_tracks_the_request_and_its_due_date() -> None:
    req = advice(
        status="completed",
        business_status="Signed off",
        notes=["Booked.", "Seen."],
        documents=["doc-1", "doc-2"],
        completed_at=DUE_AT - dt.timedelta(days=1),
        version=4,
    )
    built = fhir.task(req, REQUESTER, BASE)
    assert built["id"] == "advice-1"
    assert (built["status"], built["intent"]) == ("completed", "order")
    assert built["basedOn"] == [{"reference": "ServiceRequest/advice-1"}]
    assert built["focus"] == {"reference": "ServiceRequest/advice-1"}
    assert built["for"] == {"reference": "Patient/child-1"}
    assert built["owner"]["reference"] == "Organization/RVR"
    assert built["requester"]["reference"] == "Organization/la-319"
    assert instant(built["restriction"]["period"]["end"]) == DUE_AT
    assert instant(built["lastModified"]) == req.completed_at
    assert built["meta"]["versionId"] == "4"
    assert built["businessStatus"] == {"text": "Signed off"}
    assert [n["text"] for n in built["note"]] == ["Booked.", "Seen."]
    assert [o["valueReference"]["reference"] for o in built["output"]] == [
        "DocumentReference/doc-1",
        "DocumentReference/doc-2",
    ]
    assert {o["type"]["text"] for o in built["output"]} == {"Advice"}


def test_a_task_changed_since_it_was_made_does_not_guess_when() -> None:
    assert "lastModified" not in fhir.task(advice(status="accepted", version=2), REQUESTER, BASE)


def test_instants_are_utc_and_keep_their_moment() -> None:
    """A due date at the end of a summer day in England is 22:59:59 UTC, not 23:59:59."""
    london = ZoneInfo("Europe/London")
    due = dt.datetime(2026, 6, 1, 23, 59, 59, tzinfo=london)
    built = fhir.task(advice(due_at=due), REQUESTER, BASE)
    assert built["restriction"]["period"]["end"] == "2026-06-01T22:59:59Z"
    assert built["authoredOn"] == "2026-01-05T09:00:12.345678Z"
    with pytest.raises(ValueError, match="timezone"):
        fhir.task(advice(due_at=dt.datetime(2026, 6, 1)), REQUESTER, BASE)


# --- the Patient and the family's agreement ----------------------------------------------------


def test_the_patient_carries_the_nhs_number_as_uk_core_says() -> None:
    built = fhir.patient(make_child(), sharing(["identity"]))
    [identifier] = built["identifier"]
    assert identifier["system"] == "https://fhir.nhs.uk/Id/nhs-number"
    assert identifier["value"] == make_nhs_number(1)
    [extension] = identifier["extension"]
    assert extension["url"] == (
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
    )
    assert extension["valueCodeableConcept"]["coding"][0] == {
        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
        "code": "01",
        "display": "Number present and verified",
    }
    assert built["name"][0] == {"use": "official", "family": "Rowntree", "given": ["Amelia"]}
    assert built["birthDate"] == "2014-03-09"


@given(st.lists(st.sampled_from(ALL_CATEGORIES), unique=True))
def test_the_patient_never_carries_more_than_identity(categories: list[SharingCategory]) -> None:
    child = make_child()
    if "identity" not in categories:
        with pytest.raises(fhir.FhirInvalid):
            fhir.patient(child, sharing(categories))
        return
    built = fhir.patient(child, sharing(categories))
    assert set(built) <= {"resourceType", "id", "meta", "identifier", "name", "birthDate"}
    assert [i["system"] for i in built["identifier"]] == [fhir.NHS_NUMBER_SYSTEM]
    assert str(child.identifiers.upn) not in str(built)
    assert str(child.school_urn) not in str(built)


def test_no_identity_no_agreement_or_no_nhs_number_means_no_patient() -> None:
    child = make_child()
    assert invalid_path(lambda: fhir.patient(child, sharing(["education", "send"]))) == "Patient"
    refused = sharing(ALL_CATEGORIES, agreed=False)
    assert invalid_path(lambda: fhir.patient(child, refused)) == "Patient"
    other = sharing(ALL_CATEGORIES, child_id="child-2")
    assert invalid_path(lambda: fhir.patient(child, other)) == "Patient"
    no_number = make_child(identifiers=ChildIdentifiers(upn=child.identifiers.upn))
    assert invalid_path(lambda: fhir.patient(no_number, sharing(ALL_CATEGORIES))) == (
        "Patient.identifier"
    )


@pytest.mark.parametrize(
    ("categories", "agreed", "noted"),
    [
        (["identity", "education"], True, True),
        (["identity", "send", "social_care"], True, False),
        (["identity", "education"], False, False),
    ],
)
def test_the_summary_goes_only_with_agreement_to_share_education(
    categories: list[SharingCategory], agreed: bool, noted: bool
) -> None:
    built = fhir.service_request(
        advice(), make_child(), sharing(categories, agreed=agreed), REQUESTER, SUMMARY
    )
    assert ("note" in built) is noted
    if noted:
        assert built["note"] == [{"text": SUMMARY}]


# --- a Task PUT by the NHS team ----------------------------------------------------------------


def shown(req: AdviceRequest | None = None) -> dict[str, Any]:
    return fhir.task(req or advice(), REQUESTER, BASE)


@pytest.mark.parametrize(
    "status", ["requested", "accepted", "in-progress", "completed", "rejected", "cancelled"]
)
def test_the_shown_task_with_a_new_status_parses(status: str) -> None:
    body = {**shown(), "status": status, "businessStatus": {"text": "Clinic booked"}}
    if status == "rejected":
        body["statusReason"] = {"coding": [{"code": "x", "display": "Not known to us"}]}
    validate(body)
    change = fhir.read_task_change(body, advice(), requester=REQUESTER)
    assert change.status == status
    assert change.business_status == "Clinic booked"
    assert change.status_reason == ("Not known to us" if status == "rejected" else None)
    assert (change.notes, change.outputs) == ([], [])


def test_notes_append_and_outputs_reference_posted_advice() -> None:
    current = advice(status="in-progress", notes=["Booked."], documents=["doc-1"], version=3)
    body = shown(current) | {
        "status": "completed",
        "note": [{"text": "Booked."}, {"text": "Seen in clinic."}],
        "output": [
            {
                "type": {"text": "Advice"},
                "valueReference": {"reference": "DocumentReference/doc-1"},
            },
            {
                "type": {"text": "Advice"},
                "valueReference": {"reference": f"{BASE}/DocumentReference/doc-2/_history/1"},
            },
        ],
    }
    validate(body)
    change = fhir.read_task_change(body, current)
    assert change.notes == ["Booked.", "Seen in clinic."]
    assert change.outputs == ["doc-1", "doc-2"]


def test_a_minimal_put_keeps_notes_and_outputs() -> None:
    current = advice(status="accepted", notes=["Booked."], documents=["doc-1"])
    body = {"resourceType": "Task", "id": "advice-1", "status": "in-progress", "intent": "order"}
    change = fhir.read_task_change(body, current)
    assert (change.status, change.notes, change.outputs) == ("in-progress", ["Booked."], ["doc-1"])
    cleared = fhir.read_task_change({**body, "output": []}, current)
    assert cleared.outputs == []


def test_an_echoed_restriction_in_another_offset_is_the_same_due_date() -> None:
    body = shown() | {"status": "accepted"}
    body["restriction"] = {"period": {"end": "2026-02-17T00:59:59+01:00"}}
    assert fhir.read_task_change(body, advice()).status == "accepted"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"owner": {"reference": "Organization/XYZ"}}, "Task.owner"),
        (
            {"owner": {"identifier": {"system": fhir.ODS_SYSTEM, "value": "XYZ"}}},
            "Task.owner",
        ),
        (
            {
                "owner": {
                    "reference": "Organization/RVR",
                    "identifier": {"system": fhir.ODS_SYSTEM, "value": "XYZ"},
                }
            },
            "Task.owner",
        ),
        ({"basedOn": [{"reference": "ServiceRequest/other"}]}, "Task.basedOn"),
        ({"focus": {"reference": "ServiceRequest/other"}}, "Task.focus"),
        ({"for": {"reference": "Patient/child-2"}}, "Task.for"),
        ({"requester": {"reference": "Organization/la-999"}}, "Task.requester"),
        (
            {"restriction": {"period": {"end": "2026-03-30T23:59:59Z"}}},
            "Task.restriction.period.end",
        ),
        (
            {"restriction": {"period": {"end": "2026-02-16T23:59:59Z"}, "repetitions": 2}},
            "Task.restriction",
        ),
        ({"code": {"text": "something else"}}, "Task.code"),
        ({"identifier": [{"system": "urn:x", "value": "1"}]}, "Task.identifier"),
        ({"intent": "plan"}, "Task.intent"),
        ({"id": "advice-2"}, "Task.id"),
        ({"status": "finished"}, "Task.status"),
        ({"status": "on-hold"}, "Task.status"),
        ({"executionPeriod": {"start": "2026-01-06T09:00:00Z"}}, "Task.executionPeriod"),
        ({"note": [{"text": "New"}, {"text": "Booked."}]}, "Task.note[0]"),
        ({"note": []}, "Task.note[0]"),
        ({"note": [{"text": "Booked."}, {"text": " "}]}, "Task.note[1].text"),
        (
            {"note": [{"text": "Booked."}, {"text": "x", "authorString": "Dr A"}]},
            "Task.note[1].authorString",
        ),
        (
            {
                "output": [
                    {"type": {"text": "Advice"}, "valueReference": {"reference": "Patient/p"}}
                ]
            },
            "Task.output[0].valueReference",
        ),
        (
            {"output": [{"type": {"text": "Advice"}, "valueString": "x"}]},
            "Task.output[0].valueReference",
        ),
        ({"resourceType": "ServiceRequest"}, "resourceType"),
    ],
)
def test_a_task_that_changes_what_is_not_the_teams_is_refused_by_name(
    change: dict[str, Any], path: str
) -> None:
    current = advice(notes=["Booked."])
    body = shown(current) | {"status": "accepted"} | change
    assert invalid_path(lambda: fhir.read_task_change(body, current, requester=REQUESTER)) == path


def test_a_task_without_its_id_or_status_is_refused() -> None:
    body = shown() | {"status": "accepted"}
    without_id = {k: v for k, v in body.items() if k != "id"}
    assert invalid_path(lambda: fhir.read_task_change(without_id, advice())) == "Task.id"
    without_status = {k: v for k, v in body.items() if k != "status"}
    assert invalid_path(lambda: fhir.read_task_change(without_status, advice())) == "Task.status"
    assert invalid_path(lambda: validate(without_status)) == "Task.status"


# --- a DocumentReference posted by the NHS team ------------------------------------------------

ADVICE = b"Seen in clinic. Needs: fatigue management; rest breaks; a lift pass."
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def posted(data: bytes = ADVICE, **attachment: Any) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "author": [{"display": "Dr A Paediatrician"}],
        "description": "Health advice",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(data).decode(),
                    **attachment,
                }
            }
        ],
        "context": {"related": [{"reference": "ServiceRequest/advice-1"}]},
    }


def test_advice_posted_as_text_or_pdf_is_read() -> None:
    body = posted(title="Health advice for Amelia", size=len(ADVICE))
    validate(body)
    document = fhir.read_document(body, 1000)
    assert document == fhir.IncomingDocument(
        advice_request_id="advice-1",
        content_type="text/plain",
        title="Health advice for Amelia",
        data=ADVICE,
        author="Dr A Paediatrician",
    )
    pdf = posted(PDF, contentType="application/pdf")
    pdf["context"] = {"related": [{"reference": f"{BASE}/Task/advice-1"}]}
    pdf["content"][0]["attachment"]["hash"] = base64.b64encode(
        hashlib.sha1(PDF, usedforsecurity=False).digest()
    ).decode()
    read = fhir.read_document(pdf, 1000)
    assert (read.content_type, read.data, read.title, read.advice_request_id) == (
        "application/pdf",
        PDF,
        "Health advice",
        "advice-1",
    )
    charset = posted(contentType="text/plain; charset=utf-8")
    assert fhir.read_document(charset, 1000).content_type == "text/plain"


def test_what_the_facade_serves_reads_back_as_the_same_advice() -> None:
    document = AdviceDocument(
        id="doc-1",
        advice_request_id="advice-1",
        content_type="text/plain",
        title="Health advice",
        size=len(ADVICE),
        sha256=hashlib.sha256(ADVICE).hexdigest(),
        author="Dr A Paediatrician",
        received_at=REQUESTED_AT,
    )
    served = fhir.document_reference(document, ADVICE, advice())
    validate(served)
    read = fhir.read_document(served, 1000)
    assert (read.data, read.title, read.author, read.advice_request_id) == (
        ADVICE,
        "Health advice",
        "Dr A Paediatrician",
        "advice-1",
    )


ATTACHMENT = "DocumentReference.content[0].attachment"


def garbage() -> dict[str, Any]:
    body = posted()
    body["content"][0]["attachment"]["data"] = "not base64 at all!!"
    return body


def without_related() -> dict[str, Any]:
    body = posted()
    body["context"] = {"related": [{"reference": "Patient/child-1"}]}
    return body


def two_requests() -> dict[str, Any]:
    body = posted()
    body["context"]["related"].append({"reference": "Task/advice-2"})
    return body


def by_url() -> dict[str, Any]:
    body = posted()
    attachment = body["content"][0]["attachment"]
    del attachment["data"]
    attachment["url"] = "https://nhs.example/advice.pdf"
    return body


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (garbage(), f"{ATTACHMENT}.data"),
        (posted(contentType="application/msword"), f"{ATTACHMENT}.contentType"),
        (posted(contentType="image/png"), f"{ATTACHMENT}.contentType"),
        (posted(b"x" * 1001), f"{ATTACHMENT}.data"),
        (posted(b""), f"{ATTACHMENT}.data"),
        (posted(ADVICE, contentType="application/pdf"), f"{ATTACHMENT}.data"),
        (posted(b"\xff\xfe advice"), f"{ATTACHMENT}.data"),
        (posted(size=3), f"{ATTACHMENT}.size"),
        (posted(hash="AAAA"), f"{ATTACHMENT}.hash"),
        (by_url(), f"{ATTACHMENT}.url"),
        (without_related(), "DocumentReference.context.related"),
        ({**posted(), "context": None}, "DocumentReference.context"),
        (two_requests(), "DocumentReference.context.related"),
        ({**posted(), "status": "superseded"}, "DocumentReference.status"),
        ({**posted(), "content": []}, "DocumentReference.content"),
        ({**posted(), "resourceType": "Binary"}, "resourceType"),
    ],
)
def test_advice_the_gateway_cannot_keep_is_refused_by_name(body: dict[str, Any], path: str) -> None:
    assert invalid_path(lambda: fhir.read_document(body, 1000)) == path


def test_oversize_advice_is_refused_before_it_is_decoded() -> None:
    body = posted(b"y" * 10_000)
    with pytest.raises(fhir.FhirInvalid, match="at most 1000 bytes"):
        fhir.read_document(body, 1000)
    assert fhir.read_document(posted(b"y" * 1000), 1000).data == b"y" * 1000


# --- validate() --------------------------------------------------------------------------------


def test_validate_names_the_element_at_fault() -> None:
    task = shown()
    assert invalid_path(lambda: validate({**task, "status": "finished"})) == "Task.status"
    late = copy.deepcopy(task)
    late["restriction"]["period"]["end"] = "16/02/2026"
    assert invalid_path(lambda: validate(late)) == "Task.restriction.period.end"
    assert invalid_path(lambda: validate({**task, "colour": "red"})) == "Task.colour"
    assert invalid_path(lambda: validate({"resourceType": "Tusk"})) == "resourceType"
    assert invalid_path(lambda: validate({"status": "requested"})) == "resourceType"
    assert invalid_path(lambda: validate({"resourceType": "Identifier"})) == "resourceType"
    message = bundle()
    message["entry"][2]["resource"]["status"] = "finished"
    assert invalid_path(lambda: validate(message)) == "Bundle.entry[2].resource.status"
    message["entry"][2]["resource"] = {"resourceType": "Tusk"}
    assert invalid_path(lambda: validate(message)) == "Bundle.entry[2].resource.resourceType"
    outcome = fhir.operation_outcome("wrong", "x")
    assert invalid_path(lambda: validate(outcome)) == "OperationOutcome.issue[0].code"
    patient = fhir.patient(make_child(), sharing(["identity"]))
    patient["gender"] = "boy"
    assert invalid_path(lambda: validate(patient)) == "Patient.gender"


def test_fhir_invalid_says_where_and_what() -> None:
    error = fhir.FhirInvalid("Task.status", "is required")
    assert (error.path, error.message) == ("Task.status", "is required")
    assert str(error) == "Task.status: is required"
    assert isinstance(error, ValueError)


# --- the CapabilityStatement -------------------------------------------------------------------


def test_the_capability_statement_says_exactly_what_the_facade_does() -> None:
    statement = fhir.capability_statement(BASE + "/", "1.2.3", REQUESTED_AT)
    assert (statement["fhirVersion"], statement["format"], statement["kind"]) == (
        "4.0.1",
        ["application/fhir+json"],
        "instance",
    )
    assert statement["software"]["version"] == "1.2.3"
    assert statement["implementation"]["url"] == BASE
    [rest] = statement["rest"]
    assert rest["mode"] == "server"
    supported = {r["type"]: {i["code"] for i in r["interaction"]} for r in rest["resource"]}
    assert supported == {
        "ServiceRequest": {"read", "search-type"},
        "Task": {"read", "search-type", "update", "patch"},
        "DocumentReference": {"create", "read"},
        "Patient": {"read"},
    }
    params = {r["type"]: {p["name"] for p in r.get("searchParam", [])} for r in rest["resource"]}
    assert params["ServiceRequest"] == {"performer", "status", "_id", "patient"}
    assert params["Task"] == {"owner", "status", "_id", "based-on"}
    assert params["DocumentReference"] == params["Patient"] == set()
