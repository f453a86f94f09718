"""Schools and providers as the registers know them, and the provision an authority commissions.

Authorities may only commission alternative provision from providers on their approved list
(Essex, 002_4608ccdc3a5ad509.txt §13 "Education for pupils accepted as medical referrals" and
§17 "Safeguarding"); schools are identified by their URN (GIAS) and providers by their UKPRN
(UKRLP). A pupil in alternative provision stays on the school roll (002 §16 "Attendance"): the
school records code D when the pupil is dual registered at a DfE-registered provider (which then
keeps the register), and otherwise the code for provision the authority arranged: K since the
School Attendance (Pupil Registration) (England) Regulations 2024 (SI 2024/208), which took
LA-arranged provision out of code B, the code 002 §16 (written before them) names.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

EstablishmentStatus = Literal["open", "closed", "proposed_to_close", "proposed_to_open"]
Service = Literal[
    "medical_needs",
    "reintegration",
    "online_learning",
    "one_to_one_tuition",
    "small_group",
    "vocational",
    "therapeutic",
]
# How the approved list describes a provider (002 §16): DfE-registered ("D") or not ("B").
Registration = Literal["D", "B"]
# The code the school uses for the pupil's sessions at the placement.
SchoolCode = Literal["D", "K"]
Venue = Literal["school", "provider_site", "home"]
Ukprn = Annotated[str, msgspec.Meta(pattern=r"^1[0-9]{7}$")]
Urn = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]


class Establishment(msgspec.Struct, kw_only=True, frozen=True):
    """A school or other establishment from the GIAS extract; closed ones are kept, marked."""

    urn: str
    la_code: str
    la_name: str
    name: str
    type: str
    status: EstablishmentStatus
    phase: str | None = None
    ukprn: str | None = None
    postcode: str | None = None
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None


class Provider(msgspec.Struct, kw_only=True, frozen=True):
    """A provider on the authority's approved alternative-provision list, with what UKRLP
    says of it when it has been looked up."""

    id: str
    name: str
    ukprn: str | None
    urn: str | None
    services: list[Service]
    registration: Registration
    safeguarding_contact: str
    capacity: int | None
    approved: bool
    ukrlp_name: str | None = None
    ukrlp_status: str | None = None
    ukrlp_checked_at: dt.datetime | None = None
    updated_at: dt.datetime


class ProviderSearchResult(msgspec.Struct, kw_only=True, frozen=True):
    establishments: list[Establishment]
    providers: list[Provider]


class ImportReport(msgspec.Struct, kw_only=True, frozen=True):
    """What an import did: the error report names each rejected row by line and column."""

    id: str
    source: Literal["gias", "approved_list"]
    rows: int
    added: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[dict[str, object]]
    started_at: dt.datetime
    finished_at: dt.datetime


class NewPlacement(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """POST /api/v1/cases/{id}/placements: commission provision for an agreed case."""

    provider_id: str
    start_date: dt.date
    hours_per_week: Annotated[float, msgspec.Meta(gt=0, le=40)]
    venue: Venue
    # A home placement needs the provider's risk assessment first (002 §13: "If support is
    # required in the home, it will be necessary for the provider to carry out an appropriate
    # risk assessment").
    risk_assessment_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    review_every_weeks: Annotated[int, msgspec.Meta(ge=1, le=12)] = 6

    def __post_init__(self) -> None:
        if self.venue == "home" and not self.risk_assessment_ref:
            raise msgspec.ValidationError(
                "risk_assessment_ref: a placement at home needs its risk assessment"
            )


class Placement(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    case_id: str
    child_id: str
    provider_id: str
    school_urn: str | None
    start_date: dt.date
    hours_per_week: float
    venue: Venue
    risk_assessment_ref: str | None
    school_code: SchoolCode  # the code the school uses for the pupil's sessions there
    review_dates: list[dt.date]
    status: Literal["active", "ended"]
    created_at: dt.datetime
    ended_on: dt.date | None = None
    end_reason: str | None = None


class PlacementEnd(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """POST /api/v1/placements/{id}/end: the last day of provision and why (back to school
    full time, other provision, left the area). The review clock stops; provider and school
    are told, so the school stops recording the pupil as attending there."""

    last_day: dt.date
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ProviderAttendance(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A provider's daily return: was the pupil there, each session, and for how long."""

    date: dt.date
    am: Literal["present", "absent", "no_session"]
    pm: Literal["present", "absent", "no_session"]
    hours: Annotated[float, msgspec.Meta(ge=0, le=10)] | None = None
    # When absent, the reason as a register code the school would use (e.g. "I" illness).
    absence_code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]$")] | None = None


class PartTimeEntry(msgspec.Struct, kw_only=True, frozen=True):
    """One line of Lincolnshire's register of pupils on less than 25 hours (003 "Attendance
    and definitions")."""

    placement_id: str
    case_id: str
    child_id: str
    school_urn: str | None
    provider: str
    hours_per_week: float
    start_date: dt.date
