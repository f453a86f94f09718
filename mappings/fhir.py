"""Health advice requests as FHIR R4: the message Bundle sent to the NHS team, the resources the
FHIR facade serves, and the Task updates and advice documents NHS teams send back.

Once the authority decides to assess, health has six weeks from the request to give its advice
(Sutton protocol, 004_a92c0651c0743a78.txt, "3. EHC Needs Assessment Process" and "Standard
Operating Procedures", "Requesting advice from Health"). The request travels in the style of the
NHS Booking and Referral Standard (BaRS, DOMAIN.md "NHS referrals over FHIR"): a Bundle of type
``message`` whose MessageHeader (event ``servicerequest-request``) points at a ServiceRequest
(``status`` active, ``intent`` plan, category ``referral``). BaRS leaves progress tracking to
each service, so the gateway adds a FHIR Workflow Task (code ``fulfill``, focus the
ServiceRequest) carrying the due date; the NHS team moves it through its statuses and posts its
advice as a DocumentReference. Patient and Organization follow UK Core.

Plain dicts in and out, no FHIR model library: adapters/nhs/resources.py validates what is built
and received with fhir.resources, and this module stays cheap to import.

Choices, each made once here:

* Status (AdviceRequest.status → ServiceRequest.status / Task.status), ``STATUS_MAP``: held →
  draft/draft (not yet a request: the family has not agreed); requested, accepted, in-progress →
  active/the same (BaRS sends ``active``; progress is the Task's business); completed →
  completed/completed; cancelled (the authority withdrew) → revoked/cancelled; rejected (the NHS
  team declined) → revoked/rejected: the transitions table has no move out of "rejected", so this
  request's authorisation has ended and no further activity may occur under it, which is what
  ``revoked`` means (http://hl7.org/fhir/R4/valueset-request-status.html); the authority asks
  again with a new request.
* References: every entry's fullUrl is the resource's address under the facade's base
  (``<base>/ServiceRequest/<id>``) and references inside resources are relative
  (``Patient/<id>``). FHIR resolves a relative reference in a Bundle against the base of the
  entry's fullUrl (http://hl7.org/fhir/R4/bundle.html#references), so references resolve inside
  the message, and the same resources read from the facade carry the same references.
* Organisations are referenced by id and carry their identifier (ODS code, LA number) and a
  display, so a reader without the Bundle still knows who they are.
* Instants are UTC with a ``Z``; ``birthDate`` is a date.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from gateway.model.advice import AdviceDocument, AdviceRequest, SharingDecision
from gateway.model.child import Child

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
# UK Core: how far the NHS number has been verified. "01" is "Number present and verified".
NHS_NUMBER_VERIFICATION_URL = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
NHS_NUMBER_VERIFICATION_SYSTEM = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
)
NHS_NUMBER_VERIFIED = ("01", "Number present and verified")

# BaRS code systems (BaRS implementation guide, MessageHeader and ServiceRequest).
BARS_EVENT_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
BARS_REASON_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
BARS_CATEGORY_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-category-servicerequest"
BARS_EVENT = "servicerequest-request"

# The gateway's own systems.
ADVICE_CATEGORY_SYSTEM = "https://s19-gateway.example/CodeSystem/advice-category"
ADVICE_CATEGORY = ("ehc-needs-assessment-advice", "Advice for an EHC needs assessment")
ADVICE_REQUEST_SYSTEM = "https://s19-gateway.example/Id/advice-request"
LA_CODE_SYSTEM = "https://s19-gateway.example/Id/dfe-la-number"
ADVICE_CODE_TEXT = "Health advice for an Education, Health and Care needs assessment"
ADVICE_OUTPUT_TEXT = "Advice"

# FHIR Workflow: a Task that fulfils the request in its focus.
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
TASK_CODE = ("fulfill", "Fulfill the focal request")
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
DATA_ABSENT_REASON_URL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"
ADVICE_CONTENT_TYPES = ("application/pdf", "text/plain")

# AdviceRequest.status → (ServiceRequest.status, Task.status); see the module docstring.
STATUS_MAP: dict[str, tuple[str, str]] = {
    "held": ("draft", "draft"),
    "requested": ("active", "requested"),
    "accepted": ("active", "accepted"),
    "in-progress": ("active", "in-progress"),
    "completed": ("completed", "completed"),
    "rejected": ("revoked", "rejected"),
    "cancelled": ("revoked", "cancelled"),
}
# Every FHIR R4 Task status (http://hl7.org/fhir/R4/valueset-task-status.html), and the ones an
# NHS team may state: the statuses an advice request has, less "held" (the gateway's own).
TASK_STATUSES = frozenset(
    {
        "draft",
        "requested",
        "received",
        "accepted",
        "rejected",
        "ready",
        "cancelled",
        "in-progress",
        "on-hold",
        "failed",
        "completed",
        "entered-in-error",
    }
)
TRACKED_TASK_STATUSES = (
    "requested",
    "accepted",
    "in-progress",
    "completed",
    "rejected",
    "cancelled",
)

# The Task elements a PUT may carry. The gateway owns some (they must match what it shows), is
# told the others, and ignores the server-managed ones a client echoes back (meta, dates).
TASK_OWNED = ("identifier", "basedOn", "focus", "for", "owner", "requester", "restriction", "code")
TASK_TOLD = ("status", "businessStatus", "statusReason", "note", "output")
TASK_ECHOED = ("resourceType", "id", "meta", "intent", "authoredOn", "lastModified")
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


class FhirInvalid(ValueError):
    """A resource the gateway cannot build or accept. ``path`` is FHIRPath-like
    ("Task.status", "DocumentReference.content[0].attachment.data") so the facade can name it
    in the OperationOutcome's ``expression``."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class Requester(msgspec.Struct, frozen=True, kw_only=True):
    """The authority team asking for the advice (the pack's authority and the case's lead)."""

    authority_name: str
    la_code: str | None
    team_code: str
    team_name: str


