"""What the stand-ins' tests share: the clients they meet the stand-ins with, and the checks.

Each SOAP stand-in is tested the way the gateway will meet it (a zeep client built from the
WSDL) and with raw HTTP for what zeep would never send, and every answer is checked against the
published XSD; each stand-in can be told to hold a request and then be stopped under it. Those
are the same for every stand-in, so they are written once, here.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import zeep
from lxml import etree
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport

from simulators.loopback import LoopbackService, SoapService

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


class RecordingClient:
    """A zeep client as the gateway builds one, keeping what it received for the XSD check;
    ``options`` are zeep.Client's (WS-Security, settings)."""

    def __init__(
        self,
        stand_in: SoapService[Any, Any],
        binding: str,
        timeout: float | None = None,
        **options: Any,
    ) -> None:
        # zeep is untyped: its calls are untyped calls to mypy.
        self.history = HistoryPlugin()  # type: ignore[no-untyped-call]
        client = zeep.Client(  # type: ignore[no-untyped-call]
            str(stand_in.wsdl_path),
            plugins=[self.history],
            transport=Transport(operation_timeout=timeout),  # type: ignore[no-untyped-call]
            **options,
        )
        self.service: Any = client.create_service(binding, stand_in.url)  # type: ignore[no-untyped-call]

    def last_payload(self) -> etree._Element:
        received = self.history.last_received
        assert received is not None
        return received["envelope"].find(f"{{{SOAP}}}Body")[0]


def valid_against(schema: etree.XMLSchema, element: etree._Element) -> bool:
    """Whether the element, taken as a document of its own, is valid against ``schema``; the
    schema's complaints are printed so a failing assert says what was wrong."""
    if schema.validate(copy.deepcopy(element)):
        return True
    print(schema.error_log)
    return False


def post(stand_in: SoapService[Any, Any], body: bytes, **headers: str) -> httpx.Response:
    """``body`` POSTed to the stand-in's endpoint as SOAP 1.1, with ``headers`` added."""
    return httpx.post(
        stand_in.url,
        content=body,
        headers={"Content-Type": "text/xml; charset=utf-8", **headers},
        timeout=5,
    )


def fault_and_detail(
    response: httpx.Response, detail_tag: str
) -> tuple[etree._Element, etree._Element]:
    """The Fault of a SOAP fault answer, after checking that the answer is one (HTTP 500, SOAP
    1.1's media type), and the element named ``detail_tag`` in its detail."""
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    fault = etree.fromstring(response.content).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    return fault, fault.find(f"detail/{detail_tag}")


def stop_while_held(
    stand_in: LoopbackService[Any, Any], send: Callable[[], int]
) -> tuple[list[BaseException | int], float]:
    """Call ``send`` on another thread, stop the stand-in once its request has arrived (and is
    held there by delay_next), and give the sender 5 s to finish: what it got (the status
    ``send`` returned, or the transport error), and how long after the stop that took."""
    outcome: list[BaseException | int] = []

    def run() -> None:
        try:
            outcome.append(send())
        except httpx.TransportError as error:
            outcome.append(error)

    sender = threading.Thread(target=run)
    sender.start()
    deadline = time.monotonic() + 5
    while stand_in.requests == [] and time.monotonic() < deadline:
        time.sleep(0.01)
    stopped = time.monotonic()
    stand_in.stop()
    sender.join(timeout=5)
    return outcome, time.monotonic() - stopped
