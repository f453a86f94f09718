"""What a CTF may not do: carry a DTD (XML bombs, external entities), be other than well-formed
XML, or be some other document. Each is refused whole, with a position, and nothing expanded."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest

from adapters.mis.ctf import read_ctf
from adapters.mis.errors import MalformedFeed
from gateway.model.attendance import FeedHeader
from tests.unit.mis import FIXTURES, HEADER

CTF = FIXTURES / "ctf"
DTD_REFUSED = "a CTF may not carry a DTD or entity declarations"


class Trickle(io.BytesIO):
    """A stream that hands over one byte per read, as a slow network would."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(1)


def refusal(body: bytes) -> MalformedFeed:
    with pytest.raises(MalformedFeed) as bad:
        list(read_ctf(io.BytesIO(body)))
    return bad.value


@pytest.mark.parametrize(
    ("fixture", "position", "entity_text"),
    [
        ("ctf_billion_laughs.xml", "line 2, column 1", "lollollol"),
        ("ctf_external_entity.xml", "line 3, column 1", "root:"),
    ],
)
def test_a_dtd_is_refused_before_anything_is_expanded(
    fixture: str, position: str, entity_text: str
) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    with (CTF / fixture).open("rb") as stream, pytest.raises(MalformedFeed) as bad:
        read_ctf(stream)  # refused on the call: libxml2 never sees the DTD
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (bad.value.message, bad.value.position) == (DTD_REFUSED, position)
    assert elapsed < 0.5
    assert peak < 1_000_000
    assert entity_text not in repr(bad.value)


def test_a_doctype_behind_a_comment_and_arriving_a_byte_at_a_time_is_still_refused() -> None:
    body = b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- <!DOCTYPE in a comment is fine -->\n'
    body += b'<!DOCTYPE CTfile SYSTEM "http://example.invalid/ctf.dtd">\n<CTfile/>'
    with pytest.raises(MalformedFeed) as bad:
        read_ctf(Trickle(body))
    assert (bad.value.message, bad.value.position) == (DTD_REFUSED, "line 3, column 1")


def test_a_dtd_the_byte_check_cannot_read_is_refused_when_the_parse_starts() -> None:
    # UTF-16 is not ASCII-compatible, so only the parsed document info can show the DTD.
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE CTfile [<!ENTITY x "y">]>\n'
    body = (text + HEADER + "</CTfile>").encode("utf-16")
    assert (refusal(body).message, refusal(body).position) == (DTD_REFUSED, "prolog")


def test_comments_and_processing_instructions_before_the_root_are_allowed() -> None:
    body = b'<?xml version="1.0"?><!-- exported 2025-09-05 --><?mis v7?>\n' + HEADER.encode()
    records = list(read_ctf(Trickle(body + b"</CTfile>")))
    assert [type(r) for r in records] == [FeedHeader]


def test_xml_that_is_not_well_formed_is_refused_at_libxml2s_line_and_column() -> None:
    with (CTF / "ctf_unclosed.xml").open("rb") as stream:
        records = read_ctf(stream)
        header = next(records)  # the header had been read before the fault
        with pytest.raises(MalformedFeed) as bad:
            list(records)
    assert isinstance(header, FeedHeader)
    assert bad.value.message == "Opening and ending tag mismatch: Surname line 11 and Pupil"
    assert bad.value.position == "line 12, column 13"


@pytest.mark.parametrize(
    ("body", "message", "position"),
    [
        (b"", "no element found", "line 1, column 1"),
        (
            b"<CTfile><Header></CTfile>",
            "Opening and ending tag mismatch: Header line 1 and CTfile",
            "line 1, column 26",
        ),
        (b"<ATfile><Header/></ATfile>", "the root element is 'ATfile', not CTfile", "line 1"),
        (b"<Other/>", "the root element is 'Other', not CTfile", "line 1"),
        (b"<CTfile><CTFpupilData/></CTfile>", "the CTF has no CTfile/Header", "end of document"),
        (
            b"<CTfile><CTFpupilData>\n<Pupil/></CTFpupilData><Header/></CTfile>",
            "a Pupil comes before the Header",
            "line 2",
        ),
    ],
)
def test_a_document_that_is_not_a_ctf_is_refused(body: bytes, message: str, position: str) -> None:
    bad = refusal(body)
    assert (bad.message, bad.position) == (message, position)


def test_a_text_node_past_libxml2s_size_limit_is_refused_not_swallowed() -> None:
    body = HEADER.encode() + b"<Note>" + b"x" * 11_000_000 + b"</Note></CTfile>"
    assert refusal(body).message.startswith("Resource limit exceeded: Text node too long")
