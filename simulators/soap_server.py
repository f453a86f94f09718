"""The plumbing a loopback SOAP 1.1 service needs: an HTTP server, envelope parsing, replies.

A stand-in is only useful if the gateway's client meets it over a real socket, the way it will
meet the authority's system: real HTTP, real timeouts, real refused connections. So the server
is the stdlib's WSGI server made threaded (a delayed answer must not hold up the next request),
bound to 127.0.0.1, stoppable and restartable on the same port (the client's configured URL
keeps working after a simulated outage), and able to drop a connection with no answer at all,
as a system that crashes mid-request does. Only the stdlib and lxml are used, so the tests and
the demo need nothing the service does not already depend on.

Requests are parsed as untrusted input even on loopback, because the tests send hostile bodies
on purpose: entities are not resolved, nothing is fetched, huge trees are refused and a
document with a DTD is refused outright.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Literal, cast
from wsgiref.handlers import SimpleHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from lxml import etree

SOAP_ENV_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV_NS: Final = "http://www.w3.org/2003/05/soap-envelope"
SOAP_CONTENT_TYPE: Final = "text/xml; charset=utf-8"
MAX_BODY_BYTES: Final = 1024 * 1024
# A body over the limit is still read (and thrown away) up to this much, so the client gets to
# read the 413 instead of a reset caused by unread bytes; beyond it the connection is just closed.
_DRAIN_LIMIT: Final = 16 * MAX_BODY_BYTES

SoapFaultCode = Literal["VersionMismatch", "MustUnderstand", "Client", "Server"]

_log = logging.getLogger(__name__)


class DropConnection(Exception):
    """Raised by a WSGI app to end the exchange the way a crashed server does: no status line,
    no headers, the connection reset, so the client cannot tell whether the request was acted
    on."""


class HttpError(Exception):
    """A request refused at the HTTP level, before any SOAP processing."""

    def __init__(self, status: str, message: str, headers: tuple[tuple[str, str], ...] = ()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class SoapRequestError(ValueError):
    """The body is not a SOAP 1.1 envelope this server will read; ``faultcode`` is the SOAP
    fault code the answer should carry."""

    def __init__(self, message: str, faultcode: SoapFaultCode = "Client") -> None:
        super().__init__(message)
        self.faultcode: SoapFaultCode = faultcode


class ServiceFault(Exception):
    """A fault a stand-in answers a request with, as HTTP 500 (SOAP 1.1 over HTTP sends every
    fault that way): ``faultcode`` and ``message`` (the faultstring) as SOAP has them, and the
    detail as each service's subclass builds it."""

    def __init__(self, faultcode: SoapFaultCode, message: str) -> None:
        super().__init__(message)
        self.faultcode: SoapFaultCode = faultcode
        self.message = message

    def _detail(self) -> etree._Element | None:
        """The service's own fault element, which goes in the Fault's detail; None for none."""
        return None

    def envelope(self) -> bytes:
        return fault_envelope(self.faultcode, self.message, self._detail())


@dataclass(frozen=True)
class SoapRequest:
    """An envelope's header (None when there is none) and the first element in its body, which
    in document/literal wrapped style names the operation."""

    header: etree._Element | None
    payload: etree._Element


