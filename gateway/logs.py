"""Structured JSON logs that never carry a child's identity.

Logs leave the gateway's protection (log shippers, support tickets), so names, dates of
birth, NHS numbers and UPNs are removed here, in the one processor every log line passes:
by key for structured fields, by pattern for free text (exception messages included).
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"

SENSITIVE_KEYS = frozenset(
    {
        "name",
        "names",
        "given",
        "given_name",
        "forename",
        "family",
        "family_name",
        "surname",
        "preferred",
        "preferred_name",
        "dob",
        "date_of_birth",
        "birth_date",
        "birthdate",
        "nhs_number",
        "nhs",
        "upn",
        "uln",
        "address",
        "postcode",
    }
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # UPN: check letter, 11 digits, digit or letter (temporary UPN).
    (re.compile(r"\b[A-Z][0-9]{11}[0-9A-Z]\b"), "[upn]"),
    # NHS number, written solid or as 3-3-4 with spaces or dashes.
    (re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"), "[nhs-number]"),
    # Calendar dates in free text (ISO and UK order): any of them may be a date of birth.
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "[date]"),
    (re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"), "[date]"),
)

# Keys the logging machinery itself adds; their values are ours, not a child's.
_TRUSTED_KEYS = frozenset({"timestamp", "level", "logger", "request_id"})


def error_fields(exc: BaseException) -> dict[str, Any]:
    """What to log about an exception: its type and where it was raised, never its message
    (a database error's message can quote the row it failed on)."""
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    return {
        "error_type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "error_at": [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames],
    }


def mask_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in SENSITIVE_KEYS else _mask(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask(v) for v in value]
    return value


def redact_child_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in _TRUSTED_KEYS:
            continue
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _mask(event_dict[key])
    return event_dict


def processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.format_exc_info,
        redact_child_data,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(level: str = "INFO", json: bool = True, stream: Any = None) -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy) through one redacting
    pipeline to ``stream`` (stderr by default)."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=processors(),
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.configure(
        processors=[*processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
