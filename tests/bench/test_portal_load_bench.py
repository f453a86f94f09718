"""The load benchmark still runs end to end (a second at a low rate, on SQLite). It times
nothing: its figures are printed, and only checked for being figures."""

from __future__ import annotations

import io

from bench.portal_load import run


def test_the_load_benchmark_runs_and_prints_its_ratio() -> None:
    out = io.StringIO()
    figures = run(10, 1, None, out=out)
    assert "notification p99 / baseline p99" in out.getvalue()
    load = figures["portal_notifications"]
    assert load["requests"] == 10
    assert load["answered"] == 10
    assert load["errors"] == {}
    assert figures["p99_ratio_to_baseline"] > 0
