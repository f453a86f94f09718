"""Data tables (TOML/CSV) read by the mappings and the core; each cites its source."""

from __future__ import annotations

import csv
import io
import tomllib
from importlib import resources
from typing import Any


def read_text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text("utf-8")


def load_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(read_text(name))


def load_csv(name: str) -> list[dict[str, str]]:
    """Rows of a CSV table with a header line. No comment lines: ``#`` is itself a register
    code (attendance_codes.csv), so notes live in a ``note`` column instead."""
    return list(csv.DictReader(io.StringIO(read_text(name), newline="")))