class TaskChange(msgspec.Struct, frozen=True, kw_only=True):
    """What an NHS team said in a Task it PUT: the advice request's new state."""

    status: str
    business_status: str | None
    status_reason: str | None
    notes: list[str]
    outputs: list[str]  # DocumentReference ids


class IncomingDocument(msgspec.Struct, frozen=True, kw_only=True):
    """The advice an NHS team posted as a DocumentReference, decoded."""

    advice_request_id: str
    content_type: str
    title: str
    data: bytes
    author: str | None


# --- small pieces ------------------------------------------------------------------------------


def instant(value: dt.datetime) -> str:
    """A FHIR instant in UTC ("Z"); naive datetimes are refused, since a local time without its
    offset would be read as UTC by the receiver and move the due date."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a FHIR instant needs a timezone: {value!r}")
    text = value.astimezone(dt.UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _profile(name: str) -> dict[str, Any]:
    return {"profile": [UK_CORE + name]}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _ods(ods: str) -> str:
    if not ODS_CODE.match(ods):
        raise FhirInvalid("Organization.identifier", f"not an ODS code: {ods!r}")
    return ods


def la_organization_id(requester: Requester) -> str:
    """The LA's Organization id: ``la-<LA number>``, or a slug of its name without one."""
    if requester.la_code:
        return f"la-{requester.la_code}"
    slug = re.sub(r"[^a-z0-9]+", "-", requester.authority_name.lower()).strip("-")
    return f"la-{slug[:61] or 'authority'}"


def _la_reference(requester: Requester) -> dict[str, Any]:
    reference: dict[str, Any] = {"reference": f"Organization/{la_organization_id(requester)}"}
    if requester.la_code:
        reference["identifier"] = {"system": LA_CODE_SYSTEM, "value": requester.la_code}
    reference["display"] = f"{requester.team_name}, {requester.authority_name}"
    return reference


def _ods_reference(ods: str) -> dict[str, Any]:
    return {
        "reference": f"Organization/{_ods(ods)}",
        "identifier": {"system": ODS_SYSTEM, "value": ods},
    }


def _agreed_categories(child: Child, sharing: SharingDecision) -> frozenset[str]:
    """What the family agreed health may see. A decision about another child or agency is a
    mistake upstream: refused rather than read as agreement."""
    if sharing.child_id != child.id:
        raise FhirInvalid("Patient", "the sharing decision is for another child")
    if sharing.agency != "health":
        raise FhirInvalid("Patient", f"the sharing decision is for {sharing.agency}, not health")
    if sharing.safeguarding_override:  # shared for the child's safety: what health needs
        return frozenset({"identity", "education", "send", "social_care"})
    return frozenset(sharing.categories) if sharing.agreed else frozenset()


def _statuses(req: AdviceRequest) -> tuple[str, str]:
    return STATUS_MAP[req.status]


# --- builders ----------------------------------------------------------------------------------


