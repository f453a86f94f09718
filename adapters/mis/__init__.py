"""Readers for the attendance feeds school MIS send: CTF (XML), CSV and JSON.

Each reader turns a byte stream into the raw records of ``gateway.model.attendance`` with every
value still a string, and raises ``MalformedFeed`` only when the document as a whole is unusable
(contracts/attendance/README.md).
"""

from adapters.mis.csv_feed import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_csv
from adapters.mis.ctf import NO_SESSION_FILLER, CtfRecord, read_ctf
from adapters.mis.errors import MalformedFeed
from adapters.mis.json_feed import read_json

__all__ = [
    "NO_SESSION_FILLER",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "CtfRecord",
    "MalformedFeed",
    "read_csv",
    "read_ctf",
    "read_json",
]
