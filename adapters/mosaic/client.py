"""A zeep client for the Mosaic casenote service, with every failure sorted before it leaves.

zeep builds the requests from the WSDL in ``contracts/mosaic`` and adds the WS-Security
UsernameToken header the service requires. What can go wrong is sorted as for any SOAP service
(adapters/soap_faults.py) and reduced to three errors the destination understands:
``MosaicFault`` (the service answered with a fault: its code says whether to try again),
``MosaicUnreachable`` (no answer: refused, reset, timed out, a proxy's error page), and
``MosaicRejected`` (an HTTP answer that will not change on retry).
"""

from __future__ import annotations

import pathlib
from typing import Any

import msgspec
from zeep.wsse.username import UsernameToken

from adapters.soap_faults import CALL_ERRORS, sort_failure, zeep_service

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
        self._service = zeep_service(
            url,
            binding=BINDING,
            wsdl=wsdl or DEFAULT_WSDL,
            timeout_seconds=timeout_seconds,
            wsse=UsernameToken(username, password),  # type: ignore[no-untyped-call]
        )

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
        except CALL_ERRORS as exc:
            raise _error(exc) from None


def _error(exc: Exception) -> MosaicError:
    """The MosaicFault detail decides; a fault without one is judged by its faultcode (a
    Server fault may pass, a Client fault will not)."""
    failure = sort_failure(
        exc,
        service="Mosaic",
        sent="casenote",
        transient_status=lambda status: status in TRANSIENT_STATUSES,
        detail_tag=f"{{{NS}}}MosaicFault",
    )
    found = failure.detail
    if found is not None:
        code = found.findtext(f"{{{NS}}}code") or "INTERNAL"
        message = found.findtext(f"{{{NS}}}message") or (failure.faultstring or "")
        return MosaicFault(code, message, found.findtext(f"{{{NS}}}existingCasenoteId"))
    if failure.verdict == "unreachable":
        return MosaicUnreachable(failure.message)
    return MosaicRejected(failure.message)
