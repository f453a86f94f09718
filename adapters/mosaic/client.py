"""A zeep client for the Mosaic casenote service, with every failure sorted once, here.

zeep builds the requests from the WSDL in ``contracts/mosaic`` and adds the WS-Security
UsernameToken header the service requires. What can go wrong is reduced to three errors the
destination understands: ``MosaicFault`` (the service answered with a fault: its code says
whether to try again), ``MosaicUnreachable`` (no answer: refused, reset, timed out, a proxy's
error page), and ``MosaicRejected`` (an HTTP answer that will not change on retry).
"""

from __future__ import annotations

import pathlib
from typing import Any

import msgspec
import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

NS = "http://mosaic.example/services/casenote/v1"
BINDING = f"{{{NS}}}CasenoteBinding"
DEFAULT_WSDL = pathlib.Path(__file__).parents[2] / "contracts" / "mosaic" / "casenote.wsdl"

# Fault codes (contracts/mosaic/casenote.xsd FaultCode) worth another attempt. NOT_AUTHORISED
# is the whole service refusing us (a rotated password), not this casenote: it waits for the
# credentials to be put right instead of killing every message it meets.
TRANSIENT_CODES = frozenset({"UNAVAILABLE", "INTERNAL", "NOT_AUTHORISED"})
# HTTP statuses a proxy or a busy server gives for a while, then stops giving; 401/403 for
# the same reason as NOT_AUTHORISED.
TRANSIENT_STATUSES = frozenset({401, 403, 408, 425, 429, 500, 502, 503, 504})


class MosaicError(Exception):
    pass


class MosaicFault(MosaicError):
    def __init__(self, code: str, message: str, existing_id: str | None = None) -> None:
        super().__init__(f"Mosaic fault {code}: {message}")
        self.code = code
        self.message = message
        self.existing_id = existing_id

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT_CODES


class MosaicUnreachable(MosaicError):
    """No usable answer; worth trying again later."""


class MosaicRejected(MosaicError):
    """An answer that will not change on retry (a 4xx, an unreadable fault)."""


class StoredCasenote(msgspec.Struct, kw_only=True, frozen=True):
    casenote_id: str
    person_id: str
    source_reference: str


class MosaicClient:
    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        timeout_seconds: float = 15.0,
        wsdl: str | pathlib.Path | None = None,
    ) -> None:
        session = requests.Session()
        session.headers["User-Agent"] = "s19-gateway"
        # zeep is untyped; its calls are confined to this constructor and _call.
        transport = Transport(  # type: ignore[no-untyped-call]
            session=session, timeout=timeout_seconds, operation_timeout=timeout_seconds
        )
        settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True)
        client = zeep.Client(  # type: ignore[no-untyped-call]
            str(wsdl or DEFAULT_WSDL),
            transport=transport,
            wsse=UsernameToken(username, password),  # type: ignore[no-untyped-call]
            settings=settings,
        )
        self._service: Any = client.create_service(BINDING, url)  # type: ignore[no-untyped-call]

    def find_person(self, scheme: str, value: str) -> list[str]:
        """Mosaic person ids matching one identifier (UPN, NHS_NUMBER, MOSAIC_ID)."""
        answer = self._call(self._service.FindPerson, identifier={"scheme": scheme, "value": value})
        return [str(person.personId) for person in (answer or [])]

    def add_casenote(self, casenote: dict[str, Any]) -> str:
        """Store a casenote; returns Mosaic's casenote id."""
        answer = self._call(self._service.AddCasenote, casenote=casenote)
        if answer is None or getattr(answer, "casenoteId", None) is None:
            raise MosaicUnreachable("Mosaic gave an empty answer to AddCasenote")
        return str(answer.casenoteId)

    def casenote_by_reference(self, reference: str) -> StoredCasenote | None:
        answer = self._call(self._service.GetCasenoteByReference, sourceReference=reference)
        if answer is None:
            return None
        return StoredCasenote(
            casenote_id=str(answer.casenoteId),
            person_id=str(answer.personId),
            source_reference=str(answer.sourceReference),
        )

    def _call(self, operation: Any, **arguments: Any) -> Any:
        try:
            return operation(**arguments)
        except zeep.exceptions.Fault as exc:
            raise _fault(exc) from None
        except zeep.exceptions.TransportError as exc:
            status = exc.status_code
            if status in TRANSIENT_STATUSES or status < 300:  # a 2xx zeep cannot read
                raise MosaicUnreachable(
                    f"Mosaic answered HTTP {status} without a SOAP answer"
                ) from None
            raise MosaicRejected(f"Mosaic answered HTTP {status}") from None
        except requests.exceptions.Timeout:
            raise MosaicUnreachable("Mosaic did not answer in time") from None
        except requests.exceptions.ConnectionError as exc:
            raise MosaicUnreachable(f"cannot reach Mosaic: {type(exc).__name__}") from None
        except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError) as exc:
            # A half-written answer or a proxy's HTML page: the service itself may be fine.
            raise MosaicUnreachable(f"unreadable answer from Mosaic: {exc}") from None
        except zeep.exceptions.ValidationError as exc:
            # The casenote does not fit the contract: sending it again will not help.
            raise MosaicRejected(f"casenote does not fit the Mosaic contract: {exc}") from None
        except (requests.exceptions.RequestException, zeep.exceptions.Error) as exc:
            # A truncated body, a redirect loop, an answer zeep cannot place: the far end is
            # not itself; try again later rather than give up on the casenote.
            raise MosaicUnreachable(f"no usable answer from Mosaic: {type(exc).__name__}") from None


def _fault(exc: zeep.exceptions.Fault) -> MosaicError:
    """The MosaicFault detail decides; a fault without one is judged by its faultcode (a
    Server fault may pass, a Client fault will not)."""
    detail = exc.detail
    # zeep hands over raw bytes when the body was XML but not a SOAP fault (an HTML page).
    found = detail.find(f".//{{{NS}}}MosaicFault") if hasattr(detail, "tag") else None
    if found is not None:
        code = found.findtext(f"{{{NS}}}code") or "INTERNAL"
        message = found.findtext(f"{{{NS}}}message") or (exc.message or "")
        return MosaicFault(code, message, found.findtext(f"{{{NS}}}existingCasenoteId"))
    faultcode = str(exc.code or "")
    text = exc.message or "no fault string"
    local = faultcode.rpartition(":")[2]
    if not local or local == "Server" or local.startswith("Server."):  # SOAP 1.1 dotted codes
        return MosaicUnreachable(f"Mosaic fault {faultcode or '(no code)'}: {text}"[:500])
    return MosaicRejected(f"Mosaic fault {faultcode}: {text}"[:500])