def patient(child: Child, sharing: SharingDecision) -> dict[str, Any]:
    """UK Core Patient with only what the family agreed: "identity" gives the NHS number, name
    and date of birth; no other category adds anything, and address, telecom, school and
    contacts are never sent ("Tell us once", 004 "Undertaking an EHC Needs Assessment")."""
    categories = _agreed_categories(child, sharing)
    if "identity" not in categories:
        raise FhirInvalid("Patient", "the family has not agreed to share the child's identity")
    nhs_number = child.identifiers.nhs_number
    if not nhs_number:
        raise FhirInvalid("Patient.identifier", "the child has no NHS number")
    code, display = NHS_NUMBER_VERIFIED
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": child.id,
        "meta": _profile("Patient"),
        "identifier": [
            {
                "extension": [
                    {
                        "url": NHS_NUMBER_VERIFICATION_URL,
                        "valueCodeableConcept": {
                            "coding": [_coding(NHS_NUMBER_VERIFICATION_SYSTEM, code, display)]
                        },
                    }
                ],
                "system": NHS_NUMBER_SYSTEM,
                "value": nhs_number,
            }
        ],
    }
    if child.name is not None:
        names: list[dict[str, Any]] = [
            {"use": "official", "family": child.name.family, "given": [child.name.given]}
        ]
        if child.name.preferred and child.name.preferred != child.name.given:
            names.append(
                {"use": "usual", "family": child.name.family, "given": [child.name.preferred]}
            )
        resource["name"] = names
    if child.date_of_birth is not None:
        resource["birthDate"] = child.date_of_birth.isoformat()
    return resource


def service_request(
    req: AdviceRequest,
    child: Child,
    sharing: SharingDecision,
    requester: Requester,
    summary: str | None,
) -> dict[str, Any]:
    """The request for advice, BaRS-style: ``intent`` plan, category ``referral`` plus the
    gateway's own advice category, the six weeks as ``occurrencePeriod``. The case summary is
    the referral's own words, so it goes (as a note) only when the family agreed to share
    "education"."""
    if req.child_id != child.id:
        raise FhirInvalid("ServiceRequest.subject", "the advice request is for another child")
    categories = _agreed_categories(child, sharing)
    code, display = ADVICE_CATEGORY
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": req.id,
        "meta": _profile("ServiceRequest"),
        "identifier": [{"system": ADVICE_REQUEST_SYSTEM, "value": req.id}],
        "status": _statuses(req)[0],
        "intent": "plan",
        "category": [
            {"coding": [_coding(BARS_CATEGORY_SYSTEM, "referral")]},
            {"coding": [_coding(ADVICE_CATEGORY_SYSTEM, code, display)]},
        ],
        "code": {"text": ADVICE_CODE_TEXT},
        "subject": {"reference": f"Patient/{child.id}"},
        "occurrencePeriod": {"start": instant(req.requested_at), "end": instant(req.due_at)},
        "authoredOn": instant(req.requested_at),
        "requester": _la_reference(requester),
        "performer": [_ods_reference(req.performer)],
        "reasonCode": [{"text": req.reason}],
    }
    if summary and "education" in categories:
        resource["note"] = [{"text": summary}]
    return resource


def task(req: AdviceRequest, requester: Requester, base_url: str) -> dict[str, Any]:
    """The FHIR Workflow Task the NHS team updates: it fulfils the ServiceRequest, must be done
    by ``restriction.period.end`` (the six weeks), and completes with the advice as output.
    ``meta.versionId`` is the request's version, for If-Match; ``meta.source`` names the facade
    that keeps it. ``lastModified`` is given when it is known: the completion time, or the
    request time while the Task has never changed."""
    task_status = _statuses(req)[1]
    code, display = TASK_CODE
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": req.id,
        "meta": {
            "versionId": str(req.version),
            "source": base_url.rstrip("/"),
            **_profile("Task"),
        },
        "identifier": [{"system": ADVICE_REQUEST_SYSTEM, "value": req.id}],
        "basedOn": [{"reference": f"ServiceRequest/{req.id}"}],
        "status": task_status,
    }
    if req.status_reason:
        resource["statusReason"] = {"text": req.status_reason}
    if req.business_status:
        resource["businessStatus"] = {"text": req.business_status}
    resource |= {
        "intent": "order",
        "code": {"coding": [_coding(TASK_CODE_SYSTEM, code, display)]},
        "focus": {"reference": f"ServiceRequest/{req.id}"},
        "for": {"reference": f"Patient/{req.child_id}"},
        "authoredOn": instant(req.requested_at),
    }
    if req.completed_at is not None:
        resource["lastModified"] = instant(req.completed_at)
    elif req.version == 1:
        resource["lastModified"] = instant(req.requested_at)
    resource |= {
        "requester": _la_reference(requester),
        "owner": _ods_reference(req.performer),
        "restriction": {"period": {"end": instant(req.due_at)}},
    }
    if req.notes:
        resource["note"] = [{"text": text} for text in req.notes]
    if req.documents:
        resource["output"] = [
            {
                "type": {"text": ADVICE_OUTPUT_TEXT},
                "valueReference": {"reference": f"DocumentReference/{document_id}"},
            }
            for document_id in req.documents
        ]
    return resource


