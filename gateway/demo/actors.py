"""The people and systems around the gateway in the demo, each speaking to it over HTTP with a
client of its own and only the scopes its job needs.

A school's MIS may send attendance for its own school only (a client bound to its URN); the
Children's Services Portal may only post notifications; the Section 19 officer reads and
changes cases; the NHS team sees only the requests addressed to its ODS code, through the FHIR
facade, as an NHS system would; the partnership board reads reports; the administrator loads
registers and looks at the outbox. The demo goes through the same doors a deployment's users
do, so what it shows is what they would get.

Every answer is kept in a ``Ledger``: the demo stops at the first answer it did not expect (a
refused step means the script and the gateway disagree), and a run can be checked for 5xx.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True)
class Exchange:
    """One request the demo made: who, what, and the status it got (never the body, which
    can carry a child's details)."""

    actor: str
    method: str
    path: str
    status: int


@dataclass
class Ledger:
    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def server_errors(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.status >= 500]


class StepRefused(RuntimeError):
    """The gateway answered a scripted step with a status the script did not expect."""

    def __init__(self, actor: str, method: str, path: str, answer: httpx.Response) -> None:
        detail = answer.text[:600]
        super().__init__(f"{actor}: {method} {path} answered {answer.status_code}: {detail}")
        self.status = answer.status_code


class Actor:
    """A client of the gateway with its own bearer token."""

    def __init__(self, name: str, base_url: str, token: str, ledger: Ledger) -> None:
        self.name = name
        self.token = token
        self._ledger = ledger
        self._http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120.0
        )

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: Sequence[int] = (200, 201, 202),
        **kwargs: Any,
    ) -> httpx.Response:
        answer = self._http.request(method, path, **kwargs)
        self._ledger.record(Exchange(self.name, method, path.split("?")[0], answer.status_code))
        if answer.status_code not in expect:
            raise StepRefused(self.name, method, path, answer)
        return answer

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(method, path, **kwargs).json()


class Administrator(Actor):
    """Loads the registers (GIAS, the approved AP list) and links children to Mosaic."""

    def import_gias(self, extract: bytes) -> dict[str, Any]:
        return dict(
            self.json(
                "POST",
                "/api/v1/providers/imports/gias",
                content=extract,
                headers={"content-type": "text/csv"},
            )
        )

    def import_approved_list(self, listing: bytes) -> dict[str, Any]:
        return dict(
            self.json(
                "POST",
                "/api/v1/providers/imports/approved",
                content=listing,
                headers={"content-type": "text/csv"},
            )
        )

    def link_mosaic_person(self, child_id: str, person_id: str) -> dict[str, Any]:
        return dict(
            self.json(
                "PUT",
                f"/api/v1/admin/children/{child_id}/mosaic-person",
                json={"person_id": person_id},
            )
        )


class SchoolMis(Actor):
    """One school's management information system, pushing its registers."""

    def __init__(self, name: str, base_url: str, token: str, ledger: Ledger, urn: str) -> None:
        super().__init__(name, base_url, token, ledger)
        self.urn = urn

    def send(self, body: bytes, media_type: str) -> dict[str, Any]:
        return dict(
            self.json(
                "POST",
                f"/api/v1/attendance/feeds?school_urn={self.urn}",
                content=body,
                headers={"content-type": media_type},
            )
        )


class Portal(Actor):
    """The Children's Services Portal's webhook."""

    def notify(self, notification: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.json("POST", "/api/v1/portal/notifications", json=notification))


