"""Data tables (TOML/CSV) read by the mappings and the core; each cites its source."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any


def load_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))
