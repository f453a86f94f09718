"""Security headers on every answer, set in a ``before_send`` hook so that Litestar's own
refusals (an unknown route, a failed authentication, a throttled guess) carry them too.

- ``Cache-Control: no-store`` on everything under /api/ and /fhir/ (they carry children's
  records) and on every error, whatever a handler said; elsewhere too, unless the handler chose
  its own caching (the API reference's script and style files do). Health answers are not
  cached either: a stored "ready" would be a lie.
- ``X-Content-Type-Options: nosniff``: a JSON or CSV answer is never run as a script or shown
  as a page, whatever a browser makes of its bytes.
- ``Content-Security-Policy``: :data:`GATEWAY_POLICY` unless the answer brought its own (the
  SLA report names its inline style by hash). Scripts, styles, images and connections only
  from the gateway itself, nothing inline, nothing from a third party, no framing, no forms
  posting elsewhere.
- ``Referrer-Policy: no-referrer`` (a URL can hold a case id) and ``X-Frame-Options: DENY``
  for browsers older than ``frame-ancestors``.
"""

from __future__ import annotations

from litestar.types import Message, Scope

PERSONAL_PREFIXES = ("/api/", "/fhir/")
NO_STORE = b"no-store"
_FIXED = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
# Said last in every policy, whatever the page allows itself.
_CLOSED = {"base-uri": "'none'", "form-action": "'none'", "frame-ancestors": "'none'"}


def content_security_policy(**sources: str) -> str:
    """A policy that denies everything but ``sources`` (``style_src="'self'"`` is
    ``style-src 'self'``), and never allows ``<base>``, form targets or framing."""
    directives = {"default-src": "'none'"}
    directives.update({name.replace("_", "-"): value for name, value in sources.items()})
    directives.update(_CLOSED)
    return "; ".join(f"{name} {value}" for name, value in directives.items())


GATEWAY_POLICY = content_security_policy(
    script_src="'self'",
    style_src="'self'",
    # swagger-ui.css draws its icons as data: SVGs
    img_src="'self' data:",
    connect_src="'self'",
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: the headers above on every ``http.response.start``."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    path = scope.get("path", "")
    if path.startswith(PERSONAL_PREFIXES) or message["status"] >= 400:
        headers = [(name, value) for name, value in headers if name.lower() != b"cache-control"]
        headers.append((b"cache-control", NO_STORE))
    elif b"cache-control" not in present:
        headers.append((b"cache-control", NO_STORE))
    headers.extend((name, value) for name, value in _FIXED if name not in present)
    if b"content-security-policy" not in present:
        headers.append((b"content-security-policy", GATEWAY_POLICY.encode()))
    message["headers"] = headers
