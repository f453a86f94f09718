"""UKRLP's provider query service (contracts/ukrlp/ProviderQueryServiceV6.wsdl), on 127.0.0.1.

Authorities may only commission alternative provision from approved providers, and the gateway
checks each provider's UKPRN against the UK Register of Learning Providers before it relies on
it. Its client has to cope with everything the real register does: answer with a provider,
answer with nobody, refuse a request that breaks the contract, be slow, be down. This stand-in
does that over real SOAP 1.1 on a real socket, so the gateway's zeep client is exercised as it
will be against webservices.ukrlp.co.uk.

The contract is the XSD in contracts/ukrlp (found relative to this file, as the service is
installed editable from its checkout): every request payload is validated against it, so a
request this service accepts is one the contract allows, and a refused one gets a soap:Client
fault whose text names the offending element. Where the contract allows something this
stand-in does not model (``ApprovedProvidersOnly`` Yes, a query without ``ProviderStatus``),
it says so with a soap:Client fault rather than guess at an answer the real register might
not give.

Provider data is public register data, so requests are logged in full (``requests``).
Fault injection (``fail_next``, ``delay_next``, ``stop``/``start``) is what the client tests
turn; everything is kept in memory behind one lock because the server answers each request on
its own thread.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from lxml import etree
from lxml.builder import ElementMaker

from simulators.loopback import SoapService, serving, utc_now
from simulators.soap_server import (
    ServiceFault,
    SoapFaultCode,
    SoapRequest,
    SoapRequestError,
    load_schema,
)

TNS: Final = "http://ukrlp.co.uk.server.ws.v3"
COMMON_NS: Final = "http://www.ukrlp.gov.uk/commonlibrary"
CONTRACT_DIR: Final = Path(__file__).parents[1] / "contracts" / "ukrlp"
WSDL_PATH: Final = CONTRACT_DIR / "ProviderQueryServiceV6.wsdl"
XSD_PATH: Final = CONTRACT_DIR / "ProviderQueryServiceV6.xsd"
ENDPOINT_PATH: Final = "/UkrlpProviderQueryWS/ProviderQueryServiceV6"  # the WSDL's address path
BINDING: Final = f"{{{TNS}}}ProviderQuerySoapBinding"  # for zeep's Client.create_service
SOAP_ACTION: Final = "retrieveAllProviders"
REQUEST_TAG: Final = f"{{{TNS}}}ProviderQueryRequest"

# UKRLP's provider status codes, as the register writes them in ProviderStatus.
StatusCode = Literal["A", "V", "PD1", "PD2"]
STATUS_CODES: Final[tuple[StatusCode, ...]] = ("A", "V", "PD1", "PD2")
# What add_provider takes: the codes, and the words UKRLP uses for the first two.
_STATUS_NAMES: Final[dict[str, StatusCode]] = {
    **{code: code for code in STATUS_CODES},
    "Active": "A",
    "Verified": "V",
}
# faultDetail/major: the register does not publish its values, so these are the stand-in's.
FaultMajor = Literal["INVALID_REQUEST", "NOT_SUPPORTED", "UNAVAILABLE"]
_UKPRN = re.compile(r"1[0-9]{7}")

# Local elements of the service's schema are unqualified; the address's are in the common
# library's namespace.
_T = ElementMaker(namespace=TNS, nsmap={"ukrlp": TNS})
_E = ElementMaker()
_CL = ElementMaker(namespace=COMMON_NS, nsmap={"cl": COMMON_NS})


@dataclass(frozen=True)
class Provider:
    """A learning provider as the register holds it; ``status`` is UKRLP's code."""

    ukprn: str
    name: str
    status: StatusCode
    postcode: str | None
    verified_by: tuple[str, ...]
    verified_on: dt.date | None
    aliases: tuple[str, ...]
    updated_at: dt.datetime


@dataclass(frozen=True)
class ReceivedQuery:
    """A ProviderQueryRequest as it arrived, read before any validation (so an invalid one is
    listed too, with whatever could be read from it): the text of each field, or None."""

    ukprns: tuple[str, ...]
    provider_status: str | None
    stakeholder_id: str | None
    query_id: str | None


class UkrlpFault(ServiceFault):
    """A fault this service answers with: a SOAP 1.1 fault whose detail is a tns:faultDetail,
    ``major`` the kind of failure and ``minor`` the explanation."""

    def __init__(self, faultcode: SoapFaultCode, major: FaultMajor, message: str) -> None:
        super().__init__(faultcode, message)
        self.major: FaultMajor = major

    def _detail(self) -> etree._Element:
        return _T.faultDetail(_E.major(self.major), _E.minor(self.message))


