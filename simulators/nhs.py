"""An NHS team's receiving system for BaRS-style FHIR messages, served on 127.0.0.1.

The gateway asks NHS teams for health advice on a child's education, health and care needs by
POSTing a FHIR R4 message Bundle to the team's ``$process-message`` endpoint, as the NHS
Booking and Referral Standard (BaRS) lays out. Its delivery code has to cope with what a real
receiver does: refuse a message that breaks the standard, refuse the transport (media type,
missing headers, size), throttle, be slow, be down, and crash after taking a message but
before answering. This stand-in does all of that over real HTTP on a real socket, so the
gateway's httpx client meets it as it will meet an NHS system.

Messages are checked the way a careful receiver checks them rather than by hand-written rules:
the whole Bundle and each entry's resource are read with the fhir.resources R4B models, then
the parts those models leave open are checked here: the codes the specification binds to a
fixed list (fhir.resources records the list but does not enforce it), the message shape BaRS
requires (a ``message`` Bundle whose first entry is a MessageHeader carrying the BaRS event),
and references, which in a message must resolve inside the Bundle because the receiver has no
server of the sender's to look them up on.

A receiver de-duplicates on the message id, because a sender that lost an answer sends again;
so a Bundle whose id was already taken is answered as accepted but not stored a second time.

Bundles carry NHS numbers and names, so nothing here prints or logs a payload, and an answer's
diagnostics name paths and rules, never the values found there.

Fault injection (``fail_next``, ``delay_next``, ``drop_next``, ``stop``/``start``) is what the
delivery tests turn; state is kept in memory behind one lock because the server answers each
request on its own thread.
"""

from __future__ import annotations

import copy
import functools
import http
import importlib
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, NamedTuple
from wsgiref.types import StartResponse, WSGIEnvironment

import pydantic
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from simulators.loopback import LoopbackService, check_count, serving
from simulators.soap_server import DropConnection, HttpError, read_body, respond

FHIR_JSON: Final = "application/fhir+json"
BASE_PATH: Final = "/fhir/R4"
PROCESS_MESSAGE_PATH: Final = BASE_PATH + "/$process-message"
METADATA_PATH: Final = BASE_PATH + "/metadata"
MAX_BODY_BYTES: Final = 5 * 1024 * 1024

BARS_EVENT_SYSTEM: Final = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
BARS_EVENT_CODE: Final = "servicerequest-request"
PROCESS_MESSAGE_DEFINITION: Final = (
    "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"
)

# http://hl7.org/fhir/ValueSet/issue-type (required binding of OperationOutcome.issue.code).
ISSUE_TYPES: Final[frozenset[str]] = frozenset(
    {
        "invalid", "structure", "required", "value", "invariant", "security", "login",
        "unknown", "expired", "forbidden", "suppressed", "processing", "not-supported",
        "duplicate", "multiple-matches", "not-found", "deleted", "too-long", "code-invalid",
        "extension", "too-costly", "business-rule", "conflict", "transient", "lock-error",
        "no-store", "exception", "timeout", "incomplete", "throttled", "informational",
    }
)  # fmt: skip

# fhir.resources keeps each required code list from the specification's short description,
# which the specification cuts off with "+" when the list is long. The full lists for the
# elements a BaRS message carries are given here; a cut-off list without one is not checked.
_FULL_CODE_LISTS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("Task", "status"): (  # http://hl7.org/fhir/ValueSet/task-status (R4 and R4B)
        "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
        "in-progress", "on-hold", "failed", "completed", "entered-in-error",
    ),
}  # fmt: skip

_RETRY_AFTER_STATUSES: Final = frozenset({429, 503})
_MAX_ISSUES: Final = 20  # enough to fix a message by; a hostile one cannot make a huge answer
_RESOURCE_TYPE: Final = re.compile(r"[A-Z][A-Za-z]{1,63}")
# How validator messages quote: ``x`` (fhir.resources), 'x' and "x" (Python's repr).
_QUOTED: Final = re.compile(r"``(.+?)``|'([^']*)'|\"([^\"]*)\"")
# A relative literal reference, optionally versioned: Type/id[/_history/vid].
_RELATIVE_REFERENCE: Final = re.compile(
    r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)


