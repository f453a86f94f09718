"""FHIR resources checked against the FHIR R4B models of fhir.resources before the gateway sends
or keeps them.

The facade speaks FHIR R4 (4.0.1), as BaRS and UK Core do; fhir.resources ships R4B models, and
R4B changed none of the resources the gateway uses (Bundle, MessageHeader, ServiceRequest, Task,
Patient, Organization, DocumentReference, CapabilityStatement, OperationOutcome), so they check
R4 content. They check structure, cardinality and datatypes but not coded values, so the codes
with a *required* binding in R4 for the elements the gateway sends and reads are checked here
too: "finished" is not a Task status, and a receiver would refuse it.

Every failure becomes mappings.fhir.FhirInvalid with a FHIRPath-like path
("Task.restriction.period.end", "Bundle.entry[2].resource.status"), which the facade puts in
its OperationOutcome's ``expression``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from mappings.fhir import TASK_STATUSES, FhirInvalid

# Required bindings in FHIR R4 (http://hl7.org/fhir/R4/terminologies.html#required), by the
# model class that holds the element and the element's name.
_REQUEST_PRIORITY = frozenset({"routine", "urgent", "asap", "stat"})
_ISSUE_TYPES = frozenset(
    {
        "invalid",
        "structure",
        "required",
        "value",
        "invariant",
        "security",
        "login",
        "unknown",
        "expired",
        "forbidden",
        "suppressed",
        "processing",
        "not-supported",
        "duplicate",
        "multiple-matches",
        "not-found",
        "deleted",
        "too-long",
        "code-invalid",
        "extension",
        "too-costly",
        "business-rule",
        "conflict",
        "transient",
        "lock-error",
        "no-store",
        "exception",
        "timeout",
        "incomplete",
        "throttled",
        "informational",
    }
)
# R4's FHIRVersion value set, and R4B's releases (the models are R4B).
_FHIR_VERSIONS = frozenset(
    {
        "0.01",
        "0.05",
        "0.06",
        "0.11",
        "0.0.80",
        "0.0.81",
        "0.0.82",
        "0.4.0",
        "0.5.0",
        "1.0.0",
        "1.0.1",
        "1.0.2",
        "1.1.0",
        "1.4.0",
        "1.6.0",
        "1.8.0",
        "3.0.0",
        "3.0.1",
        "3.3.0",
        "3.5.0",
        "4.0.0",
        "4.0.1",
        "4.1.0",
        "4.3.0",
    }
)
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("Task", "status"): TASK_STATUSES,
    ("Task", "intent"): frozenset(
        {
            "unknown",
            "proposal",
            "plan",
            "order",
            "original-order",
            "reflex-order",
            "filler-order",
            "instance-order",
            "option",
        }
    ),
    ("Task", "priority"): _REQUEST_PRIORITY,
    ("ServiceRequest", "status"): frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    ),
    ("ServiceRequest", "intent"): frozenset(
        {
            "proposal",
            "plan",
            "directive",
            "order",
            "original-order",
            "reflex-order",
            "filler-order",
            "instance-order",
            "option",
        }
    ),
    ("ServiceRequest", "priority"): _REQUEST_PRIORITY,
    ("DocumentReference", "status"): frozenset({"current", "superseded", "entered-in-error"}),
    ("DocumentReference", "docStatus"): frozenset(
        {"preliminary", "final", "amended", "entered-in-error"}
    ),
    ("DocumentReferenceRelatesTo", "code"): frozenset(
        {"replaces", "transforms", "signs", "appends"}
    ),
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("Bundle", "type"): frozenset(
        {
            "document",
            "message",
            "transaction",
            "transaction-response",
            "batch",
            "batch-response",
            "history",
            "searchset",
            "collection",
        }
    ),
    ("BundleEntrySearch", "mode"): frozenset({"match", "include", "outcome"}),
    ("BundleEntryRequest", "method"): frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}),
    ("MessageHeaderResponse", "code"): frozenset({"ok", "transient-error", "fatal-error"}),
    ("CapabilityStatement", "status"): frozenset({"draft", "active", "retired", "unknown"}),
    ("CapabilityStatement", "kind"): frozenset({"instance", "capability", "requirements"}),
    ("CapabilityStatement", "fhirVersion"): _FHIR_VERSIONS,
    ("CapabilityStatementRest", "mode"): frozenset({"client", "server"}),
    ("CapabilityStatementRestInteraction", "code"): frozenset(
        {"transaction", "batch", "search-system", "history-system"}
    ),
    ("CapabilityStatementRestResourceInteraction", "code"): frozenset(
        {
            "read",
            "vread",
            "update",
            "patch",
            "delete",
            "history-instance",
            "history-type",
            "create",
            "search-type",
        }
    ),
    ("CapabilityStatementRestResource", "versioning"): frozenset(
        {"no-version", "versioned", "versioned-update"}
    ),
    ("CapabilityStatementRestResourceSearchParam", "type"): frozenset(
        {
            "number",
            "date",
            "string",
            "token",
            "reference",
            "composite",
            "quantity",
            "uri",
            "special",
        }
    ),
    ("OperationOutcomeIssue", "severity"): frozenset({"fatal", "error", "warning", "information"}),
    ("OperationOutcomeIssue", "code"): _ISSUE_TYPES,
    ("Identifier", "use"): frozenset({"usual", "official", "temp", "secondary", "old"}),
    ("HumanName", "use"): frozenset(
        {"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"}
    ),
    ("ContactPoint", "system"): frozenset(
        {"phone", "fax", "email", "pager", "url", "sms", "other"}
    ),
    ("ContactPoint", "use"): frozenset({"home", "work", "temp", "old", "mobile"}),
    ("Address", "use"): frozenset({"home", "work", "temp", "old", "billing"}),
    ("Address", "type"): frozenset({"postal", "physical", "both"}),
    ("Narrative", "status"): frozenset({"generated", "extensions", "additional", "empty"}),
}


def _model(resource_type: Any, path: str) -> type[Any]:
    if not isinstance(resource_type, str) or not resource_type:
        raise FhirInvalid(path, "a resource needs its resourceType")
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        model = None
    if model is None or not issubclass(model, Resource):
        raise FhirInvalid(path, f"{resource_type!r} is not a FHIR resource type")
    return model


def _nested(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every resourceType below the root (Bundle entries, contained resources), with its path:
    the models fail on an unknown one with a bare KeyError, so they are checked first."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}"
            if key == "resourceType":
                yield child, item
            else:
                yield from _nested(item, child)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nested(item, f"{path}[{i}]")


def _path(root: str, loc: tuple[int | str, ...]) -> str:
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier() or part.startswith("_"):
            path += f".{part}"
    return path


def _codes(model: Any, path: str) -> Iterator[tuple[str, str, frozenset[str]]]:
    """Coded values outside their required value set: (path, value, allowed)."""
    cls = type(model)
    for name, field in cls.model_fields.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        element = field.alias or name
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            here = f"{path}.{element}" + (f"[{i}]" if isinstance(value, list) else "")
            if isinstance(item, pydantic.BaseModel):
                yield from _codes(item, here)
            elif isinstance(item, str):
                allowed = REQUIRED_CODES.get((cls.__name__, element))
                if allowed is not None and item not in allowed:
                    yield here, item, allowed


def validate(resource: Mapping[str, Any]) -> None:
    """Check a resource as FHIR R4 (the R4B models and R4's required codes); raise FhirInvalid
    naming the first element at fault."""
    if not isinstance(resource, Mapping):
        raise FhirInvalid("(body)", "a FHIR resource is a JSON object")
    resource_type = resource.get("resourceType")
    model = _model(resource_type, "resourceType")
    for path, nested_type in _nested(
        {k: v for k, v in resource.items() if k != "resourceType"}, str(resource_type)
    ):
        _model(nested_type, path)
    try:
        parsed = model.model_validate(dict(resource))
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        raise FhirInvalid(_path(str(resource_type), tuple(first["loc"])), message) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise FhirInvalid(str(resource_type), f"not a valid {resource_type}: {exc}") from None
    for path, value, allowed in _codes(parsed, str(resource_type)):
        shown = ", ".join(sorted(allowed)) if len(allowed) <= 12 else "see the FHIR value set"
        raise FhirInvalid(path, f"{value!r} is not an allowed code ({shown})")
