"""Tests of the policy packs (mappings/policies/*.toml) against the seed texts they cite.

The policy documents are the authorities' own publications and live outside the repository:
``GATEWAY_POLICY_SOURCES`` names their folder, by default ``../shared/seeds`` beside the
checkout. Tests that read them carry the ``seeds`` mark; where the folder is absent they are
left out with one line saying so (tests/conftest.py), unless ``GATEWAY_TEST_REQUIRE_SEEDS`` is
set, as CI sets it, when their absence fails the run: a pack checked against nothing proves
nothing.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

SEEDS = Path(
    os.environ.get("GATEWAY_POLICY_SOURCES")
    or Path(__file__).resolve().parents[3].parent / "shared" / "seeds"
)

# A quoted phrase in a cite: opened by ' after "(" or a space, closed by ' before ")", ";", ",",
# ":" or a space, so apostrophes inside words ("child's") are not mistaken for quotes.
_QUOTE = re.compile(r"(?:^|(?<=[\s(]))'(.+?)'(?=[\s);,:]|$)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """Seed text as a reader sees it: no Markdown links or emphasis, no bullets, straight
    quotes, single spaces."""
    text = _LINK.sub(r"\1", text).replace("*", "").translate(_TYPOGRAPHY)
    text = text.replace("\u2022", " ").replace("\u00b7", " ")
    return " ".join(text.split())


@functools.cache
def seed_text(name: str) -> str:
    path = SEEDS / name
    if not path.is_file():
        raise AssertionError(
            f"seed {name} not found at {path}: the policy packs are checked against the "
            "policy documents in GATEWAY_POLICY_SOURCES (default ../shared/seeds)"
        )
    return normalise(path.read_text("utf-8"))


def quoted(cite: str) -> list[str]:
    """The verbatim fragments a cite quotes; "..." inside a quote separates fragments."""
    return [
        fragment.strip()
        for quote in _QUOTE.findall(cite)
        for fragment in quote.split("...")
        if fragment.strip()
    ]


def missing_quotes(cite: str, seed: str) -> list[str]:
    """The quoted fragments of ``cite`` that are not in the (normalised) seed text."""
    return [fragment for fragment in quoted(cite) if normalise(fragment) not in seed]
