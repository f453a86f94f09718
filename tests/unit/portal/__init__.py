"""Tests of the Children's Services Portal adapter (adapters/portal) and its mapping
(mappings/portal.py), and builders of notification bodies from the contract's own examples."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

EXAMPLES = pathlib.Path(__file__).parents[3] / "contracts" / "portal" / "examples"


def example(name: str) -> dict[str, Any]:
    """A fresh copy of contracts/portal/examples/<name>.json, to change freely."""
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return copy.deepcopy(document)


def body(document: object) -> bytes:
    return json.dumps(document).encode()