def _status_code(status: str) -> StatusCode:
    try:
        return _STATUS_NAMES[status]
    except KeyError:
        raise ValueError(
            f"{status!r} is not a UKRLP provider status; one of {sorted(_STATUS_NAMES)}"
        ) from None


def provider_query_schema() -> etree.XMLSchema:
    """The published XSD (and the schemas it imports, found beside it), compiled once."""
    return load_schema(XSD_PATH)


class UkrlpSimulator(SoapService[Literal["Server", "Client"], ReceivedQuery]):
    """UKRLP's provider query service: a WSGI app, the register behind it, the knobs that make
    it misbehave, and the loopback server that serves it.

    The register survives stop()/start(), as UKRLP's does an outage. The knobs count down per
    request and are consumed in arrival order whatever thread answers. ``requests`` lists the
    ProviderQueryRequests received; requests that were not one (not XML, not an envelope,
    another element) are not listed.
    """

    _endpoint = ENDPOINT_PATH
    _wsdl = WSDL_PATH
    _xsd = XSD_PATH
    _name = "provider query service"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(host=host, port=port)
        self._providers: dict[str, Provider] = {}
        self._clock = clock

    # State --------------------------------------------------------------------------------

    def add_provider(
        self,
        ukprn: str,
        name: str,
        status: str = "Active",
        postcode: str | None = None,
        verified_by: Sequence[str] = ("DfE",),
        *,
        verified_on: dt.date | None = None,
        aliases: Sequence[str] = (),
    ) -> Provider:
        """Register (or replace) a provider. ``status`` is a UKRLP code (A, V, PD1, PD2) or
        Active / Verified; ``postcode`` becomes the legal address (contact type L);
        ``verified_by`` names the verification authorities."""
        if not isinstance(ukprn, str) or not _UKPRN.fullmatch(ukprn):
            raise ValueError(f"{ukprn!r} is not a UKPRN (8 digits starting with 1)")
        if isinstance(verified_by, str) or isinstance(aliases, str):
            raise TypeError("verified_by and aliases are sequences of names, not one string")
        provider = Provider(
            ukprn=ukprn,
            name=name,
            status=_status_code(status),
            postcode=postcode,
            verified_by=tuple(verified_by),
            verified_on=verified_on,
            aliases=tuple(aliases),
            updated_at=self._clock(),
        )
        with self._lock:
            self._providers[ukprn] = provider
        return provider

    @property
    def providers(self) -> list[Provider]:
        """The register, in the order providers were first added (a copy)."""
        with self._lock:
            return list(self._providers.values())

    def _forget(self) -> None:
        """For reset(): the register goes."""
        self._providers.clear()

    # Fault injection (and delay_next: LoopbackService) ------------------------------------

    def fail_next(self, n: int, faultcode: Literal["Server", "Client"] = "Server") -> None:
        """The next ``n`` requests get a fault with HTTP 500 before anything else is checked:
        soap:Server (the register is unavailable) unless ``faultcode`` says Client (the
        register refuses the request)."""
        if faultcode not in ("Server", "Client"):
            raise ValueError(f"faultcode is Server or Client, not {faultcode!r}")
        self._fail_next(n, faultcode)

    # SOAP ---------------------------------------------------------------------------------

    def _exchange(
        self, request: SoapRequest | None, problem: SoapRequestError | None, action: str | None
    ) -> etree._Element:
        is_query = request is not None and request.payload.tag == REQUEST_TAG
        with self._lock:
            if is_query:
                assert request is not None
                self._requests.append(_received(request.payload))
            delay = self._take_delay()
        injected = self._held(delay)
        if injected == "Server":
            raise UkrlpFault("Server", "UNAVAILABLE", "UKRLP is unavailable (injected)")
        if injected == "Client":
            raise UkrlpFault("Client", "INVALID_REQUEST", "UKRLP refused the request (injected)")
        if problem is not None:
            raise UkrlpFault(problem.faultcode, "INVALID_REQUEST", str(problem))
        assert request is not None
        if not is_query:
            raise UkrlpFault(
                "Client",
                "INVALID_REQUEST",
                f"retrieveAllProviders takes a ukrlp:ProviderQueryRequest, "
                f"not {etree.QName(request.payload).text}",
            )
        if action is not None and action != SOAP_ACTION:
            raise UkrlpFault(
                "Client", "INVALID_REQUEST", f"SOAPAction {action!r} is not {SOAP_ACTION!r}"
            )
        self._validate(request.payload)
        return self._retrieve(request.payload)

    def _validate(self, payload: etree._Element) -> None:
        complaint = self._schema_complaint(payload)
        if complaint is None:
            return
        message = complaint.replace(f"{{{TNS}}}", "ukrlp:")
        raise UkrlpFault(
            "Client", "INVALID_REQUEST", message or "the request does not match the schema"
        )

    # The operation ------------------------------------------------------------------------

    def _retrieve(self, payload: etree._Element) -> etree._Element:
        """retrieveAllProviders on a schema-valid request: the providers with the asked status
        among the UKPRNs listed (every provider with that status when there is no list)."""
        criteria = payload.find("SelectionCriteria")
        status = criteria.findtext("ProviderStatus")
        if status is None:
            raise UkrlpFault(
                "Client",
                "NOT_SUPPORTED",
                "this stand-in needs a ProviderStatus (A, V, PD1 or PD2); what UKRLP answers "
                "without one is not modelled",
            )
        if status not in STATUS_CODES:
            raise UkrlpFault(
                "Client",
                "INVALID_REQUEST",
                f"ProviderStatus {status!r} is not one of {', '.join(STATUS_CODES)}",
            )
        if criteria.findtext("ApprovedProvidersOnly") == "Yes":
            raise UkrlpFault("Client", "NOT_SUPPORTED", "ApprovedProvidersOnly Yes is not modelled")
        listed = criteria.find("UnitedKingdomProviderReferenceNumberList")
        with self._lock:
            if listed is None:
                candidates = list(self._providers.values())
            else:
                # xs:positiveInteger: surrounding spaces, a plus sign and leading zeros are
                # all the same number.
                asked = dict.fromkeys(
                    str(int(str(item.text).strip()))
                    for item in listed.iterfind("UnitedKingdomProviderReferenceNumber")
                )
                candidates = [self._providers[u] for u in asked if u in self._providers]
        found = [provider for provider in candidates if provider.status == status]
        answer = _T.ProviderQueryResponse(*(_record(provider) for provider in found))
        answer.append(_E.QueryId(str(int(str(payload.findtext("QueryId")).strip()))))
        answer.append(_E.StakeholderId(str(int(str(criteria.findtext("StakeholderId")).strip()))))
        return answer