def _safe_parser() -> etree.XMLParser:
    # One per parse: sharing a parser between the server's threads is not worth reasoning about.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes) -> etree._Element:
    """The root element of ``data``; SoapRequestError if it is not well-formed or has a DTD
    (a DTD is how entity expansion and external entities get in, and SOAP forbids one)."""
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as error:
        raise SoapRequestError(f"the request is not well-formed XML: {error.msg}") from None
    if root is None:
        raise SoapRequestError("the request is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SoapRequestError("a SOAP message may not carry a DTD")
    return root


def parse_envelope(data: bytes) -> SoapRequest:
    """The header and payload of a SOAP 1.1 envelope; SoapRequestError (faultcode
    VersionMismatch for a SOAP 1.2 envelope, Client otherwise) when ``data`` is not one."""
    root = parse_xml(data)
    tag = etree.QName(root)
    if tag.localname == "Envelope" and tag.namespace != SOAP_ENV_NS:
        raise SoapRequestError(
            f"the envelope's namespace is {tag.namespace!r}, not SOAP 1.1's", "VersionMismatch"
        )
    if tag.text != f"{{{SOAP_ENV_NS}}}Envelope":
        raise SoapRequestError(f"the document element is {tag.localname!r}, not a SOAP Envelope")
    body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    if body is None:
        raise SoapRequestError("the envelope has no Body")
    payload = next(iter(body.iterchildren(tag=etree.Element)), None)
    if payload is None:
        raise SoapRequestError("the SOAP Body is empty")
    return SoapRequest(header=root.find(f"{{{SOAP_ENV_NS}}}Header"), payload=payload)


@functools.cache
def load_schema(path: Path) -> etree.XMLSchema:
    """The XSD at ``path``, compiled once, with whatever it imports found beside it and nothing
    fetched from the network."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def schema_complaint(
    schema: etree.XMLSchema, payload: etree._Element, lock: threading.Lock
) -> str | None:
    """None when ``payload`` is valid against ``schema``; otherwise the first few of the
    schema's complaints, which name the elements and may quote the values concerned (an empty
    string when libxml2 gave none). ``lock`` is held while validating, because an XMLSchema
    keeps the error log of its last validation on itself."""
    document = copy.deepcopy(payload)  # its own document, so the schema sees a root
    with lock:
        if schema.validate(document):
            return None
        errors = [f"{entry.path}: {entry.message}" for entry in schema.error_log]
    return "; ".join(errors[:5])


def _envelope(content: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV_NS}}}Envelope", nsmap={"soap": SOAP_ENV_NS})
    etree.SubElement(envelope, f"{{{SOAP_ENV_NS}}}Body").append(content)
    data: bytes = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return data


def response_envelope(payload: etree._Element) -> bytes:
    """A SOAP 1.1 envelope whose body is ``payload``, as UTF-8 bytes."""
    return _envelope(payload)


def fault_envelope(
    faultcode: SoapFaultCode, faultstring: str, detail: etree._Element | None = None
) -> bytes:
    """A SOAP 1.1 envelope carrying a Fault; ``detail`` (the application's own fault element)
    goes inside the unqualified detail element, as SOAP 1.1 section 4.4 lays out."""
    fault = etree.Element(f"{{{SOAP_ENV_NS}}}Fault", nsmap={"soap": SOAP_ENV_NS})
    etree.SubElement(fault, "faultcode").text = f"soap:{faultcode}"
    etree.SubElement(fault, "faultstring").text = faultstring
    if detail is not None:
        etree.SubElement(fault, "detail").append(detail)
    return _envelope(fault)


def soap_action(environ: WSGIEnvironment) -> str | None:
    """The SOAPAction header without its quotes; None when absent or empty (SOAP 1.1 lets an
    empty one mean "the intent is in the body")."""
    value = str(environ.get("HTTP_SOAPACTION", "")).strip().strip('"').strip()
    return value or None


def read_body(environ: WSGIEnvironment, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body; HttpError 411 without a Content-Length (the stdlib server cannot read
    a chunked body) and 413 over ``limit``."""
    length_text = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not length_text.isdigit():
        raise HttpError("411 Length Required", "a Content-Length is required")
    length = int(length_text)
    stream = environ["wsgi.input"]
    if length > limit:
        if length <= _DRAIN_LIMIT:
            while length > 0:
                chunk = stream.read(min(length, 65536))
                if not chunk:
                    break
                length -= len(chunk)
        raise HttpError("413 Content Too Large", f"the body may be at most {limit} bytes")
    data: bytes = stream.read(length)
    return data


def respond(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str = SOAP_CONTENT_TYPE,
    headers: tuple[tuple[str, str], ...] = (),
) -> list[bytes]:
    """Start a complete, non-streamed response and return its body for the WSGI server."""
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
    )
    return [body]


def http_error_response(start_response: StartResponse, error: HttpError) -> list[bytes]:
    """The plain-text answer to a request refused before it reached SOAP."""
    body = (error.message + "\n").encode("utf-8")
    return respond(start_response, error.status, body, "text/plain; charset=utf-8", error.headers)


