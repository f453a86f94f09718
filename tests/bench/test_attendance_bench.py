"""The attendance benchmark still runs end to end (tiny, on SQLite). It times nothing: the
figures are only printed, and only checked for being figures."""

from __future__ import annotations

import io

from bench.attendance import run


def test_the_benchmark_runs_and_prints_its_ratios() -> None:
    out = io.StringIO()
    figures = run(300, 3, None, out=out, concurrency=2)  # type: ignore[arg-type]
    text = out.getvalue()
    assert "gateway / raw" in text
    assert "gateway / pandas" in text
    assert figures["records"] == 300
    assert figures["ratio_to_raw"] > 0
    assert figures["ratio_to_pandas"] > 0
