"""A zeep client for UKRLP's provider query service: what the register says of one UKPRN.

Authorities may only commission alternative provision from approved providers, identified by
their UK provider reference number; the gateway looks each one up in the UK Register of
Learning Providers and keeps the register's name and status beside its own record. zeep builds
the requests from the WSDL in ``contracts/ukrlp``, so what is sent is what the contract allows.

The answer is a ``UkrlpProvider``, or None when the register has no such provider. Everything
else is sorted as for any SOAP service (adapters/soap_faults.py) into one of two errors:
``UkrlpUnavailable`` (no usable answer: refused, reset, timed out, a soap:Server fault, a 5xx;
worth trying again later) and ``UkrlpRejected`` (the register refused the request itself: a
soap:Client fault, a 4xx; sending it again will not help). A failure is never reported as "no
such provider": a provider wrongly taken to be unregistered would be wrongly refused work.
"""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
import re
from collections.abc import Iterable
from typing import Any, Final, Literal

import msgspec

from adapters.soap_faults import CALL_ERRORS, sort_failure, zeep_service

NS: Final = "http://ukrlp.co.uk.server.ws.v3"
BINDING: Final = f"{{{NS}}}ProviderQuerySoapBinding"
DEFAULT_WSDL: Final = (
    pathlib.Path(__file__).parents[2] / "contracts" / "ukrlp" / "ProviderQueryServiceV6.wsdl"
)

# UKRLP's status codes and what the gateway calls them: the register's own words for the live
# ones, its codes for the two stages of deactivation (PD1 in process, PD2 complete). "Unknown"
# is a code UKRLP has added since; the code itself is kept in UkrlpProvider.status_code.
UkrlpStatus = Literal["Active", "Verified", "PD1", "PD2", "Unknown"]
_STATUSES: Final[dict[str, UkrlpStatus]] = {
    "A": "Active",
    "V": "Verified",
    "PD1": "PD1",
    "PD2": "PD2",
}
# A query names one status and UKRLP answers only providers with it, so a provider is looked
# for under each in turn, the likeliest first; a deactivated provider is still an answer (the
# gateway must learn it is deactivated, not that it is unknown).
QUERY_STATUSES: Final = ("A", "V", "PD1", "PD2")
# 4xx statuses that mean "not now" rather than "not this request"; every 5xx is transient.
TRANSIENT_STATUSES: Final = frozenset({408, 425, 429})
# Contact types to take a postcode from, in order: the legal address, then the primary contact.
_POSTCODE_CONTACTS: Final = ("L", "P")
_UKPRN = re.compile(r"1[0-9]{7}")  # [0-9], not \d: \d would take other scripts' digits


class UkrlpError(Exception):
    """Anything that kept the gateway from learning what UKRLP holds."""


class UkrlpUnavailable(UkrlpError):
    """No usable answer from UKRLP (no answer, timeout, soap:Server fault, 5xx): try later."""


class UkrlpRejected(UkrlpError):
    """UKRLP refused the request itself (soap:Client fault, 4xx): retrying will not help."""


class UkrlpProvider(msgspec.Struct, frozen=True, kw_only=True):
    """A provider as UKRLP records it.

    ``postcode`` is the legal address's (else the primary contact's); ``verified_by`` names the
    authorities that verified the provider (Companies House, Charity Commission, DfE...);
    ``verified_on`` is the day UKRLP verified it; ``status_code`` is UKRLP's own code (A, V,
    PD1, PD2), kept because ``status`` folds codes it does not know into "Unknown".
    """

    ukprn: str
    name: str
    status: UkrlpStatus
    postcode: str | None
    verified_by: list[str]
    verified_on: dt.date | None
    status_code: str | None = None

    @property
    def active(self) -> bool:
        """Whether the register has the provider live (active or verified), not deactivated
        or on the way to it."""
        return self.status in ("Active", "Verified")