def _read_soap_post(environ: WSGIEnvironment, endpoint: str, service: str) -> bytes:
    """The body of a SOAP 1.1 request POSTed to ``endpoint`` (the WSDL's address path);
    HttpError for anything else, ``service`` naming what is served there."""
    if environ.get("PATH_INFO") != endpoint:
        raise HttpError("404 Not Found", f"the {service} is at {endpoint}")
    if environ.get("REQUEST_METHOD") != "POST":
        raise HttpError("405 Method Not Allowed", "SOAP requests are POSTed", (("Allow", "POST"),))
    media_type = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
    if media_type != "text/xml":
        raise HttpError("415 Unsupported Media Type", "SOAP 1.1 is sent as text/xml")
    return read_body(environ)


def serve_soap(
    environ: WSGIEnvironment,
    start_response: StartResponse,
    *,
    endpoint: str,
    service: str,
    exchange: Callable[[bytes, str | None], bytes],
) -> list[bytes]:
    """Answer one request to a SOAP 1.1 endpoint: refused at the HTTP level unless it is a
    SOAP POST to ``endpoint`` (see _read_soap_post), otherwise ``exchange``'s answer to the
    body and SOAPAction, or the ServiceFault it raises."""
    try:
        data = _read_soap_post(environ, endpoint, service)
    except HttpError as error:
        return http_error_response(start_response, error)
    try:
        answer = exchange(data, soap_action(environ))
    except ServiceFault as fault:
        return respond(start_response, "500 Internal Server Error", fault.envelope())
    return respond(start_response, "200 OK", answer)


class _ServerHandler(ServerHandler):
    """The stdlib's handler, except that DropConnection escapes instead of becoming a 500."""

    status: str | None  # set by start_response; None until then
    request_handler: WSGIRequestHandler  # what the stdlib's close() logs through

    def handle_error(self) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, DropConnection):
            raise error
        super().handle_error()

    def close(self) -> None:
        # The stdlib's close() logs the status line, which a dropped exchange never had.
        if self.status is None:
            SimpleHandler.close(self)
        else:
            super().close()


class _RequestHandler(WSGIRequestHandler):
    timeout = 30  # a client that stops sending mid-request does not hold a thread for ever

    def handle(self) -> None:
        # wsgiref's own handle(), with the handler above and the drop handled.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(
            self.rfile,
            cast(IO[bytes], self.wfile),
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self
        try:
            handler.run(self.server.get_app())  # type: ignore[attr-defined]
        except DropConnection:
            self._reset()

    def _reset(self) -> None:
        """Close the connection with a TCP reset, as the kernel does for a process that died
        holding it; the server's own shutdown of the socket afterwards then finds it closed."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the file holds a reference that would keep the socket open
        self.connection.close()

    def log_message(self, format: str, *args: object) -> None:
        # Request lines only (method, path, status): bodies are never logged.
        _log.debug("%s " + format, self.address_string(), *args)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # stop() must not wait for a request that is being held on purpose
    allow_reuse_address = True  # restart on the same port while old connections linger

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's name, which can stall for seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class LoopbackServer:
    """A WSGI app served from a background thread on one port that survives restarts.

    The first start() binds the port asked for (0: any free one) and keeps it; stop() closes
    the listening socket, so new connections are refused, and start() binds the same port again.
    """

    def __init__(self, app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The bound port; RuntimeError before the first start() when any port was asked for."""
        if self._port == 0:
            raise RuntimeError("the server has not been started, so it has no port yet")
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listen and serve; a no-op when already running."""
        with self._lock:
            if self._server is not None:
                return
            server = _ThreadingWSGIServer((self._host, self._port), _RequestHandler)
            server.set_app(self._app)
            self._port = int(server.server_address[1])
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"loopback-server-{self._port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop accepting and close the listening socket; a no-op when not running. Requests
        already being answered finish on their own threads."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None:
                return
            server.shutdown()
            server.server_close()
            if thread is not None:
                thread.join()
