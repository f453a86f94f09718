"""No child's name, date of birth, NHS number or UPN reaches the log output."""

from __future__ import annotations

import io
import logging

import pytest
import structlog

from gateway.logs import configure_logging

UPN = "B801200005001"
NHS = "9434765919"
DOB = "2014-03-09"
GIVEN, FAMILY = "Philippa", "Quennell"


@pytest.fixture
def output() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream)
    return stream


def assert_clean(text: str) -> None:
    for secret in (UPN, NHS, "943 476 5919", DOB, "09/03/2014", GIVEN, FAMILY):
        assert secret not in text, f"{secret!r} leaked into: {text}"


def test_structured_fields_are_dropped_by_key(output: io.StringIO) -> None:
    log = structlog.get_logger("test")
    log.info(
        "child registered",
        upn=UPN,
        nhs_number=NHS,
        date_of_birth=DOB,
        name={"given": GIVEN, "family": FAMILY},
        child={"identifiers": {"upn": UPN}, "given_name": GIVEN, "surname": FAMILY},
        case_id="c-1",
    )
    text = output.getvalue()
    assert_clean(text)
    assert '"case_id": "c-1"' in text  # what is not sensitive still gets through


def test_identifiers_in_free_text_are_masked(output: io.StringIO) -> None:
    log = structlog.get_logger("test")
    log.warning(f"no match for {UPN} / NHS {NHS} / 943 476 5919 born {DOB} or 09/03/2014")
    text = output.getvalue()
    assert_clean(text)
    assert "[upn]" in text and "[nhs-number]" in text and "[date]" in text


def test_exception_text_is_masked(output: io.StringIO) -> None:
    log = structlog.get_logger("test")
    try:
        raise ValueError(f"bad record {UPN} {NHS}")
    except ValueError:
        log.exception("import failed")
    text = output.getvalue()
    assert "ValueError" in text
    assert_clean(text)


def test_standard_library_loggers_pass_the_same_filter(output: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").error("GET /api/v1/children?upn=%s&nhs=%s", UPN, NHS)
    text = output.getvalue()
    assert "uvicorn.error" in text
    assert_clean(text)