def organization_ods(ods: str) -> dict[str, Any]:
    """An NHS organisation known by its ODS code (UK Core Organization)."""
    return {
        "resourceType": "Organization",
        "id": _ods(ods),
        "meta": _profile("Organization"),
        "identifier": [{"system": ODS_SYSTEM, "value": ods}],
    }


def organization_la(requester: Requester) -> dict[str, Any]:
    """The local authority (UK Core Organization, type "govt"), known by its DfE LA number."""
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": la_organization_id(requester),
        "meta": _profile("Organization"),
    }
    if requester.la_code:
        resource["identifier"] = [{"system": LA_CODE_SYSTEM, "value": requester.la_code}]
    resource |= {
        "active": True,
        "type": [
            {"coding": [_coding(ORGANIZATION_TYPE_SYSTEM, "govt", "Government")]},
        ],
        "name": requester.authority_name,
    }
    return resource


def document_reference(
    document: AdviceDocument, content: bytes, advice: AdviceRequest
) -> dict[str, Any]:
    """Advice the gateway holds, as the facade serves it: the attachment inline (base64), its
    size and SHA-1 hash (FHIR's Attachment.hash), related to the ServiceRequest it answers."""
    attachment: dict[str, Any] = {
        "contentType": document.content_type,
        "data": base64.b64encode(content).decode("ascii"),
        "size": len(content),
        "hash": base64.b64encode(hashlib.sha1(content, usedforsecurity=False).digest()).decode(),
        "title": document.title,
    }
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": document.id,
        "meta": {"versionId": "1", **_profile("DocumentReference")},
        "status": "current",
        "docStatus": "final",
        "type": {"text": ADVICE_CODE_TEXT},
        "subject": {"reference": f"Patient/{advice.child_id}"},
        "date": instant(document.received_at),
    }
    if document.author:
        resource["author"] = [{"display": document.author}]
    resource |= {
        "description": document.title,
        "content": [{"attachment": attachment}],
        "context": {"related": [{"reference": f"ServiceRequest/{advice.id}"}]},
    }
    return resource


def _entry(base_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
    }


def advice_bundle(
    req: AdviceRequest,
    child: Child,
    sharing: SharingDecision,
    requester: Requester,
    summary: str | None,
    *,
    message_id: str,
    sent_at: dt.datetime,
    source_endpoint: str,
    base_url: str,
    destination_endpoint: str | None = None,
) -> dict[str, Any]:
    """The BaRS-style message: MessageHeader first (event ``servicerequest-request``, reason
    ``new``, or ``update`` for a withdrawal as BaRS sends cancellations), then the ServiceRequest
    in its focus, the Task, the Patient and both Organizations.

    ``message_id`` is both the Bundle's id and the MessageHeader's, so a resend carries the same
    id and the receiver's answer (MessageHeader.response.identifier) names it.
    ``destination_endpoint`` is where the message is posted; FHIR requires one, and when the
    caller does not give it the element carries the data-absent-reason extension instead."""
    if req.status == "held":
        raise FhirInvalid("ServiceRequest.status", "a held advice request is not sent")
    if req.adviser != "health":
        raise FhirInvalid("ServiceRequest.performer", f"{req.adviser} advice is not sent as FHIR")
    base = base_url.rstrip("/")
    sender = la_organization_id(requester)
    destination: dict[str, Any] = {}
    if destination_endpoint:
        destination["endpoint"] = destination_endpoint
    else:
        destination["_endpoint"] = {
            "extension": [{"url": DATA_ABSENT_REASON_URL, "valueCode": "unknown"}]
        }
    destination["receiver"] = _ods_reference(req.performer)
    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": message_id,
        "meta": _profile("MessageHeader"),
        "eventCoding": _coding(BARS_EVENT_SYSTEM, BARS_EVENT),
        "destination": [destination],
        "sender": {"reference": f"Organization/{sender}", "display": requester.authority_name},
        "source": {"name": "Section 19 interoperability gateway", "endpoint": source_endpoint},
        "reason": {
            "coding": [
                _coding(BARS_REASON_SYSTEM, "update" if req.status == "cancelled" else "new")
            ]
        },
        "focus": [{"reference": f"ServiceRequest/{req.id}"}],
    }
    resources = [
        header,
        service_request(req, child, sharing, requester, summary),
        task(req, requester, base),
        patient(child, sharing),
        organization_ods(req.performer),
        organization_la(requester),
    ]
    return {
        "resourceType": "Bundle",
        "id": message_id,
        "meta": _profile("Bundle"),
        "type": "message",
        "timestamp": instant(sent_at),
        "entry": [_entry(base, resource) for resource in resources],
    }


