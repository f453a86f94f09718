"""Why a zeep call failed, sorted the same way for every SOAP service the gateway calls.

A caller of a SOAP service has one decision to make about a failed call: try again later, or
give up on this request, because sending it again will be refused again. zeep and requests
report failures as a dozen exception types, and the line between those types is not where that
decision falls (a reset connection and a proxy's HTML error page both mean "later", a request
that does not fit the schema means "never"), so the sorting is done once, here. Each client
says only what is particular to its service (which HTTP statuses pass, what its fault detail
carries) and which of its own exceptions each verdict becomes.

A SOAP fault is judged by its SOAP 1.1 faultcode: a Server fault (dotted ``Server.x`` codes
included) or one with no code may pass, anything else is the request's own fault. The service's
own fault detail element, when the fault carries one, is handed back with the verdict, for a
client whose detail holds codes that say more than the faultcode does.

The sorting holds for a client built by zeep_service, which decides what fails in the first
place: an answer that breaks the contract or carries a DTD is an error rather than a value half
read, and a service that goes quiet is a timeout rather than a thread stuck for ever.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

# What a zeep call can fail with that sort_failure sorts; anything else propagates unsorted.
CALL_ERRORS: Final = (zeep.exceptions.Error, requests.exceptions.RequestException)

Verdict = Literal["unreachable", "rejected"]

# A fault's text is the far end's to choose, so what is kept of it is bounded.
_MAX_FAULT_MESSAGE: Final = 500


@dataclass(frozen=True)
class SoapFailure:
    """A failed call, sorted. ``verdict`` is "unreachable" (no usable answer: try again later)
    or "rejected" (the request itself was refused: trying again will not help); ``message``
    says what happened, for the client's own exception.

    For a SOAP fault, ``detail`` is the service's own fault element when the fault carries one
    (None otherwise) and ``faultstring`` the fault's text as sent ("" when it had none); both
    are None for any other failure."""

    verdict: Verdict
    message: str
    detail: Any = None
    faultstring: str | None = None


def zeep_service(
    url: str,
    *,
    binding: str,
    wsdl: str | pathlib.Path,
    timeout_seconds: float,
    wsse: Any = None,
) -> Any:
    """zeep's proxy for ``binding`` (a Clark name from ``wsdl``) at ``url``: strict about the
    contract, refusing DTDs and huge trees, with ``timeout_seconds`` both for fetching the
    contract and for each call, and ``wsse`` (zeep's WS-Security, if the service wants it)."""
    session = requests.Session()
    session.headers["User-Agent"] = "s19-gateway"
    # zeep is untyped; its calls are confined to here and to the clients' calls of the proxy.
    transport = Transport(  # type: ignore[no-untyped-call]
        session=session, timeout=timeout_seconds, operation_timeout=timeout_seconds
    )
    settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True)
    client = zeep.Client(  # type: ignore[no-untyped-call]
        str(wsdl), transport=transport, wsse=wsse, settings=settings
    )
    return client.create_service(binding, url)  # type: ignore[no-untyped-call]


def sort_failure(
    error: Exception,
    *,
    service: str,
    sent: str,
    transient_status: Callable[[int], bool],
    detail_tag: str,
    explain: Callable[[Any], str | None] | None = None,
) -> SoapFailure:
    """The verdict on ``error``, one of CALL_ERRORS raised by a zeep call to ``service`` (the
    name the messages give it).

    ``sent`` names what the call carried, for a request that does not fit the contract;
    ``transient_status`` says which HTTP statuses without a SOAP answer are worth waiting out
    (a 2xx zeep could not read always is); ``detail_tag`` is the Clark name of the service's
    fault detail element; ``explain``, given one, picks from it what to add to the message."""
    if isinstance(error, zeep.exceptions.Fault):
        return _sort_fault(error, service, detail_tag, explain)
    if isinstance(error, zeep.exceptions.TransportError):
        status = error.status_code
        if transient_status(status) or status < 300:  # a 2xx zeep cannot read
            return SoapFailure(
                "unreachable", f"{service} answered HTTP {status} without a SOAP answer"
            )
        return SoapFailure("rejected", f"{service} answered HTTP {status}")
    # Timeout before ConnectionError: a connect timeout is both, and is reported as a timeout.
    if isinstance(error, requests.exceptions.Timeout):
        return SoapFailure("unreachable", f"{service} did not answer in time")
    if isinstance(error, requests.exceptions.ConnectionError):
        return SoapFailure("unreachable", f"cannot reach {service}: {type(error).__name__}")
    if isinstance(error, zeep.exceptions.XMLSyntaxError | zeep.exceptions.XMLParseError):
        # A half-written answer or a proxy's HTML page: the service itself may be fine.
        return SoapFailure("unreachable", f"unreadable answer from {service}: {error}")
    if isinstance(error, zeep.exceptions.ValidationError):
        # What was sent does not fit the contract: sending it again will not help.
        return SoapFailure("rejected", f"{sent} does not fit the {service} contract: {error}")
    # A truncated body, a redirect loop, an answer zeep cannot place: the far end is not
    # itself; try again later rather than give up on the request.
    return SoapFailure("unreachable", f"no usable answer from {service}: {type(error).__name__}")


def _sort_fault(
    fault: zeep.exceptions.Fault,
    service: str,
    detail_tag: str,
    explain: Callable[[Any], str | None] | None,
) -> SoapFailure:
    raw = fault.detail
    # zeep hands over raw bytes when the body was XML but not a SOAP fault (an HTML page).
    detail = raw.find(f".//{detail_tag}") if hasattr(raw, "tag") else None
    text = fault.message or "no fault string"
    extra = explain(detail) if explain is not None and detail is not None else None
    if extra and extra not in text:
        text = f"{text} ({extra})"
    faultcode = str(fault.code or "")
    local = faultcode.rpartition(":")[2]
    verdict: Verdict = (
        "unreachable"
        if not local or local == "Server" or local.startswith("Server.")  # SOAP 1.1 dotted codes
        else "rejected"
    )
    message = f"{service} fault {faultcode or '(no code)'}: {text}"[:_MAX_FAULT_MESSAGE]
    return SoapFailure(verdict, message, detail, fault.message or "")
