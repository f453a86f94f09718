"""/fhir/R4: the FHIR facade NHS teams use to pull their advice requests and answer them.

An NHS team (scope ``nhs``) reads its open ServiceRequests and Tasks, moves a Task through its
statuses (PUT, or PATCH with a JSON Patch), and posts the advice as a DocumentReference.
Completing the Task with that document as its output meets the six-week clock. Requests held
for the family's agreement are invisible here: nothing about the child is shared until it is.
Errors are OperationOutcomes (gateway/api/problems.py renders them for every /fhir path).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

import anyio.to_thread
import jsonpatch
import msgspec
from litestar import Request, Response, Router, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter

from adapters.nhs.resources import validate
from gateway import __version__
from gateway.advice import progress
from gateway.api.auth import scope_guard, scoped
from gateway.api.deps import ClientRequest, endpoint_of
from gateway.api.problems import FieldError, problem_response
from gateway.errors import InvalidInput, NotFound
from gateway.model.advice import AdviceChange, AdviceRequest
from gateway.model.client import Client
from gateway.model.identifiers import nhs_number_problem
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store, UnitOfWork
from mappings import fhir

FHIR_JSON = "application/fhir+json"
BODY_MEDIA = {"application/fhir+json", "application/json"}
# JSON Patch (RFC 6902) as FHIR's http.html#patch describes; JSON Merge Patch (RFC 7386) too,
# since common FHIR clients (fhirpy's patch()) send a partial resource as application/json.
PATCH_MEDIA = {"application/json-patch+json", "application/merge-patch+json", "application/json"}
MAX_DOCUMENT_BYTES = 10 * 1_048_576
# ServiceRequest / Task status search values → the advice statuses they cover. "held" is
# never among them: a held request has not been made.
TASK_STATUS: dict[str, tuple[str, ...]] = {
    s: (s,) for s in ("requested", "accepted", "in-progress", "completed", "rejected", "cancelled")
}
SERVICE_REQUEST_STATUS: dict[str, tuple[str, ...]] = {
    "active": ("requested", "accepted", "in-progress"),
    "completed": ("completed",),
    "revoked": ("rejected", "cancelled"),
}
VISIBLE = ("requested", "accepted", "in-progress", "completed", "rejected", "cancelled")

NHS: dict[str, Any] = {"sync_to_thread": True, **scoped("nhs")}
ASYNC_NHS: dict[str, Any] = scoped("nhs")
Search = Annotated[str | None, QueryParameter(max_length=200, required=False)]
Ids = Annotated[str | None, QueryParameter(name="_id", max_length=400, required=False)]
PatientIdentifier = Annotated[
    str | None, QueryParameter(name="patient.identifier", max_length=200, required=False)
]
BasedOn = Annotated[str | None, QueryParameter(name="based-on", max_length=200, required=False)]


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> Response[bytes]:
    return Response(
        content=json.dumps(body, separators=(",", ":")).encode(),
        media_type=FHIR_JSON,
        status_code=status,
        headers=headers or None,
    )


def fhir_guard(connection: Any, handler: Any) -> None:
    """Bodies must say they are FHIR JSON (or a JSON Patch for PATCH)."""
    method = connection.scope.get("method")
    if method not in {"POST", "PUT", "PATCH"}:
        return
    media = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    allowed = PATCH_MEDIA if method == "PATCH" else BODY_MEDIA
    if media not in allowed:
        raise HTTPException(
            status_code=415, detail=f"send {' or '.join(sorted(allowed))}, not {media or 'none'}"
        )


def _ods(performer: str | None) -> str | None:
    """performer=Organization/RVR, RVR, or the ODS token system|code."""
    if performer is None:
        return None
    value = performer.rsplit("|", 1)[-1]
    return value.removeprefix("Organization/") or None


def _requester(pack: PolicyPack, team_code: str | None) -> fhir.Requester:
    code = team_code or "SEN_SERVICE"
    team = pack.teams.get(code)
    return fhir.Requester(
        authority_name=pack.authority.name,
        la_code=pack.authority.la_code,
        team_code=code,
        team_name=team.name if team else code,
    )


def _base(request: Request[Any, Any, Any]) -> str:
    settings = request.app.state.settings
    return f"{settings.public_base_url.rstrip('/')}/fhir/R4"


def organisations(caller: Client) -> tuple[str, ...]:
    """The NHS organisations (ODS codes) this client acts for: it sees their requests only,
    and a client bound to none sees nothing."""
    if not caller.organisations:
        raise PermissionDeniedException(
            "this client is bound to no NHS organisation (ODS code); ask for one to be set"
        )
    return caller.organisations


def visible(request: AdviceRequest | None, caller: Client) -> bool:
    return (
        request is not None
        and request.adviser == "health"
        and request.status in VISIBLE
        and request.performer in organisations(caller)
    )


class Facade:
    """The reads, shared by search and read handlers: each one audited per child."""

    def __init__(self, uow: UnitOfWork, pack: PolicyPack, caller: Client, endpoint: str) -> None:
        self.uow, self.pack, self.caller, self.endpoint = uow, pack, caller, endpoint

    def request(self, request_id: str) -> AdviceRequest:
        found = self.uow.advice.get(request_id)
        if found is None or not visible(found, self.caller):
            raise NotFound(f"no such resource {request_id}")
        return found

    def service_request(self, request: AdviceRequest) -> dict[str, Any]:
        child = self.uow.children.get(request.child_id)
        sharing = self.uow.sharing.get(request.child_id, "health")
        case = self.uow.cases.get(request.case_id)
        if child is None or sharing is None:
            raise NotFound(f"no such resource {request.id}")
        self.uow.audit.record(self.caller, child.id, self.endpoint, "read", self.uow.now)
        return fhir.service_request(
            request, child, sharing, _requester(self.pack, case.lead_team), case.summary
        )

    def task(self, request: AdviceRequest, base: str) -> dict[str, Any]:
        case = self.uow.cases.get(request.case_id)
        self.uow.audit.record(self.caller, request.child_id, self.endpoint, "read", self.uow.now)
        return fhir.task(request, _requester(self.pack, case.lead_team), base)


def searchset(base: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def _statuses(value: str | None, table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if value is None:
        return VISIBLE
    wanted: list[str] = []
    for item in value.split(","):
        if item not in table:
            raise InvalidInput(
                f"status {item!r} is not searchable here; use {', '.join(sorted(table))}",
                field="status",
            )
        wanted += table[item]
    return tuple(wanted)


def _nhs_number(token: str | None) -> str | None:
    """patient.identifier=https://fhir.nhs.uk/Id/nhs-number|<number>: checked as NHS numbers
    are (modulus 11) before anything is looked up."""
    if token is None:
        return None
    system, _, value = token.rpartition("|")
    if system not in ("", fhir.NHS_NUMBER_SYSTEM):
        raise fhir.FhirInvalid("patient.identifier", f"search by {fhir.NHS_NUMBER_SYSTEM} only")
    value = value.replace(" ", "")
    if problem := nhs_number_problem(value):
        raise fhir.FhirInvalid("patient.identifier", f"not an NHS number: {problem}")
    return value


def _id_of(reference: str | None, kind: str) -> str | None:
    if reference is None:
        return None
    return reference.removeprefix(f"{kind}/")


@get("/metadata", operation_id="fhir_capabilities", sync_to_thread=False, **scoped("nhs"))
def metadata(request: ClientRequest) -> Response[bytes]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return fhir_response(fhir.capability_statement(_base(request), __version__, now))


@get(
    "/ServiceRequest",
    operation_id="fhir_search_service_requests",
    sync_to_thread=True,
    **scoped("nhs"),
)
def search_service_requests(
    request: ClientRequest,
    store: NamedDependency[Store],
    pack: NamedDependency[PolicyPack],
    performer: Search = None,
    status: Search = None,
    patient: Search = None,
    patient_identifier: PatientIdentifier = None,
    id_: Ids = None,
) -> Response[bytes]:
    statuses = _statuses(status, SERVICE_REQUEST_STATUS)
    nhs_number = _nhs_number(patient_identifier)
    with store.unit_of_work() as uow:
        facade = Facade(uow, pack, request.user, endpoint_of(request))
        child_id = _id_of(patient, "Patient")
        if nhs_number is not None:
            child = uow.children.find("nhs_number", nhs_number)
            if child is None or (child_id is not None and child.id != child_id):
                return fhir_response(searchset(_base(request), []))
            child_id = child.id
        found = uow.advice.search(
            adviser="health",
            performer=_ods(performer),
            performers=organisations(request.user),
            statuses=statuses,
            ids=tuple(id_.split(",")) if id_ else (),
            child_id=child_id,
        )
        return fhir_response(searchset(_base(request), [facade.service_request(r) for r in found]))


@get(
    "/ServiceRequest/{resource_id:str}",
    operation_id="fhir_read_service_request",
    sync_to_thread=True,
    **scoped("nhs"),
)
def read_service_request(
    request: ClientRequest,
    store: NamedDependency[Store],
    pack: NamedDependency[PolicyPack],
    resource_id: FromPath[str],
) -> Response[bytes]:
    with store.unit_of_work() as uow:
        facade = Facade(uow, pack, request.user, endpoint_of(request))
        return fhir_response(facade.service_request(facade.request(resource_id)))


@get("/Task", operation_id="fhir_search_tasks", **NHS)
def search_tasks(
    request: ClientRequest,
    store: NamedDependency[Store],
    pack: NamedDependency[PolicyPack],
    owner: Search = None,
    status: Search = None,
    based_on: Annotated[
        str | None, QueryParameter(name="based-on", max_length=200, required=False)
    ] = None,
    id_: Ids = None,
) -> Response[bytes]:
    statuses = _statuses(status, TASK_STATUS)
    ids = tuple(id_.split(",")) if id_ else ()
    if based_on:
        ids += (_id_of(based_on, "ServiceRequest") or "",)
    with store.unit_of_work() as uow:
        facade = Facade(uow, pack, request.user, endpoint_of(request))
        found = uow.advice.search(
            adviser="health",
            performer=_ods(owner),
            performers=organisations(request.user),
            statuses=statuses,
            ids=ids,
        )
        base = _base(request)
        return fhir_response(searchset(base, [facade.task(r, base) for r in found]))


@get("/Task/{resource_id:str}", operation_id="fhir_read_task", **NHS)
def read_task(
    request: ClientRequest,
    store: NamedDependency[Store],
    pack: NamedDependency[PolicyPack],
    resource_id: FromPath[str],
) -> Response[bytes]:
    with store.unit_of_work() as uow:
        facade = Facade(uow, pack, request.user, endpoint_of(request))
        found = facade.request(resource_id)
        return fhir_response(facade.task(found, _base(request)), ETag=f'W/"{found.version}"')


@get(
    "/Patient/{resource_id:str}",
    operation_id="fhir_read_patient",
    sync_to_thread=True,
    **scoped("nhs"),
)
def read_patient(
    request: ClientRequest, store: NamedDependency[Store], resource_id: FromPath[str]
) -> Response[bytes]:
    """Only a child with a health request made (not held), and only what the family agreed."""
    with store.unit_of_work() as uow:
        made = uow.advice.search(
            adviser="health",
            child_id=resource_id,
            statuses=VISIBLE,
            performers=organisations(request.user),
            limit=1,
        )
        child = uow.children.get(resource_id)
        sharing = uow.sharing.get(resource_id, "health")
        if not made or child is None or sharing is None or not sharing.agreed:
            raise NotFound(f"no such resource Patient/{resource_id}")
        uow.audit.record(request.user, child.id, endpoint_of(request), "read", uow.now)
        try:
            return fhir_response(fhir.patient(child, sharing))
        except fhir.FhirInvalid:
            raise NotFound(f"no such resource Patient/{resource_id}") from None


def _update_task(
    request: ClientRequest,
    store: Store,
    pack: PolicyPack,
    resource_id: str,
    resource: Any,
    current: AdviceRequest,
) -> Response[bytes]:
    if not isinstance(resource, dict):
        raise fhir.FhirInvalid("Task", "the body must be a Task resource")
    validate(resource)
    with store.unit_of_work(read_only=True) as uow:
        requester = _requester(pack, uow.cases.get(current.case_id).lead_team)
    change = fhir.read_task_change(resource, current, requester=requester)
    saved = progress.change(
        store,
        resource_id,
        AdviceChange(
            status=change.status,  # type: ignore[arg-type]  # read_task_change checked it
            business_status=change.business_status,
            status_reason=change.status_reason,
            notes=change.notes,
            documents=change.outputs,
        ),
        request.user,
        pack,
        by="performer",
        expected_version=_if_match(request, current),
    )
    with store.unit_of_work() as uow:
        facade = Facade(uow, pack, request.user, endpoint_of(request))
        body = facade.task(saved, _base(request))
    return fhir_response(body, ETag=f'W/"{saved.version}"')


def _if_match(request: ClientRequest, current: AdviceRequest) -> int:
    """With If-Match, the version the client read; without it, the one just read here."""
    header = request.headers.get("if-match")
    if not header:
        return current.version
    value = header.strip().removeprefix("W/").strip('"')
    # ASCII digits, few enough for int(): str.isdigit() also accepts "²", which int() refuses,
    # and int() refuses more than 4300 digits.
    if not re.fullmatch(r"[0-9]{1,18}", value):
        raise InvalidInput(
            f"If-Match {header!r} is not a version this server gave", field="If-Match"
        )
    if int(value) != current.version:
        raise HTTPException(
            status_code=412,
            detail=f"Task/{current.id} is at version {current.version}, not {value}",
        )
    return current.version


def merge_patch(target: Any, change: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes, anything else replaces."""
    if not isinstance(change, dict):
        return change
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in change.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _current(store: Store, resource_id: str, caller: Client) -> AdviceRequest:
    with store.unit_of_work(read_only=True) as uow:
        found = uow.advice.get(resource_id)
    if found is None or not visible(found, caller):
        raise NotFound(f"no such resource Task/{resource_id}")
    return found


