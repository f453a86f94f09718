"""/api/v1/attendance: MIS feeds in, concerns out; /children/{id}/attendance lives here too."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from gateway.api.auth import SECURITY_SCHEME, scoped
from gateway.api.deps import ClientRequest, endpoint_of
from gateway.api.problems import Problem, problem_response
from gateway.api.uploads import spooled_body
from gateway.attendance.summary import AttendanceSummary
from gateway.intake.attendance_feed import FeedRejected, FeedUpload, ingest_feed
from gateway.intake.attendance_queries import (
    ConcernPage,
    child_attendance,
    feed_progress,
    list_concerns,
)
from gateway.intake.ports import FeedReader
from gateway.model.attendance import FeedFormat, FeedReport
from gateway.store.unit_of_work import Store

FORMATS: dict[str, FeedFormat] = {
    "application/xml": "ctf",
    "text/xml": "ctf",
    "text/csv": "csv",
    "application/json": "json",
}
# Bodies past this stay on disk while they are read (a 50 MB CTF never sits in memory).


class FeedProblem(Problem, kw_only=True, frozen=True):
    feed_id: str | None = None
    position: str | None = None


class FeedController(Controller):
    path = "/attendance"
    tags = ["attendance"]

    @post(
        "/feeds",
        operation_id="submit_attendance_feed",
        status_code=202,
        request_max_body_size=None,  # per-route limit applied while streaming, below
        opt={"scope": "attendance:write", "media": "any"},
        security=[{SECURITY_SCHEME: ["attendance:write"]}],
    )
    async def submit(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        state: State,
        school_urn: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{6}$")] = None,
        academic_year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
    ) -> Response[Any]:
        """One school's register marks as CTF XML, CSV or JSON. Answers 202 with what was
        accepted and, for each rejected record, where it was, which field and why."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = FORMATS.get(media)
        if fmt is None:
            detail = f"send application/xml (CTF), text/csv or application/json, not {media!r}"
            return problem_response(
                request, 415, "Unsupported media type", "unsupported-media-type", detail
            )
        async with spooled_body(request, state.settings.max_feed_bytes) as (body, sha256, size):
            upload = FeedUpload(
                format=fmt,
                content_type=media,
                sha256=sha256,
                size=size,
                school_urn=school_urn,
                academic_year=academic_year,
            )
            readers: dict[FeedFormat, FeedReader] = state.feed_readers
            try:
                report = await anyio.to_thread.run_sync(
                    ingest_feed, store, upload, body, readers[fmt], request.user
                )
            except FeedRejected as exc:
                if exc.forbidden:
                    return problem_response(request, 403, "Forbidden", "forbidden", str(exc))
                return problem_response(
                    request,
                    400,
                    "Malformed feed",
                    "malformed-feed",
                    str(exc),
                    kind=FeedProblem,
                    feed_id=exc.feed_id,
                    position=exc.position,
                )
            return Response(report, status_code=202)

    @get(
        "/feeds/{feed_id:str}",
        operation_id="read_attendance_feed",
        sync_to_thread=True,
        **scoped("attendance:write"),
    )
    def progress(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        state: State,
        feed_id: FromPath[str],
    ) -> FeedReport:
        """A feed's progress and outcome (its sender, or an admin, may read it). ``stalled``:
        its reading was cut off (no progress for longer than the parse lease); the worker
        reads it again from its archive. ``error`` says why a feed is stalled, superseded,
        rejected or failed."""
        lease = state.settings.feed_parse_lease_seconds
        return feed_progress(store, feed_id, request.user, lease)

    @get(
        "/concerns",
        operation_id="list_attendance_concerns",
        sync_to_thread=True,
        **scoped("cases:read"),
    )
    def concerns(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        status: FromQuery[str | None] = "open",
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
        school_urn: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{6}$")] = None,
        child_id: Annotated[str | None, QueryParameter(max_length=36)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> ConcernPage:
        """Attendance concerns, newest first; ``status`` open (default), resolved or all."""
        return list_concerns(
            store,
            status=None if status == "all" else status,
            kind=kind,
            school_urn=school_urn,
            child_id=child_id,
            cursor=cursor,
            limit=limit,
            caller=request.user,
            endpoint=endpoint_of(request),
        )


class ChildAttendanceController(Controller):
    path = "/children"
    tags = ["children"]

    @get(
        "/{child_id:str}/attendance",
        operation_id="read_child_attendance",
        sync_to_thread=True,
        **scoped("cases:read"),
    )
    def attendance(
        self, request: ClientRequest, store: NamedDependency[Store], child_id: FromPath[str]
    ) -> AttendanceSummary:
        """Attendance figures per academic year, as the last feed left them."""
        return child_attendance(store, child_id, request.user, endpoint_of(request))
