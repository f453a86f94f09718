"""The ``mosaic`` outbox destination: each timeline entry becomes a casenote on the child's
Mosaic record (Lincolnshire 003_f2d02c83e1369368.txt, "Case recording").

Exactly once: the casenote's source reference is the outbox idempotency key, and the service
refuses a second casenote with a reference it holds (contracts/mosaic/casenote.xsd). A retry
whose first attempt did reach Mosaic (the answer was lost) therefore gets DUPLICATE_REFERENCE,
which counts as delivered once the stored note is read back and found to be this child's. No
lookup is made before adding: one call per casenote, and the refusal is the service's promise.

A child Mosaic cannot find (by the Mosaic person id on the child's record, else by UPN, else by
NHS number) is not an error that time mends: the casenote is parked for a person to link the
child (``PUT /api/v1/admin/children/{id}/mosaic-person``), and the child's later casenotes wait
behind it so the record stays in order.
"""

from __future__ import annotations

from typing import Any

import structlog

from adapters.mosaic.client import (
    MosaicClient,
    MosaicFault,
    MosaicRejected,
    MosaicUnreachable,
)
from gateway.delivery.ports import HeldForAttention, PermanentFailure, TransientFailure
from gateway.errors import Conflict
from gateway.model.child import Child
from gateway.rules.pack import PolicyPack
from gateway.store.outbox import ClaimedMessage
from gateway.store.unit_of_work import Store
from mappings.mosaic import Casenote, UnmappableMessage, casenote_for, identifying_strings

log = structlog.get_logger("adapters.mosaic")


class MosaicDestination:
    name = "mosaic"

    def __init__(self, store: Store, client: MosaicClient, pack: PolicyPack | None) -> None:
        self.store = store
        self.client = client
        self.pack = pack

    def send(self, message: ClaimedMessage) -> None:
        try:
            self._send(message)
        except MosaicUnreachable as exc:
            raise TransientFailure(str(exc)) from None
        except MosaicRejected as exc:
            raise PermanentFailure(str(exc)) from None
        except MosaicFault as exc:
            if exc.transient:
                raise TransientFailure(str(exc)) from None
            if exc.code == "PERSON_NOT_FOUND":
                raise HeldForAttention(
                    "Mosaic has no person with the id this child is linked to: link the child "
                    "to the right Mosaic person"
                ) from None
            raise PermanentFailure(str(exc)) from None

    def _send(self, message: ClaimedMessage) -> None:
        if message.child_id is None:
            raise PermanentFailure("a casenote needs a child; this message names none")
        person_id, child = self._person(message.child_id)
        with self.store.unit_of_work(read_only=True) as uow:
            sharing = uow.sharing.get(child.id, "social_care")
        try:
            note = casenote_for(
                message.payload,
                person_id=person_id,
                source_reference=message.idempotency_key,
                pack=self.pack,
                withheld=identifying_strings(child),
                referral_shared=sharing is not None and sharing.allows("education"),
            )
        except UnmappableMessage as exc:
            raise PermanentFailure(f"cannot write a casenote: {exc}") from None
        try:
            casenote_id = self.client.add_casenote(wire(note))
        except MosaicFault as exc:
            if exc.code != "DUPLICATE_REFERENCE":
                raise
            casenote_id = self._already_stored(message.idempotency_key, person_id)
        log.info(
            "casenote stored",
            delivery_id=message.id,
            casenote_id=casenote_id,
            casenote_type=note.casenote_type,
        )

    def _already_stored(self, reference: str, person_id: str) -> str:
        """An earlier attempt got through: read it back and check it is this child's note."""
        stored = self.client.casenote_by_reference(reference)
        if stored is None:
            raise MosaicUnreachable("Mosaic refused a duplicate it cannot show; trying again")
        if stored.person_id != person_id:
            raise PermanentFailure(
                f"reference {reference} is held by Mosaic on another person's record"
            )
        return stored.casenote_id

    def _person(self, child_id: str) -> tuple[str, Child]:
        with self.store.unit_of_work(read_only=True) as uow:
            child = uow.children.get(child_id)
        if child is None:
            raise PermanentFailure(f"no child {child_id} in the gateway")
        ids = child.identifiers
        if ids.mosaic_person_id:
            return ids.mosaic_person_id, child
        for scheme, value in (("UPN", ids.upn), ("NHS_NUMBER", ids.nhs_number)):
            if not value:
                continue
            found = sorted(set(self.client.find_person(scheme, value)))
            if len(found) > 1:
                raise HeldForAttention(
                    f"{len(found)} Mosaic persons match this child's {scheme}: link the right one"
                )
            if found:
                self._remember(child_id, found[0])
                return found[0], child
        raise HeldForAttention(
            "Mosaic finds no person for this child (by UPN or NHS number): link the child to "
            "a Mosaic person"
        )

    def _remember(self, child_id: str, person_id: str) -> None:
        """The found id goes on the child's record, so the next casenote needs no lookup."""
        try:
            with self.store.unit_of_work() as uow:
                uow.children.set_mosaic_person(child_id, person_id, uow.now)
        except Conflict:
            raise HeldForAttention(
                "the Mosaic person found for this child is linked to another child in the "
                "gateway: the child may be recorded twice; discard this casenote or link the "
                "child to another Mosaic person"
            ) from None


def wire(note: Casenote) -> dict[str, Any]:
    """The casenote as zeep takes it: element names from contracts/mosaic/casenote.xsd."""
    author = {
        key: value
        for key, value in (("worker", note.author_worker), ("team", note.author_team))
        if value
    }
    body: dict[str, Any] = {
        "personId": note.person_id,
        "casenoteType": note.casenote_type,
        "eventDate": note.event_date,
        "author": author,
        "subject": note.subject,
        "body": note.body,
        "sourceSystem": note.source_system,
        "sourceReference": note.source_reference,
    }
    if note.attachments:
        body["attachments"] = {
            "attachment": [
                {"reference": a.reference, "title": a.title, "mediaType": a.media_type}
                for a in note.attachments
            ]
        }
    return body