def capability_statement(base_url: str, software_version: str, now: dt.datetime) -> dict[str, Any]:
    """What the facade at ``base_url`` does, and nothing more (FHIR R4 4.0.1, JSON only). NHS
    teams find their requests (ServiceRequest, Task), move the Task, post the advice
    (DocumentReference) and read the child (Patient) as far as the family agreed."""
    base = base_url.rstrip("/")

    def param(name: str, kind: str, definition: str, documentation: str) -> dict[str, Any]:
        return {
            "name": name,
            "definition": f"http://hl7.org/fhir/SearchParameter/{definition}",
            "type": kind,
            "documentation": documentation,
        }

    def interactions(*codes: str) -> list[dict[str, Any]]:
        return [{"code": code} for code in codes]

    by_ods = f"Organization/<ODS code>, the ODS code, or {ODS_SYSTEM}|<ODS code>"
    request_statuses = "active (requested, accepted or in progress), completed, revoked"
    task_statuses = ", ".join(TRACKED_TASK_STATUSES)
    return {
        "resourceType": "CapabilityStatement",
        "url": f"{base}/metadata",
        "version": software_version,
        "name": "SectionNineteenGatewayFhirFacade",
        "title": "Section 19 gateway: FHIR facade for health advice requests",
        "status": "active",
        "experimental": False,
        "date": instant(now),
        "publisher": "Section 19 interoperability gateway",
        "description": (
            "NHS teams read the advice requests made of them for Education, Health and Care "
            "needs assessments, move each request's Task through its statuses, and post their "
            "advice as a DocumentReference; the advice is due within six weeks of the request."
        ),
        "kind": "instance",
        "software": {"name": "s19-gateway", "version": software_version},
        "implementation": {"description": "Section 19 gateway FHIR facade", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON],
        "patchFormat": ["application/json-patch+json", "application/merge-patch+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Requests held for the family's agreement are not shown. Errors are "
                    "OperationOutcomes."
                ),
                "security": {
                    "description": "A bearer token with the nhs scope, issued by the authority."
                },
                "resource": [
                    {
                        "type": "ServiceRequest",
                        "supportedProfile": [UK_CORE + "ServiceRequest"],
                        "interaction": interactions("read", "search-type"),
                        "searchParam": [
                            param(
                                "performer",
                                "reference",
                                "ServiceRequest-performer",
                                by_ods,
                            ),
                            param(
                                "status",
                                "token",
                                "ServiceRequest-status",
                                f"One or more of: {request_statuses}",
                            ),
                            param(
                                "_id", "token", "Resource-id", "One or more ids, comma-separated"
                            ),
                            param(
                                "patient",
                                "reference",
                                "clinical-patient",
                                "Patient/<id>; also chained as patient.identifier="
                                f"{NHS_NUMBER_SYSTEM}|<NHS number>",
                            ),
                        ],
                    },
                    {
                        "type": "Task",
                        "supportedProfile": [UK_CORE + "Task"],
                        "interaction": interactions("read", "search-type", "update", "patch"),
                        "versioning": "versioned-update",
                        "readHistory": False,
                        "updateCreate": False,
                        "searchParam": [
                            param(
                                "owner",
                                "reference",
                                "Task-owner",
                                by_ods,
                            ),
                            param(
                                "status", "token", "Task-status", f"One or more of: {task_statuses}"
                            ),
                            param(
                                "_id", "token", "Resource-id", "One or more ids, comma-separated"
                            ),
                            param("based-on", "reference", "Task-based-on", "ServiceRequest/<id>"),
                        ],
                    },
                    {
                        "type": "DocumentReference",
                        "supportedProfile": [UK_CORE + "DocumentReference"],
                        "documentation": (
                            "The advice: one attachment, application/pdf or text/plain, inline "
                            "as base64 data, with context.related naming the ServiceRequest or "
                            "Task it answers."
                        ),
                        "interaction": interactions("create", "read"),
                    },
                    {
                        "type": "Patient",
                        "supportedProfile": [UK_CORE + "Patient"],
                        "documentation": "Only what the family agreed health may see.",
                        "interaction": interactions("read"),
                    },
                ],
            }
        ],
    }


