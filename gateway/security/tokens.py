"""Bearer tokens: 256 random bits, shown once, stored as SHA-256.

A slow password hash buys nothing here: the token has full entropy, so a fast hash cannot
be brute-forced, and it keeps the per-request lookup to one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "s19_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
