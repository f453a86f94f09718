"""/api/v1/providers (registers, imports, UKRLP look-ups) and /api/v1/…/placements."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from adapters.providers.approved_list import read_approved_list
from adapters.providers.gias import GiasFileError, read_gias
from gateway.api.auth import SECURITY_SCHEME, scoped
from gateway.api.deps import ClientRequest, endpoint_of
from gateway.api.problems import problem_response
from gateway.api.uploads import spooled_body
from gateway.errors import InvalidInput, NotFound
from gateway.model.attendance import FeedReport
from gateway.model.provider import (
    EstablishmentStatus,
    ImportReport,
    NewPlacement,
    PartTimeEntry,
    Placement,
    PlacementEnd,
    Provider,
    ProviderAttendance,
    ProviderSearchResult,
    Service,
)
from gateway.providers import imports, placements
from gateway.providers.returns import provider_return
from gateway.providers.ukrlp_refresh import refresh_from_ukrlp
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store

CSV_MEDIA = {"text/csv", "application/csv"}


class ProviderController(Controller):
    path = "/providers"
    tags = ["providers"]

    @get("/", operation_id="search_providers", sync_to_thread=True, **scoped("cases:read"))
    def search(
        self,
        store: NamedDependency[Store],
        q: Annotated[str | None, QueryParameter(min_length=2, max_length=100)] = None,
        urn: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{6}$")] = None,
        ukprn: Annotated[str | None, QueryParameter(pattern=r"^1[0-9]{7}$")] = None,
        la_code: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{3}$")] = None,
        status: FromQuery[EstablishmentStatus | None] = None,
        service: FromQuery[Service | None] = None,
        approved: FromQuery[bool | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> ProviderSearchResult:
        """Schools and establishments (GIAS) and the approved AP list, searched together:
        by name, URN, UKPRN, LA, status; providers also by service and approval."""
        with store.unit_of_work(read_only=True) as uow:
            schools = uow.registers.search_establishments(
                text=q, urn=urn, ukprn=ukprn, la_code=la_code, status=status, limit=limit
            )
            listed = (
                []
                if urn or la_code or status
                else uow.registers.search_providers(
                    text=q, ukprn=ukprn, service=service, approved=approved, limit=limit
                )
            )
        if service or approved is not None:
            schools = []
        return ProviderSearchResult(establishments=schools, providers=listed)

    @post(
        "/imports/gias",
        operation_id="import_gias",
        status_code=200,
        request_max_body_size=None,
        opt={"scope": "admin", "media": "any"},
        security=[{SECURITY_SCHEME: ["admin"]}],
    )
    async def import_gias(
        self, request: ClientRequest, store: NamedDependency[Store], state: State
    ) -> Response[Any]:
        """The GIAS establishment extract as DfE publishes it (CSV). Idempotent: the same file
        again answers with the first import's report."""
        return await self._import(request, store, state, "gias")

    @post(
        "/imports/approved",
        operation_id="import_approved_providers",
        status_code=200,
        request_max_body_size=None,
        opt={"scope": "admin", "media": "any"},
        security=[{SECURITY_SCHEME: ["admin"]}],
    )
    async def import_approved(
        self, request: ClientRequest, store: NamedDependency[Store], state: State
    ) -> Response[Any]:
        """The authority's approved alternative-provision list (CSV, contracts in the README)."""
        return await self._import(request, store, state, "approved_list")

    async def _import(
        self, request: ClientRequest, store: Store, state: State, source: str
    ) -> Response[Any]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in CSV_MEDIA:
            detail = f"send text/csv, not {media or 'a body without a content type'}"
            return problem_response(
                request, 415, "Unsupported media type", "unsupported-media-type", detail
            )
        async with spooled_body(request, state.settings.max_feed_bytes) as (stream, sha256, size):

            def run() -> ImportReport:
                imports.archive_file(store, source, media, stream, sha256, size, request.user)
                if source == "gias":
                    return imports.import_establishments(store, read_gias(stream), sha256)
                return imports.import_approved_list(store, read_approved_list(stream), sha256)

            try:
                report = await anyio.to_thread.run_sync(run)
            except (GiasFileError, ValueError) as exc:
                return problem_response(request, 400, "Unusable file", "unusable-file", str(exc))
            return Response(report, status_code=200)

    @post(
        "/{provider_id:str}/ukrlp",
        operation_id="refresh_provider_from_ukrlp",
        status_code=200,
        sync_to_thread=True,
        **scoped("admin"),
    )
    def refresh(
        self, store: NamedDependency[Store], state: State, provider_id: FromPath[str]
    ) -> Provider:
        """Look the provider up in UKRLP by its UKPRN and keep what UKRLP says of it."""
        return refresh_from_ukrlp(store, provider_id, ukrlp_lookup(state))


def ukrlp_lookup(state: State) -> Any:
    """The UKRLP client, built once from settings; None when no URL is set."""
    settings = state.settings
    if not settings.ukrlp_url:
        return None
    client = state.get("ukrlp_client")
    if client is None:
        from adapters.providers.ukrlp import UkrlpClient

        client = UkrlpClient(settings.ukrlp_url, timeout_seconds=settings.ukrlp_timeout_seconds)
        state["ukrlp_client"] = client
    return client.provider


class PlacementController(Controller):
    tags = ["placements"]

    @post(
        "/cases/{case_id:str}/placements",
        operation_id="commission_placement",
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def commission(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        case_id: FromPath[str],
        data: JSONBody[NewPlacement],
    ) -> Placement:
        """Commission provision for an agreed case from an approved provider. The notice goes
        to the provider and the school through the outbox; the review clock starts from the
        placement's first day; an agreed case moves to provision arranged."""
        return placements.commission(store, case_id, data, request.user)

    @get(
        "/cases/{case_id:str}/placements",
        operation_id="list_placements",
        sync_to_thread=True,
        **scoped("cases:read"),
    )
    def for_case(self, store: NamedDependency[Store], case_id: FromPath[str]) -> list[Placement]:
        return placements.placements_for_case(store, case_id)

    @post(
        "/placements/{placement_id:str}/attendance",
        operation_id="provider_attendance_return",
        status_code=202,
        sync_to_thread=True,
        **scoped("attendance:write"),
    )
    def attendance(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        state: State,
        placement_id: FromPath[str],
        data: JSONBody[ProviderAttendance],
    ) -> list[FeedReport]:
        """A provider's daily return: marks for the school's register (and the provider's own
        when the pupil is dual registered), through the same feed pipeline as a school's."""
        return provider_return(store, placement_id, data, request.user, state.feed_readers["json"])

    @post(
        "/placements/{placement_id:str}/end",
        operation_id="end_placement",
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def end(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        placement_id: FromPath[str],
        data: JSONBody[PlacementEnd],
    ) -> Placement:
        """End a placement: its last day and why. The review clock stops, the provider and
        the school are told, the case's timeline (and Mosaic) record it. 409 when it has
        ended already."""
        return placements.end(store, placement_id, data, request.user)

    @get(
        "/placements/part-time-register",
        operation_id="part_time_register",
        sync_to_thread=True,
        **scoped("cases:read"),
    )
    def part_time(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
    ) -> list[PartTimeEntry]:
        """Active placements under the hours the authority's pack names: Lincolnshire's
        register of pupils "in receipt of less than 25 hours' education" (003 "Attendance and
        definitions"). 404 when the authority's policy keeps no such register."""
        return placements.part_time_register(store, pack, request.user, endpoint_of(request))


__all__ = ["InvalidInput", "NotFound", "PlacementController", "ProviderController"]
