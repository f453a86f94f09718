"""An officer raises a case on a panel's agenda.

Worcestershire: "All notifications are reviewed. Any notifications which require CCAS Panel
consideration will be raised on the agenda at CCAS Panel" (000 s.5); Lancashire: "children can
be nominated for CME panel at any time where significant barriers are identified" (001 1.4).
Only panels whose pack quotes such words (``nominations``) take them; the others hear what the
routes send them.
"""

from __future__ import annotations

from gateway.cases.service import full_case, record_entry
from gateway.errors import InvalidInput
from gateway.model.case import Case, Nominate
from gateway.model.client import Client
from gateway.model.events import Decision, DecisionRecorded
from gateway.rules.pack import Panel, PolicyPack
from gateway.store.cases import FINISHED
from gateway.store.unit_of_work import Store

ENDPOINT = "POST /api/v1/cases/{case_id}/nominations"


def nominate(
    store: Store, case_id: str, nomination: Nominate, caller: Client, pack: PolicyPack
) -> Case:
    code, panel = _panel(pack, nomination.panel)
    with store.unit_of_work() as uow:
        case = uow.cases.get(case_id)
        uow.audit.record(caller, case.child_id, ENDPOINT, "update", uow.now)
        if case.status in FINISHED:
            raise InvalidInput(f"case {case_id} is {case.status}", field="case_id")
        if case.panel != code:  # nominated again: already on the agenda
            uow.cases.set_panel(case_id, code, uow.now)
            decision = Decision(
                outcome=f"nominated to {code}",
                decided_by=nomination.nominated_by,
                reason=nomination.reason,
                rule_id=f"{pack.authority.id}.nomination.{code.lower()}",
                policy_ref=f"{pack.authority.seed} {panel.nominations}",
            )
            summary = f"Nominated to the {panel.name}"[:200]
            record_entry(
                uow, uow.cases.get(case_id), caller, summary, DecisionRecorded(decision=decision)
            )
        return full_case(uow, case_id)


def _panel(pack: PolicyPack, wanted: str | None) -> tuple[str, Panel]:
    taking = {code: p for code, p in pack.panels.items() if p.nominations is not None}
    if wanted is None:
        if len(taking) != 1:
            names = ", ".join(taking) or "none"
            raise InvalidInput(
                f"name the panel; {pack.authority.name}'s panels taking nominations: {names}",
                field="panel",
            )
        return next(iter(taking.items()))
    if wanted not in pack.panels:
        known = ", ".join(pack.panels) or "none"
        raise InvalidInput(
            f"no panel {wanted} in {pack.authority.name}'s policy; panels: {known}", field="panel"
        )
    if wanted not in taking:
        raise InvalidInput(
            f"{pack.authority.name}'s policy does not have officers nominate cases to {wanted}: "
            "its routes decide which cases it hears",
            field="panel",
        )
    return wanted, taking[wanted]


__all__ = ["nominate"]
