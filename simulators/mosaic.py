"""The authority's Mosaic casenote service (contracts/mosaic/casenote.wsdl), served on 127.0.0.1.

The gateway records every action and decision on a case as a casenote on the child's Mosaic
record, and its delivery code has to cope with everything a real Mosaic does: refusing a
request that breaks the contract, refusing credentials, refusing a reference it already holds
(the answer to "did my last attempt get through?"), being slow, being down, and crashing after
storing a note but before answering. This service does all of that over real SOAP 1.1 on a real
socket, so the gateway's zeep client is exercised exactly as it will be in production.

The contract is the XSD as published: every request payload is validated against
contracts/mosaic/casenote.xsd (found relative to this file, as the service is installed
editable from its checkout), so a request this service accepts is one the contract allows.

Fault injection (``fail_next``, ``delay_next``, ``crash_after_store_next``,
``fail_for_person``, ``stop``/``start``) is what the delivery tests turn; everything is kept in
memory behind one lock because the server answers each request on its own thread.
"""

from __future__ import annotations

import datetime as dt
import hmac
import itertools
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from lxml import etree
from lxml.builder import ElementMaker

from simulators.loopback import SoapService, check_count, serving, utc_now
from simulators.soap_server import (
    DropConnection,
    ServiceFault,
    SoapFaultCode,
    SoapRequest,
    SoapRequestError,
    load_schema,
)

TNS: Final = "http://mosaic.example/services/casenote/v1"
WSSE_NS: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
# The OASIS UsernameToken Profile 1.0, whose URI names the Password element's types.
UT_PROFILE: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
)
PASSWORD_TEXT: Final = UT_PROFILE + "#PasswordText"
CONTRACT_DIR: Final = Path(__file__).parents[1] / "contracts" / "mosaic"
WSDL_PATH: Final = CONTRACT_DIR / "casenote.wsdl"
XSD_PATH: Final = CONTRACT_DIR / "casenote.xsd"
ENDPOINT_PATH: Final = "/mosaic/casenote/v1"  # the path of the WSDL's soap:address
BINDING: Final = f"{{{TNS}}}CasenoteBinding"  # for zeep's Client.create_service

DEFAULT_USERNAME: Final = "s19-gateway"
DEFAULT_PASSWORD: Final = "loopback-only-password"  # noqa: S105 - a loopback stand-in's default

# tns:FaultCode in the XSD; UNAVAILABLE and INTERNAL are the ones worth trying again.
MosaicFaultCode = Literal[
    "PERSON_NOT_FOUND",
    "DUPLICATE_REFERENCE",
    "VALIDATION",
    "NOT_AUTHORISED",
    "UNAVAILABLE",
    "INTERNAL",
]
FAULT_CODES: Final[frozenset[str]] = frozenset(typing.get_args(MosaicFaultCode))
_SERVER_SIDE: Final = frozenset({"UNAVAILABLE", "INTERNAL"})

# Document/literal wrapped: the payload element names the operation.
OPERATIONS: Final = {
    f"{{{TNS}}}FindPersonRequest": "FindPerson",
    f"{{{TNS}}}AddCasenoteRequest": "AddCasenote",
    f"{{{TNS}}}GetCasenoteByReferenceRequest": "GetCasenoteByReference",
}
_ACTION_PREFIX: Final = TNS + "/"

_T = ElementMaker(namespace=TNS, nsmap={"tns": TNS})


def _q(name: str) -> str:
    return f"{{{TNS}}}{name}"


@dataclass(frozen=True)
class Attachment:
    reference: str
    title: str
    media_type: str | None = None


@dataclass(frozen=True)
class Person:
    person_id: str
    upn: str | None = None
    nhs_number: str | None = None


@dataclass(frozen=True)
class StoredNote:
    """A casenote as Mosaic holds it. ``event_date`` and ``recorded_at`` are the xs:dateTime
    text as sent and as answered, so a test compares exactly what crossed the wire."""

    person_id: str
    casenote_type: str
    event_date: str
    author_worker: str | None
    author_team: str | None
    subject: str
    body: str
    source_system: str
    source_reference: str
    attachments: tuple[Attachment, ...]
    casenote_id: str
    recorded_at: str


