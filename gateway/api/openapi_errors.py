"""The error answers every operation can give, written into the OpenAPI document.

Litestar documents an operation's success and, at most, its validation error. The refusals
the gateway adds around every handler (no or bad token, a scope missing, a row out of reach,
a body too big or of the wrong type, a throttled caller, the database away) would go
undocumented, and a client generated from the document would not expect them. They are added
here once, from what each operation has: a path parameter can be 404, a body can be 413, 415
and 422, a write can be 409. Under /fhir they are OperationOutcomes, as gateway/api/problems.py
sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType

from gateway.api.problems import FHIR_PREFIX, PROBLEM_JSON

WRITES = ("post", "put", "patch", "delete")
# Operations whose success answer comes in more than one media type (by a format parameter),
# declared by their module: the handler returns a Response, which Litestar reads as JSON.
SUCCESS_MEDIA: dict[str, tuple[str, ...]] = {}


def answers_in(operation_id: str, *media: str) -> str:
    SUCCESS_MEDIA[operation_id] = media
    return operation_id


WHY = {
    400: "The body or a parameter cannot be read (not UTF-8, malformed, too deeply nested)",
    401: "No bearer token, or one that is unknown, expired or revoked",
    403: "The token lacks this operation's scope, or its binding does not allow this act",
    404: "No such row, or one outside the caller's binding (the same answer)",
    409: "The request conflicts with the row's current state",
    413: "The body is larger than the gateway accepts",
    415: "The body is not of a media type this operation reads",
    422: "A field is invalid; `errors` names each one",
    429: "Too many failed authentications from this source or with this token; see Retry-After",
    503: "The database is unavailable; see Retry-After",
}

_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                    "source": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
    additional_properties=True,  # a feed's problem adds feed_id and position
)
_TEXT = Schema(type=OpenAPIType.STRING)
_RESOURCE = Schema(
    type=OpenAPIType.OBJECT,
    required=["resourceType"],
    properties={"resourceType": Schema(type=OpenAPIType.STRING)},
)
FHIR_JSON = "application/fhir+json"
_OUTCOME = Schema(
    type=OpenAPIType.OBJECT,
    required=["resourceType", "issue"],
    properties={
        "resourceType": Schema(type=OpenAPIType.STRING, const="OperationOutcome"),
        "issue": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT)),
    },
)


@dataclass
class CompleteOpenAPI(OpenAPI):
    """The document Litestar builds, with the error answers added as it is written out (the
    paths are filled in after the document is made, so this is the first moment they exist)."""

    def to_schema(self) -> dict[str, Any]:
        add_error_responses(self)
        return super().to_schema()


@dataclass
class GatewayOpenAPIConfig(OpenAPIConfig):
    def to_openapi_schema(self) -> OpenAPI:
        made = super().to_openapi_schema()
        return CompleteOpenAPI(**{f.name: getattr(made, f.name) for f in fields(made)})


def add_error_responses(document: OpenAPI) -> None:
    """Idempotent: an answer an operation documents already is left as it is."""
    components = document.components
    schemas = components.schemas if components.schemas is not None else {}
    schemas.setdefault("Problem", _PROBLEM)
    schemas.setdefault("OperationOutcome", _OUTCOME)
    components.schemas = schemas
    shared = components.responses if components.responses is not None else {}
    for status, why in WHY.items():
        shared.setdefault(f"Problem{status}", _response(why, "Problem", PROBLEM_JSON))
        shared.setdefault(
            f"Outcome{status}", _response(why, "OperationOutcome", "application/fhir+json")
        )
    components.responses = shared
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "patch", "delete"):
            operation: Operation | None = getattr(item, method)
            if operation is None:
                continue
            fhir = path.startswith(FHIR_PREFIX)
            kind = "Outcome" if fhir else "Problem"
            responses = operation.responses if operation.responses is not None else {}
            for code, answer in responses.items():
                if code.startswith("2") and isinstance(answer, OpenAPIResponse):
                    _success_media(answer, operation.operation_id, fhir)
            for status in _statuses(path, method, operation):
                # Litestar's own 400 ("validation exception", application/json) is replaced:
                # the gateway answers problem+json, and a field found invalid is a 422.
                responses[str(status)] = Reference(ref=f"#/components/responses/{kind}{status}")
            operation.responses = responses


def _success_media(answer: OpenAPIResponse, operation_id: str | None, fhir: bool) -> None:
    content = answer.content or {}
    plain = content.get("application/json")
    if plain is None:
        return
    if fhir:
        # A handler returning encoded bytes is documented by Litestar as a string; what it
        # sends is a FHIR resource.
        raw = isinstance(plain.schema, Schema) and plain.schema.type == OpenAPIType.STRING
        answer.content = {FHIR_JSON: OpenAPIMediaType(schema=_RESOURCE) if raw else plain}
    elif operation_id in SUCCESS_MEDIA:
        answer.content = {
            media: plain if media == "application/json" else OpenAPIMediaType(schema=_TEXT)
            for media in SUCCESS_MEDIA[operation_id]
        }


def _statuses(path: str, method: str, operation: Operation) -> list[int]:
    secured = bool(operation.security)
    statuses = [503]
    if secured:
        statuses += [401, 403, 429]
    if "{" in path or (method == "get" and operation.parameters):
        statuses.append(404)  # a row named in the path, or looked up by a query
    if operation.parameters:
        statuses += [400, 422]
    if method in WRITES and secured:
        # Any write may be sent a body, whether it reads one or not.
        statuses += [400, 404, 409, 413, 415, 422]  # a body may name a row that is not there
    return sorted(set(statuses))


def _response(why: str, schema: str, media: str) -> OpenAPIResponse:
    body = OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{schema}"))
    return OpenAPIResponse(description=why, content={media: body})