class ReceivedRequest(NamedTuple):
    """A request as it arrived: what a test checks the sender's headers with. The header
    values are None when the header was not sent."""

    method: str
    path: str
    request_id: str | None
    correlation_id: str | None


@dataclass(frozen=True)
class _Failure:
    status: int
    code: str
    diagnostics: str
    retry_after: int


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue. ``expression`` is the FHIRPath of the element concerned
    (None when the problem is not inside the resource, such as a missing header)."""

    severity: str
    code: str
    diagnostics: str
    expression: str | None = None

    def as_json(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression is not None:
            issue["expression"] = [self.expression]
        return issue


class _Refusal(Exception):
    """A request answered with an OperationOutcome instead of being accepted."""

    def __init__(
        self, status: int, issues: Iterable[Issue], headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(issue.diagnostics for issue in self.issues))
        self.status = status
        self.headers = headers


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """An OperationOutcome resource (as JSON) carrying ``issues``."""
    return {"resourceType": "OperationOutcome", "issue": [issue.as_json() for issue in issues]}


def _status_line(status: int) -> str:
    return f"{status} {http.HTTPStatus(status).phrase}"


class NhsTeamSimulator(LoopbackService[_Failure, ReceivedRequest]):
    """An NHS team's BaRS receiver: a WSGI app, the messages it has taken, the knobs that make
    it misbehave, and the loopback server that serves it.

    State survives stop()/start(), as a receiver's store survives an outage. The knobs count
    down per ``$process-message`` request (never per ``metadata`` read, so a client that checks
    the capability statement first does not use them up) and are consumed in arrival order
    whatever thread answers. ``requests`` lists every request that reached the server, refused
    or not.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self._received: list[dict[str, Any]] = []
        self._message_ids: set[str] = set()
        self._duplicates = 0
        self._drops = 0

    # Lifecycle (start, stop, running, port: LoopbackService) ------------------------------

    @property
    def base_url(self) -> str:
        """The FHIR base the gateway is configured with for this team."""
        return self._address(BASE_PATH)

    @property
    def process_message_url(self) -> str:
        return self.base_url + "/$process-message"

    @property
    def metadata_url(self) -> str:
        return self.base_url + "/metadata"

    # State --------------------------------------------------------------------------------

    @property
    def received(self) -> list[dict[str, Any]]:
        """Accepted Bundles as the JSON received, in the order accepted, each message id once
        (deep copies, so a test cannot change what the receiver holds)."""
        with self._lock:
            return copy.deepcopy(self._received)

    @property
    def duplicates(self) -> int:
        """How many valid Bundles were answered as accepted without being stored, because a
        Bundle with the same id had been taken already."""
        with self._lock:
            return self._duplicates

    def service_requests(self) -> list[dict[str, Any]]:
        """The ServiceRequest resources of the accepted Bundles, in order (deep copies)."""
        return [
            entry["resource"]
            for bundle in self.received
            for entry in bundle.get("entry", [])
            if entry.get("resource", {}).get("resourceType") == "ServiceRequest"
        ]

    def _forget(self) -> None:
        """For reset(): messages, message ids, the duplicate count and pending drops go."""
        self._received.clear()
        self._message_ids.clear()
        self._duplicates = 0
        self._drops = 0

    # Fault injection ----------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int = 503,
        code: str = "transient",
        diagnostics: str | None = None,
        *,
        retry_after: int = 1,
    ) -> None:
        """The next ``n`` messages are answered with HTTP ``status`` and an OperationOutcome
        whose issue has ``code`` (an issue-type code: ``transient``, ``throttled``, ``invalid``,
        ``security``…), before they are read or stored. 429 and 503 carry ``Retry-After:
        {retry_after}`` (seconds), as a throttling or overloaded receiver says when to return."""
        check_count(n)
        if not 400 <= status <= 599:
            raise ValueError(f"an injected failure is an HTTP 4xx or 5xx status, got {status}")
        if code not in ISSUE_TYPES:
            raise ValueError(f"{code!r} is not an OperationOutcome issue type")
        if retry_after < 0:
            raise ValueError(f"Retry-After cannot be negative, got {retry_after}")
        failure = _Failure(
            status,
            code,
            diagnostics or f"the receiving system answered {status} (injected)",
            retry_after,
        )
        self._fail_next(n, failure)

    def delay_next(self, n: int, seconds: float) -> None:
        """The next ``n`` messages wait ``seconds`` before being processed (then answered as
        usual), to run a client into its timeout."""
        check_count(n)
        if seconds < 0:
            raise ValueError(f"a delay cannot be negative, got {seconds}")
        super().delay_next(n, seconds)

    def drop_next(self, n: int) -> None:
        """The next ``n`` messages that are accepted are stored (or, for a repeated message id,
        counted as a duplicate) and then the connection is dropped with no answer, so the
        sender cannot tell that the message arrived. Refused messages do not use one up."""
        check_count(n)
        with self._lock:
            self._drops += n

    # WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", ""))
        path = str(environ.get("PATH_INFO", ""))
        request_id = _header(environ, "HTTP_X_REQUEST_ID")
        correlation_id = _header(environ, "HTTP_X_CORRELATION_ID")
        with self._lock:
            self._requests.append(ReceivedRequest(method, path, request_id, correlation_id))
        # Echoed, so a sender can match an answer to its request in its own logs.
        echo = tuple(
            (name, value)
            for name, value in (("X-Request-Id", request_id), ("X-Correlation-Id", correlation_id))
            if value is not None
        )
        try:
            if path == METADATA_PATH:
                _allow(method, "GET")
                body = self._capability_statement()
                status = 200
            elif path == PROCESS_MESSAGE_PATH:
                _allow(method, "POST")
                body = self._process_message(environ, request_id)
                status = 200
            else:
                raise _Refusal(
                    404,
                    [
                        Issue(
                            "error",
                            "not-found",
                            f"nothing is served at {path}; the base is {BASE_PATH}",
                        )
                    ],
                )
        except _Refusal as refusal:
            return _answer(
                start_response,
                refusal.status,
                operation_outcome(refusal.issues),
                (*refusal.headers, *echo),
            )
        return _answer(start_response, status, body, echo)

    def _process_message(self, environ: WSGIEnvironment, request_id: str | None) -> dict[str, Any]:
        try:
            data: bytes | None = read_body(environ, MAX_BODY_BYTES)
            too_big: HttpError | None = None
        except HttpError as error:
            # Reported after the header checks; read_body has already drained what it could,
            # so the client gets to read whichever answer comes.
            data, too_big = None, error
        media_type = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
        if media_type != FHIR_JSON:
            raise _Refusal(
                415, [Issue("error", "not-supported", f"a message is sent as {FHIR_JSON}")]
            )
        if request_id is None:
            raise _Refusal(400, [Issue("error", "required", "the X-Request-Id header is required")])
        if too_big is not None:
            status = int(too_big.status.split()[0])
            code = "too-long" if status == 413 else "required"
            raise _Refusal(status, [Issue("error", code, too_big.message)])
        assert data is not None

        with self._lock:
            delay = self._take_delay()
        failure = self._held(delay)
        if failure is not None:
            headers: tuple[tuple[str, str], ...] = ()
            if failure.status in _RETRY_AFTER_STATUSES:
                headers = (("Retry-After", str(failure.retry_after)),)
            issue = Issue("error", failure.code, failure.diagnostics)
            raise _Refusal(failure.status, [issue], headers)

        bundle = parse_json(data)
        issues = check_message(bundle)
        if issues:
            raise _Refusal(422, issues)

        message_id = str(bundle["id"])
        with self._lock:
            if message_id in self._message_ids:
                self._duplicates += 1
            else:
                self._message_ids.add(message_id)
                self._received.append(bundle)
            drop = self._drops > 0
            if drop:
                self._drops -= 1
        if drop:
            raise DropConnection
        return operation_outcome([Issue("information", "informational", "accepted")])

    def _capability_statement(self) -> dict[str, Any]:
        """Enough of a CapabilityStatement for a client to see that this base takes messages
        through $process-message, in FHIR JSON."""
        return {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-01-01",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": [FHIR_JSON],
            "implementation": {
                "description": "Loopback stand-in for an NHS team's BaRS receiving system",
                "url": self.base_url,
            },
            "rest": [
                {
                    "mode": "server",
                    "operation": [
                        {"name": "process-message", "definition": PROCESS_MESSAGE_DEFINITION}
                    ],
                }
            ],
            "messaging": [
                {
                    "endpoint": [
                        {
                            "protocol": {
                                "system": "http://terminology.hl7.org/CodeSystem/message-transport",
                                "code": "http",
                            },
                            "address": self.process_message_url,
                        }
                    ],
                    "documentation": (
                        f"Receives message Bundles whose MessageHeader.eventCoding is "
                        f"{BARS_EVENT_SYSTEM}|{BARS_EVENT_CODE}"
                    ),
                }
            ],
        }


