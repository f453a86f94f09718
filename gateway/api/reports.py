"""/api/v1/reports/sla: the statutory clocks as partnership boards read them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from gateway.api.auth import scoped
from gateway.api.openapi_errors import answers_in
from gateway.api.security_headers import content_security_policy
from gateway.reports.sla_render import STYLE_SOURCE
from gateway.reports.sla_service import MEDIA, ReportFormat, sla_report
from gateway.store.unit_of_work import Store

# The HTML report has one inline style and no script: that style, by hash, and nothing else.
REPORT_POLICY = content_security_policy(style_src=STYLE_SOURCE)


class ReportController(Controller):
    path = "/reports"
    tags = ["reports"]

    @get(
        "/sla",
        operation_id=answers_in("sla_report", *MEDIA.values()),
        **scoped("reports:read"),
    )
    async def sla(
        self,
        store: NamedDependency[Store],
        start: Annotated[dt.date, QueryParameter(name="from")],
        end: Annotated[dt.date, QueryParameter(name="to")],
        fmt: Annotated[ReportFormat, QueryParameter(name="format")] = "html",
    ) -> Response[Any]:
        """Per agency and clock kind: opened, met on time and late, open and overdue, median
        and 90th-percentile days to meet; monthly trend and compliance charts; breaches by
        case reference (pseudonymised: no child is named)."""
        body = await anyio.to_thread.run_sync(sla_report, store, start, end, fmt)
        headers = {"Content-Security-Policy": REPORT_POLICY} if fmt == "html" else None
        return Response(content=body, media_type=MEDIA[fmt], headers=headers)
