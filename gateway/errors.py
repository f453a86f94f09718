"""One family of domain errors; ``gateway.api.problems`` renders each as problem+json.

Service code raises these and never an HTTP exception, so the same services serve the CLI,
the worker and the API.
"""

from __future__ import annotations


class GatewayError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(GatewayError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(GatewayError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class InvalidInput(GatewayError):
    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class InvalidFields(InvalidInput):
    """A document refused with every field at fault named: ``errors`` is (path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        detail = "; ".join(f"{path}: {message}" for path, message in errors)
        super().__init__(detail, field=errors[0][0] if errors else None)
        self.errors = errors


class Forbidden(GatewayError):
    """The caller is known and may reach the row, but this act is not theirs to do."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"