def _header(environ: WSGIEnvironment, key: str) -> str | None:
    value = str(environ.get(key, "")).strip()
    return value or None


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise _Refusal(
            405,
            [Issue("error", "not-supported", f"only {allowed} is served here")],
            (("Allow", allowed),),
        )


def _answer(
    start_response: StartResponse,
    status: int,
    resource: dict[str, Any],
    headers: tuple[tuple[str, str], ...],
) -> list[bytes]:
    body = json.dumps(resource).encode("utf-8")
    return respond(start_response, _status_line(status), body, FHIR_JSON, headers)


# Reading and checking a message -------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number FHIR allows")


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the property {key!r} appears twice in one object")
        result[key] = value
    return result


def parse_json(data: bytes) -> Any:
    """The body as JSON; a 400 refusal (issue code ``invalid``) when it is not JSON that FHIR
    allows: not UTF-8, not well-formed, NaN or Infinity, or a property repeated in one object
    (which parsers disagree about, so a receiver must not guess)."""
    try:
        return json.loads(
            data.decode("utf-8"),
            parse_constant=_refuse_constant,
            object_pairs_hook=_refuse_repeated_keys,
        )
    except UnicodeDecodeError:
        problem = "the body is not UTF-8"
    except json.JSONDecodeError as error:
        problem = (
            f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        )
    except ValueError as error:
        problem = f"the body is not valid FHIR JSON: {error}"
    except RecursionError:
        problem = "the body is nested too deeply to read"
    raise _Refusal(400, [Issue("error", "invalid", problem)])