class UkrlpClient:
    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 15.0,
        wsdl: str | pathlib.Path | None = None,
        stakeholder_id: str = "1",
    ) -> None:
        if not (stakeholder_id.isascii() and stakeholder_id.isdigit()):
            raise ValueError(f"a UKRLP stakeholder id is a number, not {stakeholder_id!r}")
        self._service = zeep_service(
            url, binding=BINDING, wsdl=wsdl or DEFAULT_WSDL, timeout_seconds=timeout_seconds
        )
        self._stakeholder_id = int(stakeholder_id)
        # QueryId is the caller's number for a query, echoed back; a counter ties each answer
        # to its request in UKRLP's logs and ours. (itertools.count is safe across threads.)
        self._query_ids = itertools.count(1)

    def provider(self, ukprn: str) -> UkrlpProvider | None:
        """What UKRLP holds for ``ukprn``, whatever its status; None when it holds nothing.

        ValueError, before anything is sent, when ``ukprn`` is not 8 digits starting with 1:
        a malformed number is the caller's mistake, not a provider the register lacks.
        """
        if not isinstance(ukprn, str) or _UKPRN.fullmatch(ukprn) is None:
            raise ValueError(f"{ukprn!r} is not a UKPRN (8 digits starting with 1)")
        for status in QUERY_STATUSES:
            answer = self._call(
                SelectionCriteria={
                    "UnitedKingdomProviderReferenceNumberList": {
                        "UnitedKingdomProviderReferenceNumber": [int(ukprn)]
                    },
                    "CriteriaCondition": "OR",
                    "StakeholderId": self._stakeholder_id,
                    "ApprovedProvidersOnly": "No",
                    "ProviderStatus": status,
                },
                QueryId=next(self._query_ids),
            )
            records = list(getattr(answer, "MatchingProviderRecords", None) or [])
            if records:
                return _provider(ukprn, records)
        return None

    def _call(self, **arguments: Any) -> Any:
        try:
            return self._service.retrieveAllProviders(**arguments)
        except CALL_ERRORS as exc:
            raise _error(exc) from None


def _error(exc: Exception) -> UkrlpError:
    """Sorted by the SOAP fault code: UKRLP's faultDetail (major, minor) has no published
    values, so it only adds to the message. A fault with no code, or a Server one, may pass."""
    failure = sort_failure(
        exc,
        service="UKRLP",
        sent="request",
        transient_status=_transient_status,
        detail_tag=f"{{{NS}}}faultDetail",
        explain=lambda detail: detail.findtext("minor"),
    )
    if failure.verdict == "unreachable":
        return UkrlpUnavailable(failure.message)
    return UkrlpRejected(failure.message)


def _transient_status(status: int) -> bool:
    return status >= 500 or status in TRANSIENT_STATUSES


def _provider(ukprn: str, records: list[Any]) -> UkrlpProvider:
    """The record for ``ukprn`` among those UKRLP answered with. An answer that only names
    other providers is a broken answer, not a "no such provider"."""
    record = next(
        (r for r in records if str(r.UnitedKingdomProviderReferenceNumber) == ukprn), None
    )
    if record is None:
        raise UkrlpUnavailable(f"UKRLP answered a query for {ukprn} with other providers")
    code = str(record.ProviderStatus or "").strip()
    return UkrlpProvider(
        ukprn=ukprn,
        name=str(record.ProviderName).strip(),
        status=_STATUSES.get(code, "Unknown"),
        postcode=_postcode(record.ProviderContact or []),
        verified_by=_authorities(record.VerificationDetails or []),
        verified_on=_date(record.ProviderVerificationDate),
        status_code=code or None,
    )


def _postcode(contacts: Iterable[Any]) -> str | None:
    """The postcode of the most recently updated legal address, else primary contact."""
    with_postcode = [
        (contact, str(contact.ContactAddress.PostCode).strip())
        for contact in contacts
        if contact.ContactAddress is not None and (contact.ContactAddress.PostCode or "").strip()
    ]
    for contact_type in _POSTCODE_CONTACTS:
        of_type = [(c, p) for c, p in with_postcode if c.ContactType == contact_type]
        if of_type:
            return max(of_type, key=lambda pair: _sort_key(pair[0].LastUpdated))[1]
    return None


def _sort_key(value: object) -> float:
    """LastUpdated as a number to compare by; a missing or naive one sorts as UTC or first."""
    if not isinstance(value, dt.datetime):
        return float("-inf")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def _authorities(details: Iterable[Any]) -> list[str]:
    """Each verification authority once, in UKRLP's order."""
    names = (str(d.VerificationAuthority or "").strip() for d in details)
    return list(dict.fromkeys(name for name in names if name))


def _date(value: object) -> dt.date | None:
    """The day of an xs:dateTime as UKRLP wrote it: not converted to UTC first, which would
    move a local midnight to the day before."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None
