"""/api/v1/panels: what a panel will hear at its next meeting."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from gateway.api.auth import scoped
from gateway.api.deps import ClientRequest, endpoint_of
from gateway.cases.agenda import Agenda, build_agenda
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store


class PanelController(Controller):
    path = "/panels"
    tags = ["panels"]

    @get(
        "/{panel:str}/agenda",
        operation_id="build_panel_agenda",
        sync_to_thread=True,
        **scoped("cases:read"),
    )
    def agenda(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        panel: FromPath[str],
        date: Annotated[dt.date | None, QueryParameter()] = None,
    ) -> Agenda:
        """New referrals, reviews due by the panel's cycle, and actions due by ``date``
        (today by default), in the standing order."""
        when = date or store.clock.now().date()
        return build_agenda(store, pack, panel, when, request.user, endpoint_of(request))