def _json(body: bytes) -> Any:
    """The body as JSON, or a 400. msgspec raises UnicodeDecodeError, not DecodeError, for
    bytes that are not UTF-8 inside a string, so both are the client's fault."""
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise fhir.FhirInvalid("(body)", f"not JSON: {exc}") from None


@put("/Task/{resource_id:str}", operation_id="fhir_update_task", **ASYNC_NHS)
async def update_task(
    request: ClientRequest,
    store: NamedDependency[Store],
    pack: NamedDependency[PolicyPack],
    resource_id: FromPath[str],
) -> Response[bytes]:
    """The body is read raw: FHIR JSON is this module's to parse, not the framework's."""
    body = await request.body()

    def run() -> Response[bytes]:
        current = _current(store, resource_id, request.user)
        return _update_task(request, store, pack, resource_id, _json(body), current)

    return await anyio.to_thread.run_sync(run)


@patch("/Task/{resource_id:str}", operation_id="fhir_patch_task", **ASYNC_NHS)
async def patch_task(
    request: ClientRequest,
    store: NamedDependency[Store],
    pack: NamedDependency[PolicyPack],
    resource_id: FromPath[str],
) -> Response[bytes]:
    """A JSON Patch (RFC 6902) or a JSON Merge Patch (RFC 7386) applied to the Task as this
    server shows it, then taken as a PUT of the result: the same rules decide what may change."""
    body = await request.body()
    return await anyio.to_thread.run_sync(lambda: _patch(request, store, pack, resource_id, body))