@functools.cache
def resource_class(resource_type: str) -> type[Resource] | None:
    """The fhir.resources R4B model for ``resource_type``; None when R4B has no such resource
    (a data type such as Identifier is not a resource, so it is None too)."""
    if not _RESOURCE_TYPE.fullmatch(resource_type):
        return None
    try:
        module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    except ImportError:
        return None
    found = getattr(module, resource_type, None)
    if isinstance(found, type) and issubclass(found, Resource):
        return found
    return None


def check_message(bundle: Any) -> list[Issue]:
    """Every problem found with ``bundle`` as a BaRS request message, at most _MAX_ISSUES of
    them; an empty list means the message is accepted.

    The checks run in stages and a stage whose input is unusable stops the ones that depend on
    it, so one mistake is reported once rather than echoed by every later check.
    """
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return [Issue("error", "structure", "the body is not a FHIR Bundle", "Bundle")]
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        entries = []
    issues: list[Issue] = []
    validated: dict[int, Resource] = {}
    for index, entry in enumerate(entries):
        path = f"Bundle.entry[{index}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            issues.append(Issue("error", "structure", f"{path} has no resource", path))
            continue
        model = _validate_entry(resource, f"{path}.resource", issues)
        if model is not None:
            validated[index] = model
    parsed: Bundle | None = None
    if not issues:  # with a broken entry the Bundle's model would only fail on it again
        try:
            parsed = Bundle.model_validate(bundle)
        except pydantic.ValidationError as error:
            issues.extend(_model_issues(error, "Bundle", bundle))
        except Exception:  # fhir.resources raises more than ValidationError on odd input
            issues.append(Issue("error", "structure", "the Bundle cannot be read as R4B"))
    if parsed is not None:
        _check_codes(parsed, "Bundle", issues)
    else:
        for index, model in validated.items():
            _check_codes(model, f"Bundle.entry[{index}].resource", issues)
    _check_message_shape(bundle, entries, issues)
    _check_references(entries, issues)
    return _unique(issues)[:_MAX_ISSUES]


