"""A zeep client for UKRLP's provider query service: what the register says of one UKPRN.

Authorities may only commission alternative provision from approved providers, identified by
their UK provider reference number; the gateway looks each one up in the UK Register of
Learning Providers and keeps the register's name and status beside its own record. zeep builds
the requests from the WSDL in ``contracts/ukrlp``, so what is sent is what the contract allows.

The answer is a ``UkrlpProvider``, or None when the register has no such provider. Everything
else is one of two errors, sorted once, here: ``UkrlpUnavailable`` (no usable answer: refused,
reset, timed out, a soap:Server fault, a 5xx; worth trying again later) and ``UkrlpRejected``
(the register refused the request itself: a soap:Client fault, a 4xx; sending it again will
not help). A failure is never reported as "no such provider": a provider wrongly taken to be
unregistered would be wrongly refused work.
"""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
import re
from collections.abc import Iterable
from typing import Any, Final, Literal

import msgspec
import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

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
        session = requests.Session()
        session.headers["User-Agent"] = "s19-gateway"
        # zeep is untyped; its calls are confined to this constructor and _call.
        transport = Transport(  # type: ignore[no-untyped-call]
            session=session, timeout=timeout_seconds, operation_timeout=timeout_seconds
        )
        settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True)
        client = zeep.Client(  # type: ignore[no-untyped-call]
            str(wsdl or DEFAULT_WSDL), transport=transport, settings=settings
        )
        self._service: Any = client.create_service(BINDING, url)  # type: ignore[no-untyped-call]
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
        except zeep.exceptions.Fault as exc:
            raise _fault(exc) from None
        except zeep.exceptions.TransportError as exc:
            status = exc.status_code
            if status >= 500 or status in TRANSIENT_STATUSES or status < 300:
                # (a 2xx here is one zeep could not read)
                raise UkrlpUnavailable(
                    f"UKRLP answered HTTP {status} without a SOAP answer"
                ) from None
            raise UkrlpRejected(f"UKRLP answered HTTP {status}") from None
        except requests.exceptions.Timeout:
            raise UkrlpUnavailable("UKRLP did not answer in time") from None
        except requests.exceptions.ConnectionError as exc:
            raise UkrlpUnavailable(f"cannot reach UKRLP: {type(exc).__name__}") from None
        except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError) as exc:
            # A half-written answer or a proxy's HTML page: the register itself may be fine.
            raise UkrlpUnavailable(f"unreadable answer from UKRLP: {exc}") from None
        except zeep.exceptions.ValidationError as exc:
            # The request does not fit the contract: sending it again will not help.
            raise UkrlpRejected(f"request does not fit the UKRLP contract: {exc}") from None
        except (requests.exceptions.RequestException, zeep.exceptions.Error) as exc:
            # A truncated body, a redirect loop, an answer zeep cannot place: the far end is
            # not itself; ask again later.
            raise UkrlpUnavailable(f"no usable answer from UKRLP: {type(exc).__name__}") from None


def _fault(exc: zeep.exceptions.Fault) -> UkrlpError:
    """Sorted by the SOAP fault code: UKRLP's faultDetail (major, minor) has no published
    values, so it only adds to the message. A fault with no code, or a Server one, may pass."""
    detail = exc.detail
    # zeep hands over raw bytes when the body was XML but not a SOAP fault (an HTML page).
    found = detail.find(f".//{{{NS}}}faultDetail") if hasattr(detail, "tag") else None
    text = exc.message or "no fault string"
    if found is not None:
        minor = found.findtext("minor")
        if minor and minor not in text:
            text = f"{text} ({minor})"
    faultcode = str(exc.code or "")
    local = faultcode.rpartition(":")[2]
    if not local or local == "Server" or local.startswith("Server."):  # SOAP 1.1 dotted codes
        return UkrlpUnavailable(f"UKRLP fault {faultcode or '(no code)'}: {text}"[:500])
    return UkrlpRejected(f"UKRLP fault {faultcode}: {text}"[:500])


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
