"""Advice for an EHC needs assessment, and what a family agreed may be shared with whom.

Once the authority decides to assess, it asks health, social care, education and educational
psychology for advice, and each has six weeks from the date of its request to give it (Sutton
protocol, 004_a92c0651c0743a78.txt, "3. EHC Needs Assessment Process" and the Standard
Operating Procedures). Health's request travels as FHIR (adapters/nhs); NHS teams answer
through the gateway's FHIR facade, moving the request's Task through its statuses.

"Tell us once" asks for a record of what information the family is happy to share and with
whom (004, "Undertaking an EHC Needs Assessment"): a ``SharingDecision`` per child and agency.
Nothing goes to an agency without one that agrees.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

Adviser = Literal["health", "social_care", "education", "educational_psychology"]
ADVISERS: tuple[Adviser, ...] = ("health", "social_care", "education", "educational_psychology")

# The FHIR Task statuses an advice request moves through (http://hl7.org/fhir/task-status),
# plus "held": not sent, waiting for a person (the family has not agreed to share).
AdviceStatus = Literal[
    "held", "requested", "accepted", "in-progress", "completed", "rejected", "cancelled"
]
OPEN_STATUSES: frozenset[str] = frozenset({"held", "requested", "accepted", "in-progress"})

# What may be shared, by category; each outbound mapping names the categories it uses.
SharingCategory = Literal[
    "identity",  # name, date of birth, NHS number: without it nobody can find the child
    "education",  # school, the referral's own words, attendance
    "send",  # EHC plan status and the needs assessment
    "social_care",  # looked after, open to social care
]
SharingAgency = Literal["health", "social_care", "education", "providers"]
OdsCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{3,10}$")]


class AdviceRequest(msgspec.Struct, kw_only=True, frozen=True):
    """One adviser's part of an assessment. Its id is the FHIR ServiceRequest's and Task's id."""

    id: str
    case_id: str
    child_id: str
    adviser: Adviser
    status: AdviceStatus
    # Health: the NHS organisation asked (ODS code); others: the team's code in the pack.
    performer: str
    reason: str
    requested_at: dt.datetime
    due_at: dt.datetime  # six calendar weeks from the request, end of day in England
    business_status: str | None = None
    held_reason: str | None = None
    status_reason: str | None = None  # why rejected or cancelled, in the performer's words
    completed_at: dt.datetime | None = None
    notes: list[str] = []
    documents: list[str] = []  # AdviceDocument ids given as the Task's output
    version: int = 1


class AdviceDocument(msgspec.Struct, kw_only=True, frozen=True):
    """The advice itself (a FHIR DocumentReference's attachment), kept by the gateway."""

    id: str
    advice_request_id: str
    content_type: Literal["application/pdf", "text/plain"]
    title: str
    size: int
    sha256: str
    author: str | None
    received_at: dt.datetime


class SharingDecision(msgspec.Struct, kw_only=True, frozen=True):
    """What the family agreed may go to one agency."""

    child_id: str
    agency: SharingAgency
    agreed: bool
    categories: list[SharingCategory]
    recorded_at: dt.datetime
    recorded_by: str
    # Where the decision was given (the request form, a phone call), for a reviewer.
    source: str
    # Shared without the family's agreement because a child is at risk: explicit, with the
    # reason and who authorised it, and audited (Working Together to Safeguard Children).
    safeguarding_override: bool = False
    override_reason: str | None = None

    def allows(self, category: str) -> bool:
        return self.safeguarding_override or (self.agreed and category in self.categories)


class SharingUpdate(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    agreed: bool
    categories: list[SharingCategory] = []
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class SafeguardingOverride(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Sharing with an agency despite the family's refusal, for a child's safety."""

    reason: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]
    authorised_by: Annotated[str, msgspec.Meta(min_length=3, max_length=200)]


class AssessmentRequest(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """POST /api/v1/ehcna: the authority has decided to assess; ask for the advice."""

    case_id: str
    advisers: list[Adviser] = msgspec.field(default_factory=lambda: list(ADVISERS))
    # The NHS organisation health advice goes to; default: the pack's health adviser.
    health_performer: OdsCode | None = None
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] = (
        "Advice for an Education, Health and Care needs assessment"
    )
    # When the authority asked, if before now (a decision keyed later): each request is due
    # six weeks from then (gateway/cases/receipt.py).
    received_at: dt.datetime | None = None


class AssessmentStarted(msgspec.Struct, kw_only=True, frozen=True):
    case_id: str
    requests: list[AdviceRequest]


class AdviceChange(msgspec.Struct, kw_only=True, frozen=True):
    """What an adviser (or the authority) says about a request: the facade reads it from a
    FHIR Task, the case API from JSON."""

    status: AdviceStatus
    business_status: str | None = None
    status_reason: str | None = None
    notes: list[str] = []
    documents: list[str] = []


class AdviceUpdate(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """PATCH /api/v1/advice-requests/{id}: an officer records an adviser's progress (social
    care, education, EP answer outside FHIR) or withdraws a request."""

    status: AdviceStatus
    status_reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
