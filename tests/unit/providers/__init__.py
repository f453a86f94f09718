"""Tests of the provider-register readers (adapters/providers): GIAS and the approved AP list."""

from __future__ import annotations

import pathlib

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures"
GIAS = FIXTURES / "gias"
PROVIDERS = FIXTURES / "providers"