def _patch(
    request: ClientRequest, store: Store, pack: PolicyPack, resource_id: str, body: bytes
) -> Response[bytes]:
    current = _current(store, resource_id, request.user)
    operations = _json(body)
    with store.unit_of_work() as uow:
        shown = Facade(uow, pack, request.user, endpoint_of(request)).task(current, _base(request))
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json-patch+json":
        # A JSON Patch is an array of operations. jsonpatch would read a JSON string as a
        # patch document of its own (and fail with a bare JSONDecodeError on a bad one).
        if not isinstance(operations, list):
            raise fhir.FhirInvalid("(patch)", "a JSON Patch is a JSON array of operations")
        try:
            patched = jsonpatch.apply_patch(shown, operations)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError) as exc:
            raise fhir.FhirInvalid("(patch)", f"the JSON Patch cannot be applied: {exc}") from None
    else:
        if not isinstance(operations, dict):
            raise fhir.FhirInvalid("(patch)", "a merge patch is a JSON object")
        patched = merge_patch(shown, operations)
    return _update_task(request, store, pack, resource_id, patched, current)


@post(
    "/DocumentReference",
    operation_id="fhir_create_document",
    # The advice itself, base64 inside JSON: a third bigger than the document it carries.
    request_max_body_size=MAX_DOCUMENT_BYTES * 4 // 3 + 65_536,
    **ASYNC_NHS,
)
async def create_document(request: ClientRequest, store: NamedDependency[Store]) -> Response[bytes]:
    """The advice itself (PDF or text), related to the ServiceRequest or Task it answers."""
    body = await request.body()
    return await anyio.to_thread.run_sync(lambda: _create_document(request, store, body))