def operation_outcome(
    code: str, diagnostics: str, *, severity: str = "error", expression: str | None = None
) -> dict[str, Any]:
    """One issue (code from http://hl7.org/fhir/R4/valueset-issue-type.html); ``expression``
    is the FHIRPath of the element at fault, as FhirInvalid.path gives it."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression is not None:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


# --- readers -----------------------------------------------------------------------------------


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FhirInvalid(path, "must be a JSON object")
    return value


def _list(value: Any, path: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise FhirInvalid(path, "must be a JSON array")
    return value


def _text(value: Any, path: str) -> str | None:
    """A CodeableConcept's words: its text, else its first coding's display or code."""
    if value is None:
        return None
    concept = _object(value, path)
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in concept.get("coding") or []:
        if isinstance(coding, Mapping):
            words = coding.get("display") or coding.get("code")
            if isinstance(words, str) and words.strip():
                return words.strip()
    return None


def _target(reference: Any, path: str) -> str | None:
    """``Type/id`` from a Reference (relative, absolute or versioned), None when it has none."""
    ref = _object(reference, path).get("reference")
    if ref is None:
        return None
    if not isinstance(ref, str):
        raise FhirInvalid(f"{path}.reference", "must be a string")
    parts = ref.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) < 2:
        return ref
    return f"{parts[-2]}/{parts[-1]}"


def _parse_instant(value: Any, path: str) -> dt.datetime:
    if not isinstance(value, str):
        raise FhirInvalid(path, "must be an instant")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise FhirInvalid(path, f"not an instant: {value!r}") from None
    if parsed.tzinfo is None:
        raise FhirInvalid(path, "an instant needs its offset")
    return parsed


def _same_target(resource: Mapping[str, Any], name: str, expected: str, why: str) -> None:
    """Task.<name>, when present, still points at ``expected`` (a list: at it alone)."""
    if name not in resource:
        return
    path = f"Task.{name}"
    value = resource[name]
    if isinstance(value, list):
        targets = [_target(item, f"{path}[{i}]") for i, item in enumerate(value)]
        same = targets == [expected]
    else:
        same = _target(value, path) == expected
    if not same:
        raise FhirInvalid(path, f"must stay {expected}: {why}")


def _same_owner(resource: Mapping[str, Any], current: AdviceRequest) -> None:
    """The owner may come back as a reference, an ODS identifier, or both; each must agree."""
    if "owner" not in resource:
        return
    owner = _object(resource["owner"], "Task.owner")
    identifier = owner.get("identifier")
    ods = identifier.get("value") if isinstance(identifier, Mapping) else None
    target = _target(owner, "Task.owner")
    expected = f"Organization/{current.performer}"
    said = {value for value in (target, ods and f"Organization/{ods}") if value is not None}
    if said != {expected}:
        raise FhirInvalid("Task.owner", f"must stay {expected}: the authority chose who advises")


def _check_owned(
    resource: Mapping[str, Any], current: AdviceRequest, requester: Requester | None
) -> None:
    """The elements the gateway sets must come back as it showed them (or be left out: a PUT
    that omits one leaves it as it is). Who asked, who answers, for whom and by when are the
    authority's to say, not the performer's."""
    request = f"ServiceRequest/{current.id}"
    _same_target(resource, "basedOn", request, "the Task fulfils this request")
    _same_target(resource, "focus", request, "the Task fulfils this request")
    _same_target(resource, "for", f"Patient/{current.child_id}", "the advice is about this child")
    _same_owner(resource, current)
    if "requester" in resource:
        target = _target(resource["requester"], "Task.requester") or ""
        if requester is not None:
            _same_target(
                resource,
                "requester",
                f"Organization/{la_organization_id(requester)}",
                "the authority asked",
            )
        elif not target.startswith("Organization/"):
            raise FhirInvalid("Task.requester", "must stay the authority: the gateway sets it")
    if "restriction" in resource:
        restriction = _object(resource["restriction"], "Task.restriction")
        period = _object(restriction.get("period"), "Task.restriction.period")
        if set(restriction) != {"period"} or set(period) != {"end"}:
            raise FhirInvalid("Task.restriction", "only period.end, the due date, is kept")
        end = _parse_instant(period["end"], "Task.restriction.period.end")
        if end != current.due_at:
            raise FhirInvalid(
                "Task.restriction.period.end",
                f"must stay {instant(current.due_at)}: the six weeks run from the request",
            )
    if "code" in resource:
        codings = _object(resource["code"], "Task.code").get("coding") or []
        wanted = (TASK_CODE_SYSTEM, TASK_CODE[0])
        if not any(
            isinstance(c, Mapping) and (c.get("system"), c.get("code")) == wanted for c in codings
        ):
            raise FhirInvalid("Task.code", f"must stay {TASK_CODE_SYSTEM}|{TASK_CODE[0]}")
    if "identifier" in resource:
        shown = [{"system": ADVICE_REQUEST_SYSTEM, "value": current.id}]
        if resource["identifier"] != shown:
            raise FhirInvalid("Task.identifier", "the gateway's identifier cannot be changed")
    if resource.get("intent", "order") != "order":
        raise FhirInvalid("Task.intent", "must stay order")


def read_task_change(
    resource: Mapping[str, Any], current: AdviceRequest, *, requester: Requester | None = None
) -> TaskChange:
    """A Task an NHS team PUT (or PATCHed), as the change it asks for.

    The team says: ``status`` (one the gateway tracks), ``businessStatus`` and ``statusReason``
    (text), ``note`` and ``output`` (DocumentReferences it posted). Notes are the Task's record:
    the body's list replaces the Task's, but the notes already there must come back first and
    unchanged; new ones follow. Leaving ``note`` or ``output`` out keeps them as they are; an
    empty list clears the outputs. The gateway's own elements (basedOn, focus, for, owner,
    requester, restriction, code, identifier, intent) must come back as shown; anything the
    gateway would not keep is refused by name rather than dropped silently. Give ``requester``
    to check Task.requester exactly."""
    if resource.get("resourceType") != "Task":
        raise FhirInvalid("resourceType", "the body must be a Task")
    if resource.get("id") != current.id:
        raise FhirInvalid("Task.id", f"must be {current.id}, the Task in the URL")
    for key in resource:
        if key not in TASK_OWNED + TASK_TOLD + TASK_ECHOED:
            raise FhirInvalid(f"Task.{key}", "the gateway does not keep this element; leave it out")
    status = resource.get("status")
    if status is None:
        raise FhirInvalid("Task.status", "is required")
    if not isinstance(status, str) or status not in TASK_STATUSES:
        raise FhirInvalid("Task.status", f"{status!r} is not a FHIR Task status")
    if status not in TRACKED_TASK_STATUSES:
        raise FhirInvalid(
            "Task.status",
            f"{status} is not used for advice requests; use {', '.join(TRACKED_TASK_STATUSES)}",
        )
    _check_owned(resource, current, requester)

    notes = list(current.notes)
    if "note" in resource:
        notes = []
        for i, item in enumerate(_list(resource["note"], "Task.note")):
            note = _object(item, f"Task.note[{i}]")
            extra = set(note) - {"text"}
            if extra:
                raise FhirInvalid(
                    f"Task.note[{i}].{sorted(extra)[0]}",
                    "only a note's text is kept; say who wrote it in the text",
                )
            text = note.get("text")
            if not isinstance(text, str) or not text.strip():
                raise FhirInvalid(f"Task.note[{i}].text", "a note needs its text")
            notes.append(text)
        for i, earlier in enumerate(current.notes):
            if i >= len(notes) or notes[i] != earlier:
                raise FhirInvalid(
                    f"Task.note[{i}]",
                    "notes already on the Task cannot be changed or removed; add new ones after",
                )

    outputs = list(current.documents)
    if "output" in resource:
        outputs = []
        for i, item in enumerate(_list(resource["output"], "Task.output")):
            output = _object(item, f"Task.output[{i}]")
            if "valueReference" not in output:
                raise FhirInvalid(
                    f"Task.output[{i}].valueReference",
                    "an output is a reference to a DocumentReference",
                )
            target = _target(output["valueReference"], f"Task.output[{i}].valueReference") or ""
            kind, _, document_id = target.partition("/")
            if kind != "DocumentReference" or not FHIR_ID.match(document_id):
                raise FhirInvalid(
                    f"Task.output[{i}].valueReference",
                    "must reference DocumentReference/<id>, advice posted to this server",
                )
            if document_id not in outputs:
                outputs.append(document_id)

    return TaskChange(
        status=status,
        business_status=_text(resource.get("businessStatus"), "Task.businessStatus"),
        status_reason=_text(resource.get("statusReason"), "Task.statusReason"),
        notes=notes,
        outputs=outputs,
    )


def read_document(resource: Mapping[str, Any], max_bytes: int) -> IncomingDocument:
    """A DocumentReference an NHS team created: the advice, one attachment, inline.

    ``status`` current; ``content[0].attachment`` application/pdf or text/plain (UTF-8), its
    ``data`` base64 and at most ``max_bytes`` decoded (``size`` and ``hash``, when given, must
    agree with it); ``context.related`` names the ServiceRequest or Task it answers; the title is
    the attachment's title, else the description, else "Advice"; ``author[0].display`` says who
    wrote it. Attachments by ``url`` are refused: the gateway fetches nothing from elsewhere."""
    if resource.get("resourceType") != "DocumentReference":
        raise FhirInvalid("resourceType", "the body must be a DocumentReference")
    if resource.get("status") != "current":
        raise FhirInvalid("DocumentReference.status", "advice is posted as current")
    contents = _list(resource.get("content"), "DocumentReference.content")
    if len(contents) != 1:
        raise FhirInvalid("DocumentReference.content", "send exactly one attachment")
    at = "DocumentReference.content[0].attachment"
    attachment = _object(_object(contents[0], "DocumentReference.content[0]").get("attachment"), at)

    content_type = attachment.get("contentType")
    base_type = content_type.split(";")[0].strip().lower() if isinstance(content_type, str) else ""
    if base_type not in ADVICE_CONTENT_TYPES:
        raise FhirInvalid(
            f"{at}.contentType", f"send {' or '.join(ADVICE_CONTENT_TYPES)}, not {content_type!r}"
        )
    encoded = attachment.get("data")
    if encoded is None:
        path = f"{at}.url" if "url" in attachment else f"{at}.data"
        raise FhirInvalid(path, "send the advice inline as base64 data")
    if not isinstance(encoded, str):
        raise FhirInvalid(f"{at}.data", "must be base64 text")
    compact = "".join(encoded.split())
    if len(compact) // 4 * 3 > max_bytes + 3:
        raise FhirInvalid(f"{at}.data", f"advice documents are at most {max_bytes} bytes")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise FhirInvalid(f"{at}.data", "not valid base64") from None
    if not data:
        raise FhirInvalid(f"{at}.data", "the advice is empty")
    if len(data) > max_bytes:
        raise FhirInvalid(f"{at}.data", f"advice documents are at most {max_bytes} bytes")
    if base_type == "application/pdf" and not data.startswith(b"%PDF-"):
        raise FhirInvalid(f"{at}.data", "the data is not a PDF")
    if base_type == "text/plain":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise FhirInvalid(f"{at}.data", "text/plain advice must be UTF-8") from None
    if "size" in attachment and attachment["size"] != len(data):
        raise FhirInvalid(f"{at}.size", f"says {attachment['size']}, the data is {len(data)} bytes")
    if "hash" in attachment:
        sha1 = base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()
        if attachment["hash"] != sha1:
            raise FhirInvalid(f"{at}.hash", "does not match the data (base64 SHA-1)")

    title = attachment.get("title") or resource.get("description")
    if title is not None and not isinstance(title, str):
        raise FhirInvalid(f"{at}.title", "must be text")
    title = (title or "").strip() or "Advice"

    context = _object(resource.get("context"), "DocumentReference.context")
    related = _list(context.get("related"), "DocumentReference.context.related")
    ids: set[str] = set()
    for i, item in enumerate(related):
        target = _target(item, f"DocumentReference.context.related[{i}]") or ""
        kind, _, request_id = target.partition("/")
        if kind in ("ServiceRequest", "Task") and request_id:
            ids.add(request_id)
    if not ids:
        raise FhirInvalid(
            "DocumentReference.context.related", "name the ServiceRequest or Task it answers"
        )
    if len(ids) > 1:
        raise FhirInvalid("DocumentReference.context.related", "names more than one advice request")

    author = None
    authors = resource.get("author")
    if authors:
        first = _object(
            _list(authors, "DocumentReference.author")[0], "DocumentReference.author[0]"
        )
        display = first.get("display")
        if isinstance(display, str) and display.strip():
            author = display.strip()

    return IncomingDocument(
        advice_request_id=ids.pop(),
        content_type=base_type,
        title=title,
        data=data,
        author=author,
    )
