"""contracts/openapi.json is what the service serves; regenerate with `make openapi`."""

from __future__ import annotations

import pathlib

from gateway.openapi_snapshot import render

SNAPSHOT = pathlib.Path(__file__).parents[2] / "contracts" / "openapi.json"


def test_openapi_snapshot_is_current() -> None:
    assert render() == SNAPSHOT.read_text(encoding="utf-8"), (
        "the API changed: run `make openapi` and commit contracts/openapi.json"
    )
