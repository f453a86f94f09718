"""The SLA report for a period, from the clocks in the store (partnership boards)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from gateway.errors import InvalidInput
from gateway.reports.sla_figures import sla_figures
from gateway.reports.sla_render import render_csv, render_html, render_json
from gateway.store.unit_of_work import Store

ReportFormat = Literal["html", "csv", "json"]
MEDIA: dict[ReportFormat, str] = {
    # Litestar adds the charset to text types itself; naming it here gave it twice.
    "html": "text/html",
    "csv": "text/csv",
    "json": "application/json",
}


def sla_report(store: Store, start: dt.date, end: dt.date, fmt: ReportFormat) -> bytes:
    if end < start:
        raise InvalidInput("the period ends before it starts", field="to")
    first = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    with store.unit_of_work(read_only=True) as uow:
        clocks = uow.clocks.started_between(first, after)
        now = uow.now
    report = sla_figures(clocks, start=start, end=end, now=now)
    if fmt == "html":
        return render_html(report).encode()
    if fmt == "csv":
        return render_csv(report).encode()
    return render_json(report)
