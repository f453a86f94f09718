"""Section 19 cases: lifecycle and the operations on them."""

from gateway.cases.service import (
    change_status,
    decide,
    list_cases,
    open_case,
    read_case,
    read_timeline,
    record_action,
)

__all__ = [
    "change_status",
    "decide",
    "list_cases",
    "open_case",
    "read_case",
    "read_timeline",
    "record_action",
]
