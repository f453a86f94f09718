"""The attendance benchmark still runs end to end (tiny, on SQLite). It times nothing: the
figures are only printed, and only checked for being figures."""

from __future__ import annotations

import io
import json

from bench.attendance import run


def test_the_benchmark_runs_and_prints_every_figure_and_ratio() -> None:
    out = io.StringIO()
    figures = run(300, 3, None, out=out, concurrency=2)
    text = out.getvalue()
    for line in (
        "raw, decode + 1 COPY + 1 commit",
        "raw per school",
        "pandas read_csv + to_sql",
        "first day, 1 feed at a time",
        "later day, 2 feeds at a time",
        "later day / raw per school",
        "later day / pandas",
        "first day / raw per school",
        "whole day end to end",
        "gateway peak RSS",
    ):
        assert line in text
    assert figures["pupils"] == 300
    for key in (
        "ratio_later_day_to_raw_per_school",
        "ratio_later_day_to_pandas",
        "ratio_first_day_to_raw_per_school",
        "gateway_later_day_seconds",
        "gateway_peak_rss_bytes",
    ):
        assert figures[key] > 0
    json.dumps(figures)  # what --json prints
