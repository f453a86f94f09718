"""Whatever bytes arrive as a register file, the readers either refuse the file as a whole
(a ValueError naming why) or yield establishments, providers and row errors: never anything
else, never an unhandled exception."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.providers.approved_list import (
    APPROVED_COLUMNS,
    ApprovedProvider,
    ApprovedRowError,
    read_approved_list,
)
from adapters.providers.gias import REQUIRED_COLUMNS, Establishment, GiasRowError, read_gias

GIAS_HEADER = ",".join(f'"{c}"' for c in REQUIRED_COLUMNS).encode("cp1252") + b"\r\n"
APPROVED_HEADER = ",".join(APPROVED_COLUMNS).encode() + b"\n"
cells = st.text(alphabet=st.characters(codec="cp1252"), max_size=12)
rows = st.lists(st.lists(cells, min_size=0, max_size=len(REQUIRED_COLUMNS) + 2), max_size=6)


def _csv(header: bytes, body: list[list[str]], encoding: str) -> bytes:
    lines = [",".join('"' + c.replace('"', '""') + '"' for c in row) for row in body]
    return header + "\r\n".join(lines).encode(encoding, errors="replace")


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=400), rows.map(lambda r: _csv(GIAS_HEADER, r, "cp1252"))))
def test_any_gias_file_is_read_or_refused(data: bytes) -> None:
    try:
        for item in read_gias(io.BytesIO(data)):
            assert isinstance(item, Establishment | GiasRowError)
    except ValueError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=400), rows.map(lambda r: _csv(APPROVED_HEADER, r, "utf-8"))))
def test_any_approved_list_is_read_or_refused(data: bytes) -> None:
    try:
        for item in read_approved_list(io.BytesIO(data)):
            assert isinstance(item, ApprovedProvider | ApprovedRowError)
    except ValueError:
        pass
