"""The child, as every agency around them knows them.

Identifiers are checked here, at the boundary, so a mistyped UPN or NHS number is refused
with the field named instead of creating a second record for the same child.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from gateway.model.identifiers import (
    la_code_problem,
    mosaic_person_id_problem,
    nhs_number_problem,
    uln_problem,
    upn_problem,
    urn_problem,
)

# EHC plan lifecycle as the SEND Regulations describe it (004 "Undertaking an EHC Needs
# Assessment"); "draft" matters for Worcestershire's auto-forward to SEND (000).
EhcpStatus = Literal["none", "requested", "assessing", "draft", "issued", "ceased"]
IdentifierScheme = Literal["upn", "nhs_number", "mosaic_person_id", "uln"]

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class InvalidField(ValueError):
    """A value that fails a domain check; ``field`` is its path from the record's root."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _check(field: str, value: str | None, problem: str | None) -> None:
    if value is not None and problem is not None:
        raise InvalidField(field, problem)


class ChildIdentifiers(
    msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True, forbid_unknown_fields=True
):
    upn: str | None = None
    nhs_number: str | None = None
    mosaic_person_id: str | None = None
    uln: str | None = None

    def __post_init__(self) -> None:
        _check("identifiers.upn", self.upn, self.upn and upn_problem(self.upn))
        _check(
            "identifiers.nhs_number",
            self.nhs_number,
            self.nhs_number and nhs_number_problem(self.nhs_number),
        )
        _check("identifiers.uln", self.uln, self.uln and uln_problem(self.uln))
        _check(
            "identifiers.mosaic_person_id",
            self.mosaic_person_id,
            self.mosaic_person_id and mosaic_person_id_problem(self.mosaic_person_id),
        )

    def items(self) -> list[tuple[IdentifierScheme, str]]:
        pairs: list[tuple[IdentifierScheme, str | None]] = [
            ("upn", self.upn),
            ("nhs_number", self.nhs_number),
            ("mosaic_person_id", self.mosaic_person_id),
            ("uln", self.uln),
        ]
        return [(scheme, value) for scheme, value in pairs if value is not None]


class ChildName(
    msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True, forbid_unknown_fields=True
):
    given: Text
    family: Text
    preferred: Text | None = None


class ChildDetails(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What a caller supplies to register a child."""

    identifiers: ChildIdentifiers
    name: ChildName
    date_of_birth: dt.date
    home_la: str
    school_urn: str | None = None
    ehcp_status: EhcpStatus = "none"
    looked_after: bool = False

    def __post_init__(self) -> None:
        if not self.identifiers.items():
            raise InvalidField("identifiers", "at least one identifier is required")
        _check("home_la", self.home_la, la_code_problem(self.home_la))
        _check("school_urn", self.school_urn, self.school_urn and urn_problem(self.school_urn))


class ChildUpdate(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """PATCH /api/v1/children/{id}: what an officer learns later about a child first seen in
    an attendance feed or a notice (an NHS number for health advice, a name, a date of birth).
    Only the fields given change. An identifier is added, never replaced: a different value
    for one the child has is refused, since it would mean two children merged."""

    identifiers: ChildIdentifiers | None = None
    name: ChildName | None = None
    date_of_birth: dt.date | None = None
    home_la: str | None = None
    school_urn: str | None = None
    ehcp_status: EhcpStatus | None = None
    looked_after: bool | None = None

    def __post_init__(self) -> None:
        if self.identifiers is not None and self.identifiers.mosaic_person_id is not None:
            raise InvalidField(
                "identifiers.mosaic_person_id",
                "a Mosaic person is linked by an administrator "
                "(PUT /api/v1/admin/children/{id}/mosaic-person)",
            )
        if self.home_la is not None:
            _check("home_la", self.home_la, la_code_problem(self.home_la))
        _check("school_urn", self.school_urn, self.school_urn and urn_problem(self.school_urn))


class Child(msgspec.Struct, kw_only=True, frozen=True):
    """A child as the gateway knows them. A child first seen in an attendance feed may be known
    only by UPN and school until a fuller record (CTF, the portal, an officer) arrives."""

    id: str
    identifiers: ChildIdentifiers
    name: ChildName | None
    date_of_birth: dt.date | None
    home_la: str | None
    school_urn: str | None
    ehcp_status: EhcpStatus
    looked_after: bool
    created_at: dt.datetime
    updated_at: dt.datetime
