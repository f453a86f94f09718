"""Every error leaves as application/problem+json (RFC 9457) naming the field at fault.

Unknown errors become a bare 500 that leaks nothing; the detail goes to the (redacted) log.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

from gateway.errors import GatewayError
from gateway.logs import error_fields

log = structlog.get_logger("gateway.api")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://s19-gateway.example/problems/"
# msgspec prefixes a domain check's message with the field it names ("identifiers.upn: ...").
_FIELD_PREFIX = re.compile(
    r"^(?P<field>[a-z_][a-z0-9_.\[\]]*): (?P<message>.+?)(?: - at `[^`]*`)?$"
)
_AT_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


class FieldError(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    field: str
    message: str
    source: str | None = None


class Problem(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = []


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    title: str,
    slug: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    kind: type[Problem] = Problem,
    **extra: Any,
) -> Response[Any]:
    """The one way a problem+json answer is made (controllers with extra members pass a
    Problem subclass as ``kind``). Under /fhir the same problem leaves as a FHIR
    OperationOutcome, which is what a FHIR client reads."""
    if request.url.path.startswith(FHIR_PREFIX):
        return operation_outcome_response(status, detail, errors or [], headers)
    problem = kind(
        type=TYPE_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors or [],
        **extra,
    )
    return Response(
        content=msgspec.json.encode(problem),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


FHIR_PREFIX = "/fhir/"
# http://hl7.org/fhir/valueset-issue-type.html, by HTTP status.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
}


def operation_outcome_response(
    status: int, detail: str, errors: list[FieldError], headers: dict[str, str] | None
) -> Response[Any]:
    code = ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": detail}
    expressions = [e.field for e in errors if e.field]
    if expressions:
        issue["expression"] = expressions
    outcome = {"resourceType": "OperationOutcome", "issue": [issue]}
    return Response(
        content=msgspec.json.encode(outcome),
        status_code=status,
        media_type="application/fhir+json",
        headers=headers,
    )


def gateway_error(request: Request[Any, Any, Any], exc: GatewayError) -> Response[Any]:
    many: list[tuple[str, str]] = getattr(exc, "errors", [])
    if many:
        errors = [FieldError(field=field, message=message) for field, message in many]
    else:
        errors = [FieldError(field=exc.field, message=exc.detail)] if exc.field else []
    headers: dict[str, str] | None = getattr(exc, "headers", None)  # Retry-After, say
    return problem_response(
        request, exc.status, exc.title, exc.slug, exc.detail, errors=errors, headers=headers
    )


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = [_field_error(item) for item in (exc.extra or []) if isinstance(item, dict)]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc.detail)
    return problem_response(request, 422, "Invalid input", "invalid-input", detail, errors=errors)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="s19-gateway"')
        slug, title = "unauthenticated", "Unauthenticated"
    elif isinstance(exc, PermissionDeniedException):
        slug, title = "forbidden", "Forbidden"
    else:
        slug = re.sub(r"[^a-z]+", "-", str(_title(exc.status_code)).lower()).strip("-")
        title = _title(exc.status_code)
    return problem_response(request, exc.status_code, title, slug, str(exc.detail), headers=headers)


def unstorable_value(request: Request[Any, Any, Any], exc: DataError) -> Response[Any]:
    """The database refused a value the schema let through (a NUL character, say)."""
    log.warning("value refused by the database", path=request.url.path, **error_fields(exc))
    detail = "a value in this request cannot be stored (control characters such as NUL?)"
    return problem_response(request, 422, "Invalid input", "invalid-input", detail)


def store_unavailable(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    """The database is unreachable (restarting, failing over): a clean 503 the caller can retry,
    not a 500. The pool checks connections before use, so service resumes by itself."""
    log.warning("database unavailable", path=request.url.path, **error_fields(exc))
    detail = "the gateway's database is unavailable; try again shortly"
    return problem_response(
        request, 503, "Service unavailable", "unavailable", detail, headers={"Retry-After": "5"}
    )


def too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    detail = "the document is nested too deeply to read"
    return problem_response(request, 400, "Bad Request", "bad-request", detail)


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled error", path=request.url.path, **error_fields(exc))
    detail = "the gateway could not complete this request; it has been logged"
    return problem_response(request, 500, "Internal error", "internal", detail)


def _field_error(item: dict[str, Any]) -> FieldError:
    message = str(item.get("message", "invalid"))
    field = str(item.get("key") or "")
    if match := _FIELD_PREFIX.match(message):
        field, message = match["field"], match["message"]
    elif match := _AT_PATH.search(message):
        path = match["path"]
        message = message[: match.start()]
        field = f"{field}.{path}" if field and path else (path or field)
    return FieldError(field=field or "body", message=message, source=item.get("source"))


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


exception_handlers: ExceptionHandlersMap = {
    GatewayError: gateway_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    DataError: unstorable_value,
    OperationalError: store_unavailable,
    InterfaceError: store_unavailable,
    RecursionError: too_deep,
    Exception: internal_error,
}

__all__ = ["PROBLEM_JSON", "MediaType", "Problem", "exception_handlers"]