def _received(payload: etree._Element) -> ReceivedQuery:
    def text(path: str) -> str | None:
        value = payload.findtext(path)
        return None if value is None else str(value)

    return ReceivedQuery(
        ukprns=tuple(
            str(item.text or "")
            for item in payload.iterfind(
                "SelectionCriteria/UnitedKingdomProviderReferenceNumberList"
                "/UnitedKingdomProviderReferenceNumber"
            )
        ),
        provider_status=text("SelectionCriteria/ProviderStatus"),
        stakeholder_id=text("SelectionCriteria/StakeholderId"),
        query_id=text("QueryId"),
    )


def _datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _record(provider: Provider) -> etree._Element:
    """A MatchingProviderRecords element, children in the schema's order."""
    record = _E.MatchingProviderRecords(
        _E.UnitedKingdomProviderReferenceNumber(provider.ukprn),
        _E.ProviderName(provider.name),
        _E.ProviderStatus(provider.status),
    )
    if provider.postcode is not None:
        record.append(
            _E.ProviderContact(
                _E.ContactType("L"),
                _E.ContactAddress(_CL.PostCode(provider.postcode)),
                _E.LastUpdated(_datetime(provider.updated_at)),
            )
        )
    if provider.verified_on is not None:
        # An xs:dateTime at midnight UTC: UKRLP records the day a provider was verified.
        record.append(_E.ProviderVerificationDate(f"{provider.verified_on.isoformat()}T00:00:00Z"))
    for alias in provider.aliases:
        record.append(_E.ProviderAliases(_E.ProviderAlias(alias)))
    for authority in provider.verified_by:
        record.append(_E.VerificationDetails(_E.VerificationAuthority(authority)))
    return record


@contextmanager
def running_ukrlp(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], dt.datetime] = utc_now,
) -> Iterator[UkrlpSimulator]:
    """A started UkrlpSimulator, stopped on the way out however the block ends."""
    with serving(UkrlpSimulator(host=host, port=port, clock=clock)) as simulator:
        yield simulator
