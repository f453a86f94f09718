"""Rows as plain dicts with plain ``str`` keys (SQLAlchemy's are a str subclass that msgspec
does not take as a field name)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def plain(row: sa.Row[Any]) -> dict[str, Any]:
    return {str(key): value for key, value in row._mapping.items()}