class Officer(Actor):
    """The Section 19 officer (and panel clerk): registers, cases, decisions, assessments."""

    def register_child(self, details: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.json("POST", "/api/v1/children", json=details))

    def find_child(self, upn: str) -> dict[str, Any] | None:
        answer = self.call("GET", "/api/v1/children", params={"upn": upn}, expect=(200, 404))
        return None if answer.status_code == 404 else dict(answer.json())

    def share(self, child_id: str, agency: str, categories: Sequence[str]) -> None:
        self.call(
            "PUT",
            f"/api/v1/children/{child_id}/sharing/{agency}",
            json={"agreed": True, "categories": list(categories), "source": "consent form"},
        )

    def open_case(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.json("POST", "/api/v1/cases", json=body))

    def cases(self, **query: str) -> list[dict[str, Any]]:
        """Every case matching ``query``, following the cursor."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {**query, "limit": "200", **({"cursor": cursor} if cursor else {})}
            page = self.json("GET", "/api/v1/cases", params=params)
            found += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return found

    def case(self, case_id: str) -> dict[str, Any]:
        return dict(self.json("GET", f"/api/v1/cases/{case_id}"))

    def move(self, case_id: str, status: str, reason: str) -> dict[str, Any]:
        return dict(
            self.json(
                "POST",
                f"/api/v1/cases/{case_id}/status",
                json={"status": status, "reason": reason},
            )
        )

    def decide(self, case_id: str, outcome: str, decided_by: str, reason: str) -> dict[str, Any]:
        return dict(
            self.json(
                "POST",
                f"/api/v1/cases/{case_id}/decisions",
                json={"outcome": outcome, "decided_by": decided_by, "reason": reason},
            )
        )

    def agenda(self, panel: str, day: str) -> dict[str, Any]:
        return dict(self.json("GET", f"/api/v1/panels/{panel}/agenda", params={"date": day}))

    def assess(self, case_id: str, health_performer: str) -> dict[str, Any]:
        return dict(
            self.json(
                "POST",
                "/api/v1/ehcna",
                json={
                    "case_id": case_id,
                    "advisers": ["health", "social_care", "education", "educational_psychology"],
                    "health_performer": health_performer,
                },
            )
        )

    def concerns(self, child_id: str) -> list[dict[str, Any]]:
        """The child's attendance concerns, open and resolved."""
        page = self.json(
            "GET", "/api/v1/attendance/concerns", params={"child_id": child_id, "status": "all"}
        )
        return list(page["items"])

    def advice_requests(self, case_id: str) -> list[dict[str, Any]]:
        return list(self.json("GET", f"/api/v1/cases/{case_id}/advice-requests"))

    def record_advice(self, request_id: str, note: str) -> dict[str, Any]:
        return dict(
            self.json(
                "PATCH",
                f"/api/v1/advice-requests/{request_id}",
                json={"status": "completed", "note": note},
            )
        )

    def provider(self, service: str) -> dict[str, Any]:
        found = self.json(
            "GET", "/api/v1/providers", params={"approved": "true", "service": service}
        )
        return dict(found["providers"][0])

    def commission(self, case_id: str, placement: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.json("POST", f"/api/v1/cases/{case_id}/placements", json=placement))


class NhsTeam(Actor):
    """An NHS community paediatric team's system, answering through the FHIR facade: it
    finds its Tasks, accepts them, posts its advice as a DocumentReference and completes the
    Task with it (README "EHC needs-assessment advice and NHS teams over FHIR")."""

    def __init__(self, name: str, base_url: str, token: str, ledger: Ledger, ods: str) -> None:
        super().__init__(name, base_url, token, ledger)
        self.ods = ods

    def task_for_patient(self, nhs_number: str) -> dict[str, Any]:
        """The team's open Task for the child with ``nhs_number`` (found through the
        ServiceRequest search by patient identifier, as a clinician searching would)."""
        requests = self.json(
            "GET",
            "/fhir/R4/ServiceRequest",
            params={"patient.identifier": f"https://fhir.nhs.uk/Id/nhs-number|{nhs_number}"},
        )
        [entry] = requests["entry"]
        return dict(self.json("GET", f"/fhir/R4/Task/{entry['resource']['id']}"))

    def move(self, task_id: str, status: str, business_status: str | None = None) -> None:
        operations: list[dict[str, Any]] = [{"op": "replace", "path": "/status", "value": status}]
        if business_status is not None:
            operations.append(
                {"op": "add", "path": "/businessStatus", "value": {"text": business_status}}
            )
        self.call(
            "PATCH",
            f"/fhir/R4/Task/{task_id}",
            json=operations,
            headers={"content-type": JSON_PATCH},
        )

    def answer(self, task_id: str, advice: str) -> str:
        """Post the advice and complete the Task with it; the DocumentReference's id."""
        document = self.json(
            "POST",
            "/fhir/R4/DocumentReference",
            json={
                "resourceType": "DocumentReference",
                "status": "current",
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain",
                            "title": "Health advice for an EHC needs assessment",
                            "data": base64.b64encode(advice.encode()).decode(),
                        }
                    }
                ],
                "context": {"related": [{"reference": f"ServiceRequest/{task_id}"}]},
            },
            headers={"content-type": FHIR_JSON},
        )
        self.call(
            "PATCH",
            f"/fhir/R4/Task/{task_id}",
            json=[
                {"op": "replace", "path": "/status", "value": "completed"},
                {
                    "op": "add",
                    "path": "/output",
                    "value": [
                        {
                            "type": {"text": "Advice"},
                            "valueReference": {"reference": f"DocumentReference/{document['id']}"},
                        }
                    ],
                },
            ],
            headers={"content-type": JSON_PATCH},
        )
        return str(document["id"])


class Board(Actor):
    """The partnership board: reads the SLA report."""

    def sla(self, start: str, end: str) -> dict[str, Any]:
        return dict(
            self.json(
                "GET", "/api/v1/reports/sla", params={"from": start, "to": end, "format": "json"}
            )
        )


__all__ = [
    "Actor",
    "Administrator",
    "Board",
    "Exchange",
    "Ledger",
    "NhsTeam",
    "Officer",
    "Portal",
    "SchoolMis",
    "StepRefused",
]
