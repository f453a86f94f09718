"""/api/v1/ehcna, advice requests on a case, and what a family agreed to share with whom."""

from __future__ import annotations

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from gateway.advice import progress
from gateway.advice.requests import start_assessment
from gateway.api.auth import scoped
from gateway.api.deps import ClientRequest, endpoint_of
from gateway.errors import InvalidInput, NotFound
from gateway.model.advice import (
    AdviceChange,
    AdviceRequest,
    AdviceUpdate,
    AssessmentRequest,
    AssessmentStarted,
    SafeguardingOverride,
    SharingAgency,
    SharingDecision,
    SharingUpdate,
)
from gateway.rules.pack import PolicyPack
from gateway.store.unit_of_work import Store


class AssessmentController(Controller):
    path = "/ehcna"
    tags = ["advice"]

    @post("/", operation_id="start_assessment", sync_to_thread=True, **scoped("cases:write"))
    def start(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        data: JSONBody[AssessmentRequest],
    ) -> AssessmentStarted:
        """The authority has decided to assess: ask each adviser for advice, due in six weeks
        (Sutton 004, 3.). Health's goes to the NHS team as FHIR, unless the family has not
        agreed to share with health: then it is held. Asking an adviser twice is a no-op."""
        return start_assessment(store, data, request.user, pack)


class AdviceController(Controller):
    tags = ["advice"]

    @get(
        "/cases/{case_id:str}/advice-requests",
        operation_id="list_advice_requests",
        sync_to_thread=True,
        **scoped("cases:read"),
    )
    def for_case(
        self, request: ClientRequest, store: NamedDependency[Store], case_id: FromPath[str]
    ) -> list[AdviceRequest]:
        with store.unit_of_work() as uow:
            case = uow.cases.find(case_id)
            if case is None:
                raise NotFound(f"no case {case_id}")
            uow.audit.record(request.user, case.child_id, endpoint_of(request), "read", uow.now)
            return uow.advice.for_case(case_id)

    @patch(
        "/advice-requests/{request_id:str}",
        operation_id="update_advice_request",
        sync_to_thread=True,
        **scoped("cases:write"),
    )
    def update(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        request_id: FromPath[str],
        data: JSONBody[AdviceUpdate],
    ) -> AdviceRequest:
        """Record an adviser's progress where they answer outside FHIR (social care,
        education, EP; completing needs no document here), or withdraw a request."""
        with store.unit_of_work(read_only=True) as uow:
            current = uow.advice.get(request_id)
        if current is None:
            raise NotFound(f"no advice request {request_id}")
        notes = [*current.notes, data.note] if data.note else list(current.notes)
        by = "authority" if data.status == "cancelled" else "performer"
        if current.adviser == "health" and by == "performer":
            raise InvalidInput(
                "health answers through the FHIR facade (Task); here a health request can only "
                "be withdrawn",
                field="status",
            )
        change = AdviceChange(
            status=data.status,
            business_status=current.business_status,
            status_reason=data.status_reason,
            notes=notes,
            documents=list(current.documents),
        )
        return progress.change(
            store,
            request_id,
            change,
            request.user,
            pack,
            by=by,
            expected_version=current.version,
            documents_required=False,
        )


class SharingController(Controller):
    path = "/children/{child_id:str}/sharing"
    tags = ["children"]

    @get("/", operation_id="list_sharing", sync_to_thread=True, **scoped("cases:read"))
    def list_all(
        self, request: ClientRequest, store: NamedDependency[Store], child_id: FromPath[str]
    ) -> list[SharingDecision]:
        with store.unit_of_work() as uow:
            if uow.children.get(child_id) is None:
                raise NotFound(f"no child {child_id}")
            uow.audit.record(request.user, child_id, endpoint_of(request), "read", uow.now)
            return uow.sharing.for_child(child_id)

    @put(
        "/{agency:str}", operation_id="record_sharing", sync_to_thread=True, **scoped("cases:write")
    )
    def record(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        child_id: FromPath[str],
        agency: FromPath[SharingAgency],
        data: JSONBody[SharingUpdate],
    ) -> SharingDecision:
        """What the family agreed to share with one agency, by category ("tell us once",
        Sutton 004). Agreeing to share identity with health sends held health requests."""
        return progress.record_sharing(
            store, child_id, agency, data, request.user, endpoint_of(request), pack
        )

    @post(
        "/{agency:str}/safeguarding-override",
        operation_id="override_sharing_for_safeguarding",
        sync_to_thread=True,
        **scoped("admin"),
    )
    def override(
        self,
        request: ClientRequest,
        store: NamedDependency[Store],
        pack: NamedDependency[PolicyPack],
        child_id: FromPath[str],
        agency: FromPath[SharingAgency],
        data: JSONBody[SafeguardingOverride],
    ) -> SharingDecision:
        """Share with an agency despite the family's refusal because the child is at risk:
        the reason and who authorised it are kept, and the override is audited."""
        return progress.override_for_safeguarding(
            store, child_id, agency, data, request.user, endpoint_of(request), pack
        )
