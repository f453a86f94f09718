"""The ``nhs`` outbox destination: a health advice request sent to the NHS team as a FHIR R4
message Bundle, BaRS-style (POST <base>/$process-message; DOMAIN.md "NHS referrals over FHIR").

The Bundle's id is the outbox message's id, so a retry after a lost answer carries the same
message id and the receiver de-duplicates it (BaRS receivers do). Consent is checked again
here, at the last moment: a family that withdrew agreement after the request was queued is
not overridden by the queue; the message is parked for a person.
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from adapters.nhs.resources import validate
from gateway.advice.requests import sharing_problem
from gateway.delivery.ports import (
    HeldForAttention,
    NothingToSend,
    PermanentFailure,
    TransientFailure,
)
from gateway.model.advice import OPEN_STATUSES
from gateway.rules.pack import PolicyPack
from gateway.store.outbox import ClaimedMessage
from gateway.store.unit_of_work import Store
from mappings.fhir import FhirInvalid, Requester, advice_bundle

log = structlog.get_logger("adapters.nhs")

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class NhsDestination:
    name = "nhs"

    def __init__(
        self,
        store: Store,
        base_url: str,
        pack: PolicyPack,
        *,
        facade_base_url: str,
        timeout_seconds: float = 15.0,
    ) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.pack = pack
        self.facade_base_url = facade_base_url.rstrip("/")
        self.http = httpx.Client(timeout=timeout_seconds)

    def send(self, message: ClaimedMessage) -> None:
        if message.kind != "advice.health_requested":
            # Escalations of health's clocks: health hears of the request itself through the
            # Task it reads; a clock message has no FHIR form of its own yet. Settled as
            # discarded with the reason, never shown as delivered.
            raise NothingToSend(
                f"{message.kind} has no FHIR message of its own: the NHS team follows the "
                "request through its Task on the facade"
            )
        bundle = self._bundle(message)
        try:
            answer = self.http.post(
                f"{self.base_url}/$process-message",
                json=bundle,
                headers={
                    "Content-Type": "application/fhir+json",
                    "Accept": "application/fhir+json",
                    "X-Request-Id": message.id,
                    "X-Correlation-Id": str(message.payload["advice_request_id"]),
                },
            )
        except httpx.TimeoutException:
            raise TransientFailure("the NHS endpoint did not answer in time") from None
        except httpx.TransportError as exc:
            raise TransientFailure(f"cannot reach the NHS endpoint: {type(exc).__name__}") from None
        if answer.is_success:
            log.info("advice request sent", delivery_id=message.id, status=answer.status_code)
            return
        text = f"NHS endpoint answered {answer.status_code}: {_diagnostics(answer)}"
        if answer.status_code in TRANSIENT_STATUSES:
            raise TransientFailure(text)
        raise PermanentFailure(text)

    def _bundle(self, message: ClaimedMessage) -> dict[str, Any]:
        """The request message. Nothing is left to ask when the team answered (or refused)
        the request through the FHIR facade while this message waited, or the authority
        withdrew it: a request for work already done would name advice the message does not
        carry, and the facade already shows a withdrawn request as cancelled."""
        request_id = str(message.payload.get("advice_request_id", ""))
        with self.store.unit_of_work(read_only=True) as uow:
            request = uow.advice.get(request_id)
            if request is None:
                raise PermanentFailure(f"no advice request {request_id}")
            if request.status not in OPEN_STATUSES:
                raise NothingToSend(
                    f"not sent: the request was {request.status} through the FHIR facade "
                    "before this message left"
                )
            problem = sharing_problem(uow, request.child_id)
            if problem is not None:
                raise HeldForAttention(f"not sent: {problem}")
            child = uow.children.get(request.child_id)
            sharing = uow.sharing.get(request.child_id, "health")
            case = uow.cases.get(request.case_id)
        assert child is not None and sharing is not None  # sharing_problem checked both
        team_code = case.lead_team or "SEN_SERVICE"
        team = self.pack.teams.get(team_code)
        requester = Requester(
            authority_name=self.pack.authority.name,
            la_code=self.pack.authority.la_code,
            team_code=team_code,
            team_name=team.name if team else team_code,
        )
        try:
            bundle = advice_bundle(
                request,
                child,
                sharing,
                requester,
                case.summary,
                message_id=message.id,
                sent_at=self.store.clock.now(),
                source_endpoint=f"{self.facade_base_url}/fhir/R4",
                base_url=f"{self.facade_base_url}/fhir/R4",
                destination_endpoint=f"{self.base_url}/$process-message",
            )
            validate(bundle)
        except FhirInvalid as exc:
            raise PermanentFailure(f"the advice request is not valid FHIR: {exc}") from None
        return bundle


def _diagnostics(answer: httpx.Response) -> str:
    """The OperationOutcome's own words, when the answer is one."""
    try:
        body = answer.json()
    except ValueError:
        return answer.reason_phrase or "no detail"
    issues = body.get("issue") if isinstance(body, dict) else None
    if not isinstance(issues, list):
        return answer.reason_phrase or "no detail"
    words = [
        str(issue.get("diagnostics") or issue.get("code") or "")
        for issue in issues
        if isinstance(issue, dict)
    ]
    return "; ".join(w for w in words if w)[:1000] or "no detail"
