"""contracts/fhir/*.json are what mappings/fhir.py builds for one fixed health advice request
(London Borough of Sutton asking RVR, Epsom and St Helier, for advice on an EHC needs
assessment: seed 004_a92c0651c0743a78.txt, "Requesting advice from Health"). Each validates as
FHIR R4 (fhir.resources R4B models plus R4's required codes), and the builders must still make
exactly these files. After a deliberate change to the builders, regenerate them with
`.venv/bin/python -m tests.contract.test_fhir_examples` and review the diff."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from fhir.resources.R4B import get_fhir_model_class

from adapters.nhs.resources import validate
from gateway.model.advice import AdviceDocument, AdviceRequest, SharingDecision
from gateway.model.child import Child, ChildIdentifiers, ChildName
from mappings import fhir
from tests.support import make_nhs_number, make_upn

CONTRACTS = pathlib.Path(__file__).parents[2] / "contracts" / "fhir"
BASE = "https://gateway.example/fhir/R4"
UTC = dt.UTC

CHILD = Child(
    id="0b8d5c1e-6a4f-4c1e-9d0a-3f2b7c8e1a55",
    identifiers=ChildIdentifiers(upn=make_upn(1, la="319"), nhs_number=make_nhs_number(1)),
    name=ChildName(given="Amelia", family="Rowntree", preferred="Millie"),
    date_of_birth=dt.date(2014, 3, 9),
    home_la="319",
    school_urn="120456",
    ehcp_status="assessing",
    looked_after=False,
    created_at=dt.datetime(2025, 11, 3, 10, 0, tzinfo=UTC),
    updated_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
)
SHARING = SharingDecision(
    child_id=CHILD.id,
    agency="health",
    agreed=True,
    categories=["identity", "education", "send"],
    recorded_at=dt.datetime(2025, 12, 15, 14, 0, tzinfo=UTC),
    recorded_by="officer-1",
    source="EHC needs assessment request form",
)
REQUESTER = fhir.Requester(
    authority_name="London Borough of Sutton",
    la_code="319",
    team_code="SEN_SERVICE",
    team_name="SEN Service, Cognus (EHC coordinators)",
)
SUMMARY = (
    "Year 4 pupil unable to attend full time since October because of chronic fatigue; "
    "the school asks for an EHC needs assessment."
)
REQUEST = AdviceRequest(
    id="3c9e2f4a-8b1d-4e6f-a2c7-5d0e9b4f1a36",
    case_id="c1a2b3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    child_id=CHILD.id,
    adviser="health",
    status="requested",
    performer="RVR",
    reason="Advice for an Education, Health and Care needs assessment",
    requested_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    due_at=dt.datetime(2026, 2, 16, 23, 59, 59, tzinfo=UTC),
)
DOCUMENT_ID = "9f4e2d1c-7b6a-4c5d-8e9f-0a1b2c3d4e5f"
ADVICE_TEXT = (
    b"Seen in clinic on 2 February 2026 with her mother.\n"
    b"Needs: fatigue management plan; rest breaks; a lift pass; a phased timetable.\n"
    b"Signed off by the Designated Medical Officer.\n"
)
COMPLETED = msgspec.structs.replace(
    REQUEST,
    status="completed",
    business_status="Advice signed off by the Designated Medical Officer",
    notes=["Appointment booked for 2 February 2026.", "Seen in clinic; advice to follow."],
    documents=[DOCUMENT_ID],
    completed_at=dt.datetime(2026, 2, 10, 15, 30, tzinfo=UTC),
    version=5,
)
DOCUMENT = AdviceDocument(
    id=DOCUMENT_ID,
    advice_request_id=REQUEST.id,
    content_type="text/plain",
    title="Health advice for an EHC needs assessment",
    size=len(ADVICE_TEXT),
    sha256=hashlib.sha256(ADVICE_TEXT).hexdigest(),
    author="Community Paediatric Service, Epsom and St Helier",
    received_at=dt.datetime(2026, 2, 10, 15, 20, tzinfo=UTC),
)
INVALID_TASK = {**fhir.task(REQUEST, REQUESTER, BASE), "status": "finished"}


def invalid_outcome() -> dict[str, Any]:
    """What the facade answers to a Task PUT with a status FHIR does not have."""
    try:
        validate(INVALID_TASK)
    except fhir.FhirInvalid as exc:
        return fhir.operation_outcome("invalid", str(exc), expression=exc.path)
    raise AssertionError("a Task with status 'finished' validated")


def bundle() -> dict[str, Any]:
    return fhir.advice_bundle(
        REQUEST,
        CHILD,
        SHARING,
        REQUESTER,
        SUMMARY,
        message_id="7d5b6e0a-2f3c-4b1d-9e8f-6a5b4c3d2e1f",
        sent_at=dt.datetime(2026, 1, 5, 9, 0, 5, tzinfo=UTC),
        source_endpoint=BASE,
        base_url=BASE,
        destination_endpoint="https://nhs-rvr.example/bars/R4/$process-message",
    )


# Each file in contracts/fhir and what builds it.
EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "advice-request-bundle.json": bundle,
    "servicerequest.json": lambda: fhir.service_request(
        REQUEST, CHILD, SHARING, REQUESTER, SUMMARY
    ),
    "task-requested.json": lambda: fhir.task(REQUEST, REQUESTER, BASE),
    "task-completed.json": lambda: fhir.task(COMPLETED, REQUESTER, BASE),
    "patient.json": lambda: fhir.patient(CHILD, SHARING),
    "documentreference-advice.json": lambda: fhir.document_reference(
        DOCUMENT, ADVICE_TEXT, COMPLETED
    ),
    "capabilitystatement.json": lambda: fhir.capability_statement(
        BASE, "1.0.0", dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    ),
    "operationoutcome-invalid.json": invalid_outcome,
}


def render(resource: dict[str, Any]) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def stored(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text(encoding="utf-8"))


def test_the_examples_are_exactly_the_files_in_contracts_fhir() -> None:
    assert sorted(p.name for p in CONTRACTS.glob("*.json")) == sorted(EXAMPLES)
    assert (CONTRACTS / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_builders_still_make_each_example(name: str) -> None:
    assert EXAMPLES[name]() == stored(name), (
        f"mappings/fhir.py no longer builds contracts/fhir/{name}: if the change is meant, "
        "run `.venv/bin/python -m tests.contract.test_fhir_examples` and review the diff"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in CONTRACTS.glob("*.json")))
def test_each_file_is_valid_fhir(name: str) -> None:
    body = stored(name)
    validate(body)  # R4's required codes as well as the models
    model = get_fhir_model_class(body["resourceType"]).model_validate(body)
    assert model.model_dump(mode="json", exclude_none=True)["resourceType"] == body["resourceType"]


def test_the_examples_say_what_the_readme_says() -> None:
    """Spot checks that the files carry the meaning the README gives them."""
    bundle = stored("advice-request-bundle.json")
    header = bundle["entry"][0]["resource"]
    assert (header["resourceType"], header["eventCoding"]["code"]) == (
        "MessageHeader",
        "servicerequest-request",
    )
    completed = stored("task-completed.json")
    assert completed["status"] == "completed"
    assert completed["output"][0]["valueReference"]["reference"] == (
        f"DocumentReference/{stored('documentreference-advice.json')['id']}"
    )
    document = stored("documentreference-advice.json")
    attachment = document["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]) == ADVICE_TEXT
    assert document["context"]["related"] == [{"reference": f"ServiceRequest/{REQUEST.id}"}]
    outcome = stored("operationoutcome-invalid.json")
    assert outcome["issue"][0]["expression"] == ["Task.status"]
    assert stored("capabilitystatement.json")["fhirVersion"] == "4.0.1"


def write() -> None:
    CONTRACTS.mkdir(parents=True, exist_ok=True)
    for name, build in EXAMPLES.items():
        resource = build()
        validate(resource)
        (CONTRACTS / name).write_text(render(resource), encoding="utf-8")
        sys.stdout.write(f"wrote contracts/fhir/{name}\n")


if __name__ == "__main__":
    write()
