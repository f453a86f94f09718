"""The attendance profile still runs end to end (tiny, on SQLite), and leaves the gateway's
functions as it found them. It times nothing."""

from __future__ import annotations

import gc
import io

from bench.attendance_profile import INTAKE, SPANS, profile
from gateway.intake import attendance_feed, feed_apply
from gateway.store.archive import ArchiveRepository


def test_the_profile_prints_its_tables_and_unwraps_the_gateway() -> None:
    before = (
        attendance_feed.parse_feed,
        getattr(feed_apply, "_judge", None),
        ArchiveRepository.keep,
    )
    out = io.StringIO()
    shapes = profile(pupils=30, feeds=2, day_pupils=90, day_schools=3, database_url=None, out=out)
    text = out.getvalue()
    assert "One feed alone" in text
    assert "The whole day" in text
    assert "| **the feed, end to end** |" in text
    assert shapes["alone_later"].feeds == 2
    assert shapes["day_first"].records == 90
    assert (INTAKE, "commit (durable: WAL flushed)") in shapes["alone_first"].own
    after = (
        attendance_feed.parse_feed,
        getattr(feed_apply, "_judge", None),
        ArchiveRepository.keep,
    )
    assert after == before
    assert SPANS.on_gc not in gc.callbacks