def _validate_entry(resource: dict[str, Any], path: str, issues: list[Issue]) -> Resource | None:
    resource_type = resource.get("resourceType")
    model = resource_class(resource_type) if isinstance(resource_type, str) else None
    if model is None:
        issues.append(
            Issue(
                "error",
                "structure",
                f"{path}.resourceType does not name an R4B resource",
                f"{path}.resourceType",
            )
        )
        return None
    try:
        return model.model_validate(resource)
    except pydantic.ValidationError as error:
        issues.extend(_model_issues(error, path, resource))
    except Exception:  # e.g. a contained resource of a type fhir.resources does not know
        issues.append(Issue("error", "structure", f"{path} cannot be read as {resource_type}"))
    return None


def _model_issues(error: pydantic.ValidationError, prefix: str, document: Any) -> list[Issue]:
    withheld = _leaf_values(document)
    issues = []
    for detail in error.errors(include_url=False, include_input=False)[:_MAX_ISSUES]:
        path = prefix + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}"
            for part in detail["loc"]
            # pydantic names union branches and validators in the location; FHIRPath has no
            # place for them.
            if isinstance(part, int) or not any(c in str(part) for c in "[( ")
        )
        issues.append(
            Issue("error", "structure", f"{path}: {_withhold(detail['msg'], withheld)}", path)
        )
    return issues


def _leaf_values(document: Any) -> set[str]:
    """The string values in ``document`` other than resource types, to keep out of answers."""
    values: set[str] = set()
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(value for key, value in item.items() if key != "resourceType")
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item:
            values.add(item)
    return values


def _withhold(message: str, values: set[str]) -> str:
    """A validator message with any quoted value from the request replaced, as validator
    messages sometimes quote what they were given and a value here can be a child's data.
    Only the quoted parts of the message are looked up, so a large Bundle costs no more."""

    def replace(quoted: re.Match[str]) -> str:
        inner = next(group for group in quoted.groups() if group is not None)
        return "'[withheld]'" if inner in values else quoted[0]

    return _QUOTED.sub(replace, message)


def _check_codes(model: pydantic.BaseModel, path: str, issues: list[Issue]) -> None:
    """Codes outside the fixed list the specification binds their element to. fhir.resources
    records each list (``enum_values``) but does not check it, so ``Task.status: finished``
    would otherwise pass; a list the specification cuts off with "+" is checked only when
    _FULL_CODE_LISTS has the whole of it."""
    stack: list[tuple[Any, str]] = [(model, path)]
    while stack:
        item, where = stack.pop()
        for name, field in type(item).model_fields.items():
            value = getattr(item, name, None)
            if value is None:
                continue
            alias = field.alias or name
            here = f"{where}.{alias}"
            allowed = _code_list(type(item).__name__, alias, field.json_schema_extra)
            values = value if isinstance(value, list) else [value]
            for index, element in enumerate(values):
                at = f"{here}[{index}]" if isinstance(value, list) else here
                if allowed is not None and isinstance(element, str) and element not in allowed:
                    issues.append(
                        Issue("error", "invalid", f"{at} must be one of {' | '.join(allowed)}", at)
                    )
                elif isinstance(element, pydantic.BaseModel):
                    stack.append((element, at))


def _code_list(owner: str, alias: str, extra: Any) -> tuple[str, ...] | None:
    full = _FULL_CODE_LISTS.get((owner, alias))
    if full is not None:
        return full
    listed = extra.get("enum_values") if isinstance(extra, dict) else None
    if not listed or "+" in listed:
        return None
    return tuple(str(code) for code in listed)