def _create_document(request: ClientRequest, store: Store, body: bytes) -> Response[bytes]:
    resource = _json(body)
    if not isinstance(resource, dict):
        raise fhir.FhirInvalid("DocumentReference", "the body must be a DocumentReference")
    validate(resource)
    incoming = fhir.read_document(resource, MAX_DOCUMENT_BYTES)
    _current(store, incoming.advice_request_id, request.user)
    stored = progress.add_document(
        store,
        incoming.advice_request_id,
        content_type=incoming.content_type,
        title=incoming.title,
        data=incoming.data,
        author=incoming.author,
        caller=request.user,
    )
    created = {**resource, "id": stored.id, "meta": {"versionId": "1"}}
    location = f"{_base(request)}/DocumentReference/{stored.id}/_history/1"
    return fhir_response(created, 201, Location=location)


@get(
    "/DocumentReference/{resource_id:str}",
    operation_id="fhir_read_document",
    sync_to_thread=True,
    **scoped("nhs"),
)
def read_document(
    request: ClientRequest, store: NamedDependency[Store], resource_id: FromPath[str]
) -> Response[bytes]:
    with store.unit_of_work() as uow:
        found = uow.advice.document(resource_id)
        if found is None:
            raise NotFound(f"no such resource DocumentReference/{resource_id}")
        document, content = found
        advice = uow.advice.get(document.advice_request_id)
        if advice is None or not visible(advice, request.user):
            raise NotFound(f"no such resource DocumentReference/{resource_id}")
        uow.audit.record(request.user, advice.child_id, endpoint_of(request), "read", uow.now)
    return fhir_response(fhir.document_reference(document, content, advice))


def invalid_resource(request: Request[Any, Any, Any], exc: fhir.FhirInvalid) -> Response[Any]:
    return problem_response(
        request,
        400,
        "Invalid resource",
        "invalid-resource",
        str(exc),
        errors=[FieldError(field=exc.path, message=exc.message)],
    )


def fhir_router(provide_store: Any, provide_pack: Any) -> Router:
    return Router(
        path="/fhir/R4",
        route_handlers=[
            metadata,
            search_service_requests,
            read_service_request,
            search_tasks,
            read_task,
            read_patient,
            update_task,
            patch_task,
            create_document,
            read_document,
        ],
        guards=[scope_guard, fhir_guard],
        exception_handlers={fhir.FhirInvalid: invalid_resource},
        dependencies={
            "store": Provide(provide_store, sync_to_thread=False),
            "pack": Provide(provide_pack, sync_to_thread=False),
        },
        tags=["fhir"],
    )
