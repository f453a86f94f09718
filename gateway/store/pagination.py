"""Opaque keyset cursors: stable under inserts, unlike offsets, and cheap on big tables."""

from __future__ import annotations

import base64
import datetime as dt

import msgspec

from gateway.errors import InvalidInput


class _Position(msgspec.Struct, array_like=True, frozen=True):
    at: dt.datetime
    id: str


def encode_cursor(at: dt.datetime, row_id: str) -> str:
    raw = msgspec.json.encode(_Position(at=at, id=row_id))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = msgspec.json.decode(raw, type=_Position)
    except (ValueError, msgspec.DecodeError) as exc:
        raise InvalidInput("the cursor is not one this service issued", field="cursor") from exc
    at = position.at if position.at.tzinfo else position.at.replace(tzinfo=dt.UTC)
    return at, position.id