def _check_message_shape(bundle: dict[str, Any], entries: list[Any], issues: list[Issue]) -> None:
    """What makes the Bundle a BaRS request message: its type, its id (the message id a
    receiver de-duplicates on) and a first entry that is a MessageHeader with the BaRS event."""
    if bundle.get("type") != "message":
        issues.append(
            Issue(
                "error",
                "invalid",
                "Bundle.type must be message for $process-message",
                "Bundle.type",
            )
        )
    if not isinstance(bundle.get("id"), str) or not bundle["id"]:
        issues.append(
            Issue("error", "invalid", "Bundle.id is required: it is the message id", "Bundle.id")
        )
    first = entries[0].get("resource") if entries and isinstance(entries[0], dict) else None
    if not isinstance(first, dict) or first.get("resourceType") != "MessageHeader":
        where = next(
            (
                f"Bundle.entry[{index}]"
                for index, entry in enumerate(entries)
                if isinstance(entry, dict)
                and isinstance(entry.get("resource"), dict)
                and entry["resource"].get("resourceType") == "MessageHeader"
            ),
            None,
        )
        found = f"; it is {where}" if where is not None else ""
        issues.append(
            Issue(
                "error",
                "structure",
                f"Bundle.entry[0].resource must be the MessageHeader{found}",
                "Bundle.entry[0].resource",
            )
        )
        return
    event = first.get("eventCoding")
    path = "Bundle.entry[0].resource.eventCoding"
    if (
        not isinstance(event, dict)
        or event.get("system") != BARS_EVENT_SYSTEM
        or event.get("code") != BARS_EVENT_CODE
    ):
        issues.append(
            Issue("error", "invalid", f"{path} must be {BARS_EVENT_SYSTEM}|{BARS_EVENT_CODE}", path)
        )


def _check_references(entries: list[Any], issues: list[Issue]) -> None:
    """Each literal reference must resolve inside the message: to an entry's fullUrl (how
    ``urn:uuid:`` references resolve), to an entry's ``Type/id`` when relative, or to a
    contained resource when internal (``#id``). An absolute URL that is no entry's fullUrl is a
    reference to another server, which FHIR allows and a receiver may follow, so it is left."""
    full_urls: set[str] = set()
    local_ids: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str):
            if full_url in full_urls:
                path = f"Bundle.entry[{index}].fullUrl"
                issues.append(
                    Issue("error", "invalid", f"{path} repeats an earlier entry's fullUrl", path)
                )
            full_urls.add(full_url)
        resource = entry.get("resource")
        if isinstance(resource, dict):
            local_ids.add(f"{resource.get('resourceType')}/{resource.get('id')}")
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        contained = resource.get("contained")
        contained_ids = {
            f"#{item.get('id')}"
            for item in (contained if isinstance(contained, list) else [])
            if isinstance(item, dict)
        }
        for path, reference in _references(resource, f"Bundle.entry[{index}].resource"):
            if reference in full_urls or reference == "#" or reference in contained_ids:
                continue
            relative = _RELATIVE_REFERENCE.fullmatch(reference)
            if relative is not None:
                if f"{relative[1]}/{relative[2]}" in local_ids or any(
                    url.endswith(f"/{relative[1]}/{relative[2]}") for url in full_urls
                ):
                    continue
                problem = "names no resource in the Bundle"
            elif reference.startswith(("urn:uuid:", "urn:oid:")):
                problem = "is no entry's fullUrl"
            elif reference.startswith("#"):
                problem = "names no contained resource"
            elif "://" in reference:
                continue
            else:
                problem = "is not a literal reference"
            issues.append(Issue("error", "invalid", f"{path} {problem}", path))


def _references(document: Any, path: str) -> list[tuple[str, str]]:
    """(FHIRPath, value) of every Reference.reference under ``document``, in document order.
    Iterative, as a hostile body can be nested as deep as the JSON parser allows."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(document, path)]
    while stack:
        item, where = stack.pop()
        children: list[tuple[Any, str]] = []
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "reference" and isinstance(value, str):
                    found.append((f"{where}.{key}", value))
                else:
                    children.append((value, f"{where}.{key}"))
        elif isinstance(item, list):
            children = [(value, f"{where}[{index}]") for index, value in enumerate(item)]
        stack.extend(reversed(children))
    return found


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


@contextmanager
def running_nhs_team(*, host: str = "127.0.0.1", port: int = 0) -> Iterator[NhsTeamSimulator]:
    """A started NhsTeamSimulator, stopped on the way out however the block ends."""
    with serving(NhsTeamSimulator(host=host, port=port)) as simulator:
        yield simulator
