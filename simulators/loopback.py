"""What every loopback stand-in shares: a lifecycle that survives outages, and the knobs.

A test that makes a stand-in misbehave has to know which request the misbehaviour lands on,
even when its client sends several at once and the server answers each on its own thread; so
the knobs are queues, taken from under the stand-in's one lock in the order requests arrive.
And a stand-in that has been stopped must look down: a request it was told to hold is dropped
without an answer, never answered late by a service that is meant to be gone.

SoapService adds what the SOAP stand-ins share on top: one endpoint, the WSDL's address, where
anything but a SOAP 1.1 POST is refused at the HTTP level before the service sees it, and a
published XSD that every request payload is checked against.
"""

from __future__ import annotations

import abc
import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar
from wsgiref.types import StartResponse, WSGIEnvironment

from lxml import etree

from simulators.soap_server import (
    DropConnection,
    LoopbackServer,
    SoapRequest,
    SoapRequestError,
    load_schema,
    parse_envelope,
    response_envelope,
    schema_complaint,
    serve_soap,
)

FailureT = TypeVar("FailureT")
RequestT = TypeVar("RequestT")
ServiceT = TypeVar("ServiceT", bound="LoopbackService[Any, Any]")


def check_count(n: int) -> None:
    """ValueError for a negative number of requests, which a knob would silently ignore."""
    if n < 0:
        raise ValueError(f"a count of requests cannot be negative, got {n}")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LoopbackService(abc.ABC, Generic[FailureT, RequestT]):
    """A stand-in served from a LoopbackServer: the WSGI app is the subclass's ``__call__``.

    ``_lock`` guards the knobs and whatever state the subclass keeps, including ``_requests``,
    its log of what arrived (a RequestT each, as the subclass records it). A subclass's
    ``fail_next`` queues a FailureT per request (what a failure carries is the subclass's to
    say) and ``delay_next`` queues a wait; a request takes one of each, if queued, on arrival.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._requests: list[RequestT] = []
        self._failures: list[FailureT] = []
        self._delays: list[float] = []
        self._stopping = threading.Event()
        self._server = LoopbackServer(self, host=host, port=port)

    @abc.abstractmethod
    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]: ...

    # Lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve (again, on the same port after a stop)."""
        self._stopping.clear()
        self._server.start()
        return self

    def stop(self) -> None:
        """Go down: new connections are refused, and requests being held by ``delay_next`` are
        dropped without an answer rather than answered by a service that is meant to be down."""
        self._stopping.set()
        self._server.stop()

    @property
    def running(self) -> bool:
        return self._server.running

    @property
    def port(self) -> int:
        return self._server.port

    def _address(self, path: str) -> str:
        """``path`` on this server, as a URL a client is configured with."""
        return f"http://{self._server.host}:{self._server.port}{path}"

    # State --------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestT]:
        """The requests received, in arrival order (a copy); the class says which are listed."""
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forget the requests received, the pending knobs and the service's own state (what
        ``_forget`` says it forgets)."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self._delays.clear()
            self._forget()

    @abc.abstractmethod
    def _forget(self) -> None:
        """Forget the service's own state, for reset(); the caller holds ``_lock``."""

    # Knobs --------------------------------------------------------------------------------

    def delay_next(self, n: int, seconds: float) -> None:
        """The next ``n`` requests wait ``seconds`` before being processed (then answered as
        usual), to run a client into its timeout."""
        check_count(n)
        with self._lock:
            self._delays.extend([seconds] * n)

    def _fail_next(self, n: int, failure: FailureT) -> None:
        """Queue ``failure`` for each of the next ``n`` requests (the public ``fail_next`` has
        checked what it was given)."""
        check_count(n)
        with self._lock:
            self._failures.extend([failure] * n)

    def _take_delay(self) -> float | None:
        """The delay queued for the request arriving now. The caller holds ``_lock``, so that a
        request is logged and takes its delay in one step: arrival order is the order logged."""
        return self._delays.pop(0) if self._delays else None

    def _held(self, delay: float | None) -> FailureT | None:
        """Hold the request for ``delay`` seconds (DropConnection when the service is stopped
        meanwhile), then the failure queued for it, if any."""
        if delay is not None and self._stopping.wait(delay):
            raise DropConnection
        with self._lock:
            return self._failures.pop(0) if self._failures else None


class SoapService(LoopbackService[FailureT, RequestT]):
    """A LoopbackService that is a SOAP 1.1 service at one endpoint. A ServiceFault raised by
    ``_exchange`` is the answer, with HTTP 500.

    ``_exchange`` is given the request even when its body is not an envelope the service will
    read (``problem`` says why, ``request`` is None), because the knobs apply to every request
    that arrives: an injected fault comes before the service looks at what it was sent.
    """

    _endpoint: ClassVar[str]  # the path of the WSDL's soap:address
    _wsdl: ClassVar[Path]
    _xsd: ClassVar[Path]  # what every request payload must be valid against
    _name: ClassVar[str]  # what a request sent anywhere else is told is at the endpoint

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self._schema_lock = threading.Lock()  # an XMLSchema keeps its error log on itself

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return serve_soap(
            environ,
            start_response,
            endpoint=self._endpoint,
            service=self._name,
            exchange=self._parse_and_exchange,
        )

    @property
    def url(self) -> str:
        """The endpoint to POST SOAP to (the WSDL's address path, on this server's port)."""
        return self._address(self._endpoint)

    @property
    def wsdl_path(self) -> Path:
        return self._wsdl

    def _parse_and_exchange(self, data: bytes, action: str | None) -> bytes:
        request: SoapRequest | None = None
        problem: SoapRequestError | None = None
        try:
            request = parse_envelope(data)
        except SoapRequestError as error:
            problem = error
        return response_envelope(self._exchange(request, problem, action))

    @abc.abstractmethod
    def _exchange(
        self, request: SoapRequest | None, problem: SoapRequestError | None, action: str | None
    ) -> etree._Element:
        """The payload of the answer to a request whose body is ``request`` (or could not be
        read, for the reason ``problem`` gives) and whose SOAPAction is ``action``."""

    def _schema_complaint(self, payload: etree._Element) -> str | None:
        """None when ``payload`` is valid against the service's XSD, else what is wrong."""
        return schema_complaint(load_schema(self._xsd), payload, self._schema_lock)


@contextmanager
def serving(service: ServiceT) -> Iterator[ServiceT]:
    """``service`` started, and stopped on the way out however the block ends."""
    service.start()
    try:
        yield service
    finally:
        service.stop()
