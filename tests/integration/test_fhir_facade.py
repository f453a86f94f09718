"""The FHIR facade as an NHS system uses it: a real FHIR client (fhirpy) over HTTP against the
gateway served on loopback (Sutton pack). The team finds its open requests, accepts one, posts
its advice, completes the Task, and the six-week clock is met; every refusal is an
OperationOutcome."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome as FhirError
from fhirpy.base.exceptions import ResourceNotFound

from gateway.app import create_app
from gateway.model.client import Scope
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.store import Store
from tests.support import child_json

ODS = "RVR"  # the Sutton pack's community paediatric service


class Served:
    def __init__(self, store: Store, url: str) -> None:
        self.store, self.url = store, url
        self.made = 0

    def token(self, *scopes: Scope, ods: tuple[str, ...] = ()) -> str:
        self.made += 1
        _, token = create_client(self.store, f"client-{self.made}", scopes, organisations=ods)
        return token

    def nhs_token(self, ods: str = ODS) -> str:
        """An NHS team's client: bound to its organisation, it sees only its requests."""
        return self.token("nhs", ods=(ods,))

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def fhir(self, token: str) -> SyncFHIRClient:
        return SyncFHIRClient(f"{self.url}/fhir/R4", authorization=f"Bearer {token}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(store: Store, database_url: str) -> Iterator[Served]:
    port = free_port()
    settings = Settings(
        database_url=database_url, policy="sutton", public_base_url=f"http://127.0.0.1:{port}"
    )
    app = create_app(settings, store, logging=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    yield Served(store, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


def assessment(served: Served, officer: str, serial: int, *, share: bool = True) -> str:
    """A child, the family's sharing decision, a case agreed for assessment; the case id."""
    child = served.api("POST", "/api/v1/children", officer, json=child_json(serial)).json()
    if share:
        shared = served.api(
            "PUT",
            f"/api/v1/children/{child['id']}/sharing/health",
            officer,
            json={"agreed": True, "categories": ["identity", "send"], "source": "request form"},
        )
        assert shared.status_code == 200, shared.text
    body = {"child_id": child["id"], "reason": "otherwise", "source": "school", "summary": "s"}
    case = served.api("POST", "/api/v1/cases", officer, json=body).json()
    served.api(
        "POST",
        f"/api/v1/cases/{case['id']}/status",
        officer,
        json={"status": "awaiting_panel", "reason": "r"},
    )
    decided = served.api(
        "POST",
        f"/api/v1/cases/{case['id']}/decisions",
        officer,
        json={"outcome": "assessment_agreed", "decided_by": "SEND panel", "reason": "needs"},
    )
    assert decided.status_code == 200, decided.text
    return str(case["id"])


def outcome_of(error: Exception) -> OperationOutcome:
    text = error.args[0]
    return OperationOutcome.model_validate_json(text if isinstance(text, str) else str(text))


def test_an_nhs_team_finds_answers_and_completes_its_advice_request(served: Served) -> None:
    officer = served.token("cases:write", "cases:read", "reports:read")
    case_id = assessment(served, officer, 1)
    nhs = served.fhir(served.nhs_token())

    found = (
        nhs.resources("ServiceRequest")
        .search(performer=f"Organization/{ODS}", status="active")
        .fetch()
    )
    assert len(found) == 1
    request = ServiceRequest.model_validate(found[0].serialize())
    assert request.status == "active"
    assert request.intent == "plan"
    due = request.occurrencePeriod.end.isoformat()
    patient = nhs.reference("Patient", request.subject.reference.split("/")[-1]).to_resource()
    nhs_numbers = [i["value"] for i in patient["identifier"]]
    assert child_json(1)["identifiers"]["nhs_number"] in nhs_numbers
    assert "address" not in patient

    [task] = nhs.resources("Task").search(owner=f"Organization/{ODS}").fetch()
    assert Task.model_validate(task.serialize()).restriction.period.end.isoformat() == due
    assert task["status"] == "requested"
    task["status"] = "accepted"
    task["businessStatus"] = {"text": "Appointment booked"}
    task.save()
    nhs.resource("Task", id=task["id"]).patch(status="in-progress")

    advice = "Assessed in clinic. Needs: fatigue management; rest breaks; lift pass."
    document = nhs.resource(
        "DocumentReference",
        status="current",
        content=[
            {
                "attachment": {
                    "contentType": "text/plain",
                    "title": "Health advice",
                    "data": base64.b64encode(advice.encode()).decode(),
                }
            }
        ],
        context={"related": [{"reference": f"ServiceRequest/{task['id']}"}]},
    )
    document.save()
    assert document["id"]

    current = nhs.reference("Task", task["id"]).to_resource()
    current["status"] = "completed"
    current["output"] = [
        {
            "type": {"text": "Advice"},
            "valueReference": {"reference": f"DocumentReference/{document['id']}"},
        }
    ]
    current.save()
    assert nhs.reference("Task", task["id"]).to_resource()["status"] == "completed"

    clocks = served.api(
        "GET",
        "/api/v1/sla/clocks",
        officer,
        params={"case_id": case_id, "kind": "sutton.advice.health"},
    ).json()
    assert [(c["state"], c["agency"]) for c in clocks] == [("met", "health")]
    timeline = served.api("GET", f"/api/v1/cases/{case_id}/timeline", officer).json()
    kinds = [e["detail"].get("action", {}).get("kind") for e in timeline]
    for kind in (
        "health_advice_requested",
        "health_advice_accepted",
        "health_advice_started",
        "health_advice_document",
        "health_advice_received",
    ):
        assert kind in kinds
    stored = served.api(
        "GET", f"/fhir/R4/DocumentReference/{document['id']}", served.nhs_token()
    ).json()
    assert base64.b64decode(stored["content"][0]["attachment"]["data"]).decode() == advice


def test_refusals_are_operation_outcomes_with_the_right_status(served: Served) -> None:
    officer = served.token("cases:write", "cases:read")
    assessment(served, officer, 2)
    token = served.nhs_token()
    nhs = served.fhir(token)
    [task] = nhs.resources("Task").search(owner=ODS).fetch()

    def call(method: str, path: str, who: str = token, **kwargs: Any) -> tuple[int, Any]:
        answer = served.api(method, f"/fhir/R4/{path}", who, **kwargs)
        assert answer.headers["content-type"].startswith("application/fhir+json"), answer.text
        outcome = OperationOutcome.model_validate_json(answer.text)
        return answer.status_code, outcome.issue[0]

    fhir_json = {"Content-Type": "application/fhir+json"}
    status, issue = call("GET", "Task/no-such-task")
    assert (status, issue.code) == (404, "not-found")
    with pytest.raises(ResourceNotFound):
        nhs.reference("Task", "no-such-task").to_resource()

    status, issue = call("GET", "Task", officer)  # wrong scope
    assert (status, issue.code) == (403, "forbidden")
    answer = httpx.get(f"{served.url}/fhir/R4/Task", timeout=10)  # no token
    assert answer.status_code == 401
    assert OperationOutcome.model_validate_json(answer.text).issue[0].code == "login"

    finished = {**task.serialize(), "status": "finished"}
    status, issue = call("PUT", f"Task/{task['id']}", json=finished, headers=fhir_json)
    assert (status, issue.code) == (400, "invalid")
    assert "Task.status" in (issue.expression or [""])[0]

    completed = {**task.serialize(), "status": "completed"}  # no advice attached
    status, issue = call("PUT", f"Task/{task['id']}", json=completed, headers=fhir_json)
    assert (status, issue.code) == (422, "business-rule")

    moved = {**task.serialize(), "owner": {"reference": "Organization/XYZ"}}
    status, issue = call("PUT", f"Task/{task['id']}", json=moved, headers=fhir_json)
    assert status == 400
    assert "Task.owner" in (issue.expression or [""])[0]

    rejected = {**task.serialize(), "status": "rejected", "statusReason": {"text": "not ours"}}
    answer = served.api(
        "PUT", f"/fhir/R4/Task/{task['id']}", token, json=rejected, headers=fhir_json
    )
    assert answer.status_code == 200, answer.text
    assert Task.model_validate_json(answer.text).status == "rejected"
    again = {**task.serialize(), "status": "accepted"}
    status, issue = call("PUT", f"Task/{task['id']}", json=again, headers=fhir_json)
    assert (status, issue.code) == (422, "business-rule")
    assert "rejected" in (issue.diagnostics or "")

    stale = {**task.serialize(), "status": "accepted"}
    status, issue = call(
        "PUT", f"Task/{task['id']}", json=stale, headers={**fhir_json, "If-Match": 'W/"1"'}
    )
    assert (status, issue.code) == (412, "conflict")

    status, issue = call(
        "GET",
        "ServiceRequest",
        params={"patient.identifier": "https://fhir.nhs.uk/Id/nhs-number|1234567890"},
    )
    assert status == 400
    assert "patient.identifier" in (issue.expression or [""])[0]
    with pytest.raises(FhirError):
        nhs.resources("ServiceRequest").search(status="finished").fetch()


def test_a_request_held_for_consent_is_invisible_to_health(served: Served) -> None:
    officer = served.token("cases:write", "cases:read")
    case_id = assessment(served, officer, 3, share=False)
    nhs = served.fhir(served.nhs_token())
    assert nhs.resources("ServiceRequest").search(performer=ODS).fetch() == []
    assert nhs.resources("Task").search(owner=ODS).fetch() == []
    requests = served.api("GET", f"/api/v1/cases/{case_id}/advice-requests", officer).json()
    [health] = [r for r in requests if r["adviser"] == "health"]
    assert health["status"] == "held"
    assert "no record" in health["held_reason"]
    with pytest.raises(ResourceNotFound):
        nhs.reference("Task", health["id"]).to_resource()
    with pytest.raises(ResourceNotFound):
        nhs.reference("Patient", health["child_id"]).to_resource()


def test_metadata_says_what_the_facade_supports(served: Served) -> None:
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    statement = served.fhir(served.nhs_token()).execute("metadata", method="get")
    capability = CapabilityStatement.model_validate(statement)
    [rest] = capability.rest
    supported = {r.type: {i.code for i in r.interaction} for r in rest.resource}
    assert supported["Task"] >= {"read", "search-type", "update", "patch"}
    assert supported["DocumentReference"] >= {"create", "read"}
    assert "delete" not in set().union(*supported.values())


def test_a_pdf_of_several_megabytes_is_taken_and_an_oversized_one_refused(
    served: Served,
) -> None:
    officer = served.token("cases:write", "cases:read")
    assessment(served, officer, 4)
    token = served.nhs_token()
    [task] = served.fhir(token).resources("Task").search(owner=ODS).fetch()

    def post(size: int) -> httpx.Response:
        pdf = b"%PDF-1.7\n" + b"0" * size + b"\n%%EOF\n"
        document = {
            "resourceType": "DocumentReference",
            "status": "current",
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "title": "Paediatric advice",
                        "data": base64.b64encode(pdf).decode(),
                    }
                }
            ],
            "context": {"related": [{"reference": f"ServiceRequest/{task['id']}"}]},
        }
        return served.api(
            "POST",
            "/fhir/R4/DocumentReference",
            token,
            json=document,
            headers={"Content-Type": "application/fhir+json"},
        )

    taken = post(3 * 1_048_576)
    assert taken.status_code == 201, taken.text[:300]
    refused = post(11 * 1_048_576)
    assert refused.status_code in (400, 413), refused.status_code
    outcome = OperationOutcome.model_validate_json(refused.text)
    assert outcome.issue[0].code in ("too-costly", "invalid")


def test_an_nhs_team_sees_only_its_own_organisations_requests(served: Served) -> None:
    officer = served.token("cases:write", "cases:read")
    assessment(served, officer, 5)
    [task] = served.fhir(served.nhs_token()).resources("Task").search().fetch()
    other = served.fhir(served.nhs_token("RWD"))
    assert other.resources("Task").search().fetch() == []
    assert other.resources("ServiceRequest").search(performer=ODS).fetch() == []
    with pytest.raises(ResourceNotFound):
        other.reference("Task", task["id"]).to_resource()
    with pytest.raises(ResourceNotFound):
        other.reference("Patient", task["for"]["reference"].split("/")[-1]).to_resource()
    accepted = {**task.serialize(), "status": "accepted"}
    hijack = served.api(
        "PUT",
        f"/fhir/R4/Task/{task['id']}",
        served.nhs_token("RWD"),
        json=accepted,
        headers={"Content-Type": "application/fhir+json"},
    )
    assert hijack.status_code == 404
    unbound = served.api("GET", "/fhir/R4/Task", served.token("nhs"))
    assert unbound.status_code == 403
    assert "ODS" in OperationOutcome.model_validate_json(unbound.text).issue[0].diagnostics