class MosaicFault(ServiceFault):
    """A fault this service answers with; the SOAP fault code follows from the Mosaic code
    (Server for the transient ones, so a client that only looks at SOAP still retries right)."""

    def __init__(
        self,
        code: MosaicFaultCode,
        message: str,
        existing_casenote_id: str | None = None,
        *,
        faultcode: SoapFaultCode | None = None,
    ) -> None:
        super().__init__(faultcode or ("Server" if code in _SERVER_SIDE else "Client"), message)
        self.code: MosaicFaultCode = code
        self.existing_casenote_id = existing_casenote_id

    def _detail(self) -> etree._Element:
        detail = _T.MosaicFault(_T.code(self.code), _T.message(self.message))
        if self.existing_casenote_id is not None:
            detail.append(_T.existingCasenoteId(self.existing_casenote_id))
        return detail


def _check_code(code: str) -> MosaicFaultCode:
    if code not in FAULT_CODES:
        raise ValueError(f"{code!r} is not a tns:FaultCode; one of {sorted(FAULT_CODES)}")
    return typing.cast(MosaicFaultCode, code)


def casenote_schema() -> etree.XMLSchema:
    """The published XSD, compiled once."""
    return load_schema(XSD_PATH)


class MosaicSimulator(SoapService[MosaicFaultCode, str]):
    """Mosaic's casenote service: a WSGI app, the in-memory records behind it, the knobs that
    make it misbehave, and the loopback server that serves it.

    State survives stop()/start(), as Mosaic's database survives an outage. The knobs count
    down per request and are consumed in arrival order whatever thread answers. ``requests``
    lists the operation names of the requests received; requests that named no operation (not
    XML, not an envelope, an unknown element) are not listed.
    """

    _endpoint = ENDPOINT_PATH
    _wsdl = WSDL_PATH
    _xsd = XSD_PATH
    _name = "casenote service"

    def __init__(
        self,
        *,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(host=host, port=port)
        self._username = username
        self._password = password
        self._clock = clock
        self._persons: dict[str, Person] = {}
        self._notes: list[StoredNote] = []
        self._by_reference: dict[str, StoredNote] = {}
        self._ids = itertools.count(1)
        self._crashes = 0
        self._person_faults: dict[str, MosaicFaultCode] = {}

    # State --------------------------------------------------------------------------------

    def add_person(
        self, person_id: str, upn: str | None = None, nhs_number: str | None = None
    ) -> Person:
        """Register (or replace) a person FindPerson can find and casenotes can be added to."""
        person = Person(person_id, upn, nhs_number)
        with self._lock:
            self._persons[person_id] = person
        return person

    def set_credentials(self, username: str, password: str) -> None:
        """Change what the service accepts, as an authority rotating the gateway's password."""
        with self._lock:
            self._username, self._password = username, password

    @property
    def notes(self) -> list[StoredNote]:
        """Stored casenotes in the order they were stored (a copy)."""
        with self._lock:
            return list(self._notes)

    def _forget(self) -> None:
        """For reset(): persons, notes, pending crashes and per-person faults go; credentials
        are kept."""
        self._persons.clear()
        self._notes.clear()
        self._by_reference.clear()
        self._ids = itertools.count(1)
        self._crashes = 0
        self._person_faults.clear()

    # Fault injection (and delay_next: LoopbackService) ------------------------------------

    def fail_next(self, n: int, code: str = "UNAVAILABLE") -> None:
        """The next ``n`` requests, whatever the operation, get a fault with ``code`` (a
        tns:FaultCode) and HTTP 500, before anything else is checked or stored."""
        self._fail_next(n, _check_code(code))

    def crash_after_store_next(self, n: int) -> None:
        """The next ``n`` AddCasenote requests that store a note then drop the connection with
        no answer. Requests refused (duplicate, unknown person, invalid) do not count."""
        check_count(n)
        with self._lock:
            self._crashes += n

    def fail_for_person(self, person_id: str, code: str | None) -> None:
        """AddCasenote for ``person_id`` gets a fault with ``code`` until it is set to None."""
        with self._lock:
            if code is None:
                self._person_faults.pop(person_id, None)
            else:
                self._person_faults[person_id] = _check_code(code)

    # SOAP ---------------------------------------------------------------------------------

    def _exchange(
        self, request: SoapRequest | None, problem: SoapRequestError | None, action: str | None
    ) -> etree._Element:
        operation = OPERATIONS.get(request.payload.tag) if request is not None else None
        with self._lock:
            if operation is not None:
                self._requests.append(operation)
            delay = self._take_delay()
        injected = self._held(delay)
        if injected is not None:
            raise MosaicFault(injected, f"Mosaic answered {injected} (injected)")
        if problem is not None:
            raise MosaicFault("VALIDATION", str(problem), faultcode=problem.faultcode)
        assert request is not None
        self._authenticate(request.header)
        if operation is None:
            raise MosaicFault(
                "VALIDATION", f"no operation takes a {etree.QName(request.payload).text} element"
            )
        if action is not None and action not in (operation, _ACTION_PREFIX + operation):
            raise MosaicFault(
                "VALIDATION", f"SOAPAction {action!r} does not match the {operation} body"
            )
        self._validate(request.payload)
        if operation == "FindPerson":
            return self._find_person(request.payload)
        if operation == "AddCasenote":
            return self._add_casenote(request.payload)
        return self._get_by_reference(request.payload)

    def _authenticate(self, header: etree._Element | None) -> None:
        token = None
        if header is not None:
            token = header.find(f"{{{WSSE_NS}}}Security/{{{WSSE_NS}}}UsernameToken")
        if token is None:
            raise MosaicFault("NOT_AUTHORISED", "no WS-Security UsernameToken in the header")
        password = token.find(f"{{{WSSE_NS}}}Password")
        if password is None or password.get("Type", PASSWORD_TEXT) != PASSWORD_TEXT:
            raise MosaicFault("NOT_AUTHORISED", "the UsernameToken has no PasswordText")
        with self._lock:
            expected = (self._username.encode(), self._password.encode())
        given = (
            (token.findtext(f"{{{WSSE_NS}}}Username") or "").encode(),
            (password.text or "").encode(),
        )
        # Both compared every time, so the answer's timing does not say which one was wrong.
        same_user = hmac.compare_digest(given[0], expected[0])
        same_password = hmac.compare_digest(given[1], expected[1])
        if not (same_user and same_password):
            raise MosaicFault("NOT_AUTHORISED", "the username or password was not accepted")

    def _validate(self, payload: etree._Element) -> None:
        complaint = self._schema_complaint(payload)
        if complaint is None:
            return
        message = _withhold_values(complaint, payload)
        raise MosaicFault(
            "VALIDATION",
            message.replace(f"{{{TNS}}}", "tns:") or "the request does not match the schema",
        )

    # Operations ---------------------------------------------------------------------------

    def _find_person(self, payload: etree._Element) -> etree._Element:
        scheme = payload.findtext(f"{_q('identifier')}/{_q('scheme')}")
        value = (payload.findtext(f"{_q('identifier')}/{_q('value')}") or "").strip()
        with self._lock:
            persons = list(self._persons.values())
        if scheme == "UPN":
            found = [p for p in persons if p.upn is not None and p.upn.upper() == value.upper()]
        elif scheme == "NHS_NUMBER":
            digits = value.replace(" ", "")
            found = [p for p in persons if (p.nhs_number or "").replace(" ", "") == digits]
        else:
            found = [p for p in persons if p.person_id == value]
        return _T.FindPersonResponse(
            *(_T.person(_T.personId(p.person_id), _T.matchedOn(str(scheme))) for p in found)
        )

    def _add_casenote(self, payload: etree._Element) -> etree._Element:
        note = payload.find(_q("casenote"))
        person_id = note.findtext(_q("personId"))
        reference = note.findtext(_q("sourceReference"))
        with self._lock:
            injected = self._person_faults.get(person_id)
            if injected is not None:
                raise MosaicFault(
                    injected, f"Mosaic answered {injected} for this person (injected)"
                )
            if person_id not in self._persons:
                raise MosaicFault("PERSON_NOT_FOUND", "the personId is not a person in Mosaic")
            held = self._by_reference.get(reference)
            if held is not None:
                raise MosaicFault(
                    "DUPLICATE_REFERENCE",
                    "a casenote with this sourceReference is already stored",
                    existing_casenote_id=held.casenote_id,
                )
            stored = _read_casenote(
                note,
                casenote_id=f"CN{next(self._ids)}",
                recorded_at=self._clock().isoformat(timespec="seconds"),
            )
            self._notes.append(stored)
            self._by_reference[stored.source_reference] = stored
            crash = self._crashes > 0
            if crash:
                self._crashes -= 1
        if crash:
            raise DropConnection
        return _T.AddCasenoteResponse(
            _T.casenoteId(stored.casenote_id), _T.sourceReference(stored.source_reference)
        )

    def _get_by_reference(self, payload: etree._Element) -> etree._Element:
        reference = payload.findtext(_q("sourceReference"))
        with self._lock:
            stored = self._by_reference.get(reference)
        if stored is None:
            return _T.GetCasenoteByReferenceResponse()
        return _T.GetCasenoteByReferenceResponse(_stored_casenote(stored))


def _withhold_values(message: str, document: etree._Element) -> str:
    """libxml2 quotes the offending value in its messages ("The value 'X' is not accepted"); a
    value here is a child's data (a UPN, a casenote's text), and a fault message ends up in
    the client's logs, so each value in the request is replaced by a placeholder. Longest
    first, so a value that contains another is withheld whole."""
    values = {
        variant
        for element in document.iter()
        for text in (element.text, *element.attrib.values())
        if text
        for variant in (text, " ".join(text.split()))
    }
    for value in sorted(values, key=len, reverse=True):
        message = message.replace(f"'{value}'", "'[withheld]'")
    return message


def _read_casenote(note: etree._Element, *, casenote_id: str, recorded_at: str) -> StoredNote:
    """A schema-valid tns:Casenote as stored."""

    def text(path: str) -> str:
        return str(note.findtext(path) or "")

    def optional(path: str) -> str | None:
        value = note.findtext(path)
        return None if value is None else str(value)

    attachments = tuple(
        Attachment(
            reference=str(item.findtext(_q("reference")) or ""),
            title=str(item.findtext(_q("title")) or ""),
            media_type=item.findtext(_q("mediaType")),
        )
        for item in note.iterfind(f"{_q('attachments')}/{_q('attachment')}")
    )
    return StoredNote(
        person_id=text(_q("personId")),
        casenote_type=text(_q("casenoteType")),
        event_date=text(_q("eventDate")),
        author_worker=optional(f"{_q('author')}/{_q('worker')}"),
        author_team=optional(f"{_q('author')}/{_q('team')}"),
        subject=text(_q("subject")),
        body=text(_q("body")),
        source_system=text(_q("sourceSystem")),
        source_reference=text(_q("sourceReference")),
        attachments=attachments,
        casenote_id=casenote_id,
        recorded_at=recorded_at,
    )


def _stored_casenote(note: StoredNote) -> etree._Element:
    author = _T.author()
    if note.author_worker is not None:
        author.append(_T.worker(note.author_worker))
    if note.author_team is not None:
        author.append(_T.team(note.author_team))
    element = _T.casenote(
        _T.personId(note.person_id),
        _T.casenoteType(note.casenote_type),
        _T.eventDate(note.event_date),
        author,
        _T.subject(note.subject),
        _T.body(note.body),
        _T.sourceSystem(note.source_system),
        _T.sourceReference(note.source_reference),
    )
    if note.attachments:
        attachments = _T.attachments()
        for item in note.attachments:
            attachment = _T.attachment(_T.reference(item.reference), _T.title(item.title))
            if item.media_type is not None:
                attachment.append(_T.mediaType(item.media_type))
            attachments.append(attachment)
        element.append(attachments)
    element.append(_T.casenoteId(note.casenote_id))
    element.append(_T.recordedAt(note.recorded_at))
    return element


@contextmanager
def running_mosaic(
    *,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], dt.datetime] = utc_now,
) -> Iterator[MosaicSimulator]:
    """A started MosaicSimulator, stopped on the way out however the block ends."""
    simulator = MosaicSimulator(
        username=username, password=password, host=host, port=port, clock=clock
    )
    with serving(simulator):
        yield simulator
