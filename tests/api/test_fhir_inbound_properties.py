"""Whatever an NHS system sends to the FHIR facade, the gateway answers without a server error,
and every refusal is a FHIR OperationOutcome with a 4xx status a FHIR client can act on.

NHS systems are outside the authority's control: their FHIR clients, versions and bugs are
their own, and a team's integration may send anything. Nothing they send may crash the gateway
(a 500 tells the team nothing it can fix, and a retrying client repeats it) or be half-applied:
a refused update leaves the Task exactly as a read showed it, an accepted one is exactly what
the next read shows and never touches what is the authority's to say, a refused
DocumentReference keeps nothing, and after any mix of inputs the facade and the case API still
tell the same story about the advice request.

The properties drive the facade in process (Litestar TestClient, SQLite, the Sutton pack) with
arbitrary JSON, real Tasks and DocumentReferences mutated at random, JSON Patch and merge patch
documents, raw bytes, odd If-Match headers and arbitrary search parameters.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import pathlib
import tomllib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.store import Store
from gateway.store.schema import advice_documents
from mappings.fhir import TASK_STATUSES
from tests.api.conftest import Api
from tests.api.test_advice_api import new_case, share

# The in-process app on SQLite: these properties are about the facade's answers, and must stay
# quick enough to run with every change.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ODS = "RVR"  # the Sutton pack's community paediatric service
OTHER_ODS = "RWD"  # another NHS organisation: its requests are not this team's
FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# http://hl7.org/fhir/R4/valueset-task-status.html, as mappings/fhir.py keeps it
R4_TASK_STATUSES = TASK_STATUSES
FINISHED = frozenset({"completed", "rejected", "cancelled"})
# The refusals the facade may give, and the issue types (http://hl7.org/fhir/R4/
# valueset-issue-type.html) that say the same thing to a FHIR client.
ISSUE_CODES: dict[int, frozenset[str]] = {
    400: frozenset({"invalid", "structure", "required", "value", "too-long"}),
    404: frozenset({"not-found"}),
    409: frozenset({"conflict"}),
    412: frozenset({"conflict"}),
    413: frozenset({"too-costly", "too-long"}),
    415: frozenset({"not-supported"}),
    422: frozenset({"business-rule", "invalid", "value", "processing"}),
}
# What the authority says about a Task: no accepted update may change it.
AUTHORITY_ELEMENTS = (
    "identifier",
    "basedOn",
    "focus",
    "for",
    "owner",
    "requester",
    "restriction",
    "code",
    "intent",
    "authoredOn",
)
TASK_KEYS = (
    *AUTHORITY_ELEMENTS,
    "resourceType",
    "id",
    "meta",
    "lastModified",
    "status",
    "businessStatus",
    "statusReason",
    "note",
    "output",
)
# The performer's moves, read from the table the gateway itself follows.
TRANSITIONS = pathlib.Path(__file__).parents[2] / "mappings" / "data" / "advice_transitions.toml"
PERFORMER_MOVES: dict[str, list[str]] = {
    status: by.get("performer", [])
    for status, by in tomllib.loads(TRANSITIONS.read_text())["moves"].items()
}
SEARCHES: dict[str, tuple[str, ...]] = {
    "ServiceRequest": ("performer", "status", "patient", "patient.identifier", "_id"),
    "Task": ("owner", "status", "based-on", "_id"),
}


# --- strategies --------------------------------------------------------------------------------

texts = st.text(max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
statuses = st.sampled_from(sorted(R4_TASK_STATUSES | {"held", "finished", ""})) | texts
# Values an NHS system might plausibly put in a Task: right shapes, sometimes right values.
plausible = (
    statuses
    | st.sampled_from(
        [
            {"text": "Appointment booked"},
            [{"text": "Seen in clinic"}],
            {"reference": f"Organization/{ODS}"},
            {"reference": f"Organization/{OTHER_ODS}"},
            [{"reference": "ServiceRequest/elsewhere"}],
            "2026-02-16T23:59:59Z",
            "2026-02-16T23:59:59+01:00",
            {"period": {"end": "2099-01-01T00:00:00Z"}},
            "order",
            "plan",
        ]
    ).map(copy.deepcopy)  # a fresh copy each time: later mutations must not change the samples
    | json_values
)
huge_text = st.integers(1_000, 150_000).map(lambda n: "x" * n)
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=30,
)
if_match = st.one_of(
    st.none(),
    st.from_regex(r'(W/)?"?[0-9]{1,25}"?', fullmatch=True),
    st.sampled_from(['W/"1"', '"1"', "1", 'W/"2"', '"\u00b2"', 'W/"\u00b9"', "*", ""]),
    st.integers(4_400, 6_000).map(lambda n: f'W/"{"9" * n}"'),  # past int()'s digit limit
    header_text,
)
PATCH_PATHS = st.sampled_from(
    [
        "",
        "/",
        "/status",
        "/owner",
        "/owner/reference",
        "/owner/identifier/value",
        "/basedOn",
        "/basedOn/0",
        "/basedOn/0/reference",
        "/basedOn/-",
        "/basedOn/1",
        "/note",
        "/note/-",
        "/note/0/text",
        "/note/01",
        "/output",
        "/output/-",
        "/id",
        "/resourceType",
        "/meta",
        "/meta/versionId",
        "/restriction/period/end",
        "/businessStatus",
        "/statusReason/text",
        "/extension",
        "/~1",
        "/a~0b",
        "/~2",
    ]
) | st.text(max_size=12)
patch_operations = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]) | texts,
        "path": PATCH_PATHS | json_values,
    },
    optional={"value": plausible, "from": PATCH_PATHS},
)
# Client mistakes seen in the wild besides: the patch JSON-encoded twice (a JSON string), one
# operation not in its array.
json_patches = (
    st.lists(patch_operations | json_values, max_size=4)
    | json_values
    | st.sampled_from(
        [
            "[]",
            '[{"op": "replace", "path": "/status", "value": "accepted"}]',
            '[{"op": "replace", "path": "/status", "value": "accepted"}',
            "",
            {"op": "replace", "path": "/status", "value": "accepted"},
        ]
    )
)
merge_patches = (
    st.dictionaries(st.sampled_from(TASK_KEYS) | texts, plausible | st.none(), max_size=4)
    | json_values
)
search_values = st.one_of(
    st.text(max_size=250),
    st.sampled_from(
        [
            ODS,
            f"Organization/{ODS}",
            f"https://fhir.nhs.uk/Id/ods-organization-code|{ODS}",
            OTHER_ODS,
            "active",
            "completed",
            "revoked",
            "requested,accepted,in-progress",
            "requested,",
            "https://fhir.nhs.uk/Id/nhs-number|9434765919",
            "|9434765919",
            "943 476 5919",
            "http://elsewhere|1",
            "Patient/",
            "ServiceRequest/",
            ",,,",
            "a" * 201,
            ",".join(["x"] * 200),
        ]
    ),
)


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def paths_of(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON document (object keys and list items), shallow first."""
    found = [prefix] if prefix else []
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            found += paths_of(value, (*prefix, i))
    return found


def set_at(document: Any, path: tuple[Any, ...], value: Any) -> None:
    *parents, last = path
    for step in parents:
        document = document[step]
    document[last] = value


def delete_at(document: Any, path: tuple[Any, ...]) -> None:
    *parents, last = path
    for step in parents:
        document = document[step]
    del document[last]


@st.composite
def mutated_task(draw: st.DrawFn, task: dict[str, Any]) -> dict[str, Any]:
    """The Task as the facade showed it, changed in one to four places."""
    body = copy.deepcopy(task)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ["delete", "replace", "status", "owner", "basedOn", "output", "note", "nested"]
            )
        )
        if kind == "delete":
            body.pop(draw(st.sampled_from(TASK_KEYS)), None)
        elif kind == "replace":
            key = draw(st.sampled_from([*TASK_KEYS, "extension", "priority", "input", "text"]))
            body[key] = draw(plausible)
        elif kind == "status":
            body["status"] = draw(statuses)
        elif kind == "owner":
            body["owner"] = draw(
                st.one_of(
                    st.builds(lambda code: {"reference": f"Organization/{code}"}, texts),
                    st.builds(
                        lambda code: {
                            "identifier": {
                                "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                "value": code,
                            }
                        },
                        st.sampled_from([ODS, OTHER_ODS, ""]) | texts,
                    ),
                    st.builds(
                        lambda: {"reference": f"Organization/{ODS}", "identifier": {"value": "X"}}
                    ),
                    st.builds(lambda: {"display": "no reference at all"}),
                    json_values,
                )
            )
        elif kind == "basedOn":
            references = st.builds(
                lambda target: {"reference": target},
                st.sampled_from([f"ServiceRequest/{task['id']}", "ServiceRequest/", "/", ""])
                | st.builds(lambda t: f"ServiceRequest/{t}", texts)
                | texts,
            )
            body["basedOn"] = draw(st.lists(references | json_values, max_size=3) | json_values)
        elif kind == "output":
            outputs = st.builds(
                lambda target: {
                    "type": {"text": "Advice"},
                    "valueReference": {"reference": target},
                },
                st.builds(lambda t: f"DocumentReference/{t}", texts)
                | st.sampled_from(["DocumentReference/", f"Task/{task['id']}"])
                | texts,
            )
            body["output"] = draw(st.lists(outputs | json_values, max_size=3) | json_values)
        elif kind == "note":
            notes = st.builds(lambda text: {"text": text}, texts | huge_text) | json_values
            body["note"] = copy.deepcopy(task.get("note", [])) + draw(st.lists(notes, max_size=3))
        elif kind == "nested":
            # An index into whatever places the Task has: the draw does not depend on its shape.
            places = paths_of(body)
            where, value = draw(st.integers(0, 1_000)), draw(plausible)
            if places:
                set_at(body, places[where % len(places)], value)
    return body


def document_body(request_id: str, text: str = "Seen in clinic: rest breaks advised.") -> Any:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "title": "Health advice",
                    "data": base64.b64encode(text.encode()).decode(),
                }
            }
        ],
        "context": {"related": [{"reference": f"Task/{request_id}"}]},
    }


@st.composite
def mutated_document(draw: st.DrawFn, request_id: str, foreign_id: str) -> Any:
    """A DocumentReference an NHS team could post, changed in one to four places."""
    body = document_body(request_id)
    attachment = body["content"][0]["attachment"]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ["data", "contentType", "delete", "subject", "related", "big", "check", "nested"]
            )
        )
        if kind == "data":
            attachment["data"] = draw(
                st.one_of(
                    st.sampled_from(["", "!!!", "abc", "YWJj\nZA==", "====", "JVBERi0=", "\u00e9"]),
                    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
                    texts,
                    json_values,
                    st.integers(1, 20).map(lambda n: "QUFB" * n * 1000),
                )
            )
        elif kind == "contentType":
            attachment["contentType"] = draw(
                st.sampled_from(
                    [
                        "application/pdf",
                        "text/plain; charset=utf-8",
                        "TEXT/PLAIN",
                        "text/html",
                        "image/png",
                        "",
                        ";",
                    ]
                )
                | texts
                | json_values
            )
        elif kind == "delete":
            where = draw(
                st.sampled_from(
                    [
                        ("status",),
                        ("content",),
                        ("context",),
                        ("resourceType",),
                        ("context", "related"),
                        ("content", 0, "attachment"),
                        ("content", 0, "attachment", "data"),
                        ("content", 0, "attachment", "contentType"),
                    ]
                )
            )
            with contextlib.suppress(KeyError, IndexError, TypeError):  # gone already
                delete_at(body, where)
        elif kind == "subject":
            body["subject"] = draw(
                st.builds(lambda t: {"reference": f"Patient/{t}"}, texts) | json_values
            )
        elif kind == "related":
            targets = st.sampled_from(
                [
                    f"ServiceRequest/{request_id}",
                    f"Task/{request_id}",
                    f"ServiceRequest/{foreign_id}",
                    f"Task/{foreign_id}",
                    "Task/",
                    "ServiceRequest/no-such-request",
                ]
            ) | st.builds(lambda t: f"Task/{t}", texts)
            body["context"] = {
                "related": draw(
                    st.lists(
                        st.builds(lambda t: {"reference": t}, targets) | json_values, max_size=3
                    )
                )
            }
        elif kind == "big":
            field = draw(st.sampled_from(["title", "description", "author"]))
            text = draw(huge_text)
            if field == "title":
                attachment["title"] = text
            elif field == "description":
                body["description"] = text
            else:
                body["author"] = [{"display": text}]
        elif kind == "check":
            attachment[draw(st.sampled_from(["size", "hash"]))] = draw(
                st.sampled_from([36, 0, -1, "36", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="]) | json_values
            )
        elif kind == "nested":
            places = paths_of(body)
            set_at(body, draw(st.sampled_from(places)), draw(plausible))
    return body


# --- the team and its checks -------------------------------------------------------------------


class Team:
    """An NHS team's FHIR client (scope nhs, bound to RVR) and the officer whose assessments
    give it advice requests to answer; one request of another organisation's besides."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.officer = api.token("cases:write", "cases:read")
        _, token = create_client(api.store, "nhs-team", ("nhs",), organisations=(ODS,))
        self.headers = {"Authorization": f"Bearer {token}"}
        self.made = 0
        self.case_of: dict[str, str] = {}
        self.foreign_id = self.new_request(performer=OTHER_ODS)
        self.task_id = self.new_request()

    def new_request(self, performer: str = ODS) -> str:
        """A fresh health advice request, sent (the family agreed), Task status requested."""
        self.made += 1
        case = new_case(self.api, self.officer, self.made)
        assert share(self.api, self.officer, case["child_id"]).status_code == 200
        started = self.api.client.post(
            "/api/v1/ehcna",
            headers=self.officer,
            json={"case_id": case["id"], "advisers": ["health"], "health_performer": performer},
        )
        assert started.status_code == 201, started.text
        [health] = started.json()["requests"]
        assert (health["status"], health["performer"]) == ("requested", performer)
        self.case_of[health["id"]] = case["id"]
        return str(health["id"])

    def live_task(self) -> dict[str, Any]:
        """The Task under test; once it is finished, a new request's, so moves stay possible."""
        task = self.read(self.task_id)
        if task["status"] in FINISHED:
            self.task_id = self.new_request()
            task = self.read(self.task_id)
        return task

    def send(
        self,
        method: str,
        path: str,
        content: bytes | None = None,
        content_type: str = FHIR_JSON,
        **headers: str | bytes,
    ) -> httpx.Response:
        all_headers: dict[str, str | bytes] = {**self.headers, **headers}
        if content is not None:
            all_headers["Content-Type"] = content_type
        return self.api.client.request(
            method, f"/fhir/R4/{path}", content=content, headers=all_headers
        )

    def read(self, task_id: str) -> dict[str, Any]:
        answer = self.send("GET", f"Task/{task_id}")
        task = answered(answer)
        assert answer.status_code == 200, answer.text
        assert task["resourceType"] == "Task" and task["id"] == task_id, task
        assert task["status"] in R4_TASK_STATUSES, task["status"]
        return task

    def documents(self) -> int:
        with self.api.store.engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(advice_documents))
            return int(count.scalar_one())

    def authority_view(self, request_id: str) -> dict[str, Any]:
        """The advice request as the case API shows it to the officer."""
        listed = self.api.client.get(
            f"/api/v1/cases/{self.case_of[request_id]}/advice-requests", headers=self.officer
        )
        assert listed.status_code == 200, listed.text
        [found] = [r for r in listed.json() if r["id"] == request_id]
        return dict(found)


def answered(response: httpx.Response) -> Any:
    """The body of a facade answer, once it is shown to be what every answer must be: no 5xx,
    FHIR JSON, and a refusal an OperationOutcome whose issues say why in FHIR's words."""
    if currently_in_test_context():  # --hypothesis-show-statistics counts the answers
        event(f"{response.request.method} {response.status_code}")
    assert response.status_code < 500, response.text[:500]
    media = response.headers.get("content-type", "").split(";")[0].strip()
    assert media == FHIR_JSON, (response.status_code, media, response.text[:300])
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert response.status_code in ISSUE_CODES, (response.status_code, body)
        assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", body
        assert body.get("issue"), body
        outcome = OperationOutcome.model_validate(body)
        for issue in outcome.issue:
            assert issue.severity in ("error", "fatal"), body
            assert issue.code in ISSUE_CODES[response.status_code], (response.status_code, body)
            assert issue.diagnostics and issue.diagnostics.strip(), body
    return body


def check_task_write(team: Team, before: dict[str, Any], response: httpx.Response) -> None:
    """A Task PUT or PATCH is refused with nothing changed, or taken whole: the answer is the
    Task the next read shows, one version on, moved only as the transitions allow, with the
    authority's elements and the notes already there as they were."""
    body = answered(response)
    after = team.read(before["id"])
    if response.status_code >= 400:
        assert after == before, "a refused update changed the Task"
        return
    assert response.status_code == 200, response.status_code
    assert body == after
    assert body["meta"]["versionId"] == str(int(before["meta"]["versionId"]) + 1)
    assert response.headers["etag"] == f'W/"{body["meta"]["versionId"]}"'
    moved_to = body["status"]
    assert moved_to == before["status"] or moved_to in PERFORMER_MOVES[before["status"]], (
        before["status"],
        moved_to,
    )
    for element in AUTHORITY_ELEMENTS:
        assert body.get(element) == before.get(element), element
    notes = before.get("note", [])
    assert body.get("note", [])[: len(notes)] == notes
    if moved_to == "completed":
        assert body.get("output"), "completed without its advice"


def check_document_post(team: Team, request_id: str, kept: int, response: httpx.Response) -> None:
    """A DocumentReference is refused with nothing kept, or kept whole: readable by the team,
    about one of its own requests, with the data it sent."""
    body = answered(response)
    if response.status_code >= 400:
        assert team.documents() == kept, "a refused DocumentReference was kept"
        return
    assert response.status_code == 201, response.status_code
    assert team.documents() == kept + 1
    assert body["resourceType"] == "DocumentReference" and body["id"], body
    assert response.headers["location"].endswith(f"/DocumentReference/{body['id']}/_history/1")
    stored = team.send("GET", f"DocumentReference/{body['id']}")
    read = answered(stored)
    assert stored.status_code == 200, stored.text
    [related] = read["context"]["related"]
    assert related["reference"] == f"ServiceRequest/{request_id}", related
    sent = body["content"][0]["attachment"]["data"]
    assert base64.b64decode(read["content"][0]["attachment"]["data"]) == base64.b64decode(
        "".join(sent.split())
    )


def check_coherent(team: Team, request_id: str) -> None:
    """The facade and the case API agree on the request, and every output is advice for it."""
    task = team.read(request_id)
    view = team.authority_view(request_id)
    assert task["status"] == view["status"]
    assert task["meta"]["versionId"] == str(view["version"])
    assert [n["text"] for n in task.get("note", [])] == view["notes"]
    outputs = [o["valueReference"]["reference"] for o in task.get("output", [])]
    assert outputs == [f"DocumentReference/{d}" for d in view["documents"]]
    for reference in outputs:
        document = team.send("GET", reference)
        assert document.status_code == 200, document.text
        assert answered(document)["context"]["related"] == [
            {"reference": f"ServiceRequest/{request_id}"}
        ]
    if task["status"] == "completed":
        assert outputs, "completed without its advice"


@pytest.fixture
def team(store: Store, database_url: str) -> Iterator[Team]:
    app = create_app(Settings(database_url=database_url, policy="sutton"), store, logging=False)
    with TestClient(app) as client:
        made = Team(Api(client, store))
        yield made
        # After all that: every request the team was given still reads as one coherent story,
        # and the other organisation's, which the team cannot see, was never touched.
        for request_id in made.case_of:
            if request_id != made.foreign_id:
                check_coherent(made, request_id)
        foreign = made.authority_view(made.foreign_id)
        assert (foreign["status"], foreign["version"], foreign["documents"]) == ("requested", 1, [])


# --- properties --------------------------------------------------------------------------------


@SETTINGS
@given(document=json_values)
def test_a_put_of_any_json_value_is_refused_cleanly(team: Team, document: Any) -> None:
    before = team.live_task()
    check_task_write(team, before, team.send("PUT", f"Task/{before['id']}", encode(document)))


@SETTINGS
@given(data=st.data())
def test_a_put_of_the_task_changed_at_random_is_taken_whole_or_refused(
    team: Team, data: st.DataObject
) -> None:
    before = team.live_task()
    body = data.draw(mutated_task(before), label="body")
    version = data.draw(if_match, label="If-Match")
    headers = {} if version is None else {"If-Match": version.encode("latin-1")}
    response = team.send("PUT", f"Task/{before['id']}", encode(body), **headers)
    check_task_write(team, before, response)


@SETTINGS
@given(status=st.sampled_from(sorted(R4_TASK_STATUSES)), note=st.text(max_size=20))
def test_a_put_of_each_status_moves_only_as_the_transitions_allow(
    team: Team, status: str, note: str
) -> None:
    before = team.live_task()
    body = {**before, "status": status, "note": [*before.get("note", []), {"text": note}]}
    check_task_write(team, before, team.send("PUT", f"Task/{before['id']}", encode(body)))


@SETTINGS
@given(data=st.data())
def test_a_json_patch_of_any_shape_is_taken_whole_or_refused(
    team: Team, data: st.DataObject
) -> None:
    before = team.live_task()
    document = data.draw(json_patches, label="patch")
    response = team.send("PATCH", f"Task/{before['id']}", encode(document), JSON_PATCH)
    check_task_write(team, before, response)
    if not isinstance(document, list):  # RFC 6902: a JSON Patch document is an array
        assert response.status_code == 400, response.text


@SETTINGS
@given(
    document=merge_patches,
    media=st.sampled_from([MERGE_PATCH, "application/json", "application/merge-patch+json; x=1"]),
)
def test_a_merge_patch_of_any_shape_is_taken_whole_or_refused(
    team: Team, document: Any, media: str
) -> None:
    before = team.live_task()
    response = team.send("PATCH", f"Task/{before['id']}", encode(document), media)
    check_task_write(team, before, response)


WRITES = [
    ("PUT", FHIR_JSON),
    ("PUT", "application/json"),
    ("PATCH", JSON_PATCH),
    ("PATCH", MERGE_PATCH),
    ("PATCH", "application/json"),
    ("POST", FHIR_JSON),
]


@SETTINGS
@given(
    write=st.sampled_from(WRITES),
    media=st.none() | st.from_regex(r"[ -~]{0,40}", fullmatch=True),
    raw=st.one_of(
        st.binary(max_size=300),
        st.sampled_from(
            [
                b"",
                b"null",
                b"{",
                b"[",
                b'"\xff"',
                b"\xef\xbb\xbf{}",
                b"[" * 5_000,
                b'{"resourceType": "Task", "extension": ' + b"[" * 3_000 + b"]" * 3_000 + b"}",
                b'{"a": ' * 3_000 + b"1" + b"}" * 3_000,
            ]
        ),
        st.builds(lambda v, cut: encode(v)[:cut], json_values, st.integers(0, 40)),
    ),
)
def test_bytes_that_are_not_a_resource_are_refused_cleanly(
    team: Team, write: tuple[str, str], media: str | None, raw: bytes
) -> None:
    method, declared = write
    content_type = declared if media is None else media
    if method == "POST":
        kept = team.documents()
        response = team.send(method, "DocumentReference", raw, content_type)
        check_document_post(team, team.task_id, kept, response)
        return
    before = team.live_task()
    check_task_write(team, before, team.send(method, f"Task/{before['id']}", raw, content_type))


@SETTINGS
@given(write=st.sampled_from([w for w in WRITES if w[0] != "POST"]), data=st.data())
def test_no_write_reaches_another_organisations_task(
    team: Team, write: tuple[str, str], data: st.DataObject
) -> None:
    """The team cannot see RWD's request, so it cannot change it either, whatever it sends
    (the fixture checks afterwards that the request is as it was made)."""
    method, media = write
    shown = {**team.read(team.task_id), "id": team.foreign_id}
    body = data.draw(mutated_task(shown) | json_patches | merge_patches, label="body")
    response = team.send(method, f"Task/{team.foreign_id}", encode(body), media)
    answered(response)
    assert response.status_code == 404, response.text


@SETTINGS
@given(data=st.data())
def test_a_document_reference_changed_at_random_is_kept_whole_or_refused(
    team: Team, data: st.DataObject
) -> None:
    request_id = team.live_task()["id"]
    body = data.draw(mutated_document(request_id, team.foreign_id), label="body")
    kept = team.documents()
    response = team.send("POST", "DocumentReference", encode(body))
    check_document_post(team, request_id, kept, response)


@SETTINGS
@given(
    resource=st.sampled_from(sorted(SEARCHES)),
    data=st.data(),
)
def test_a_search_with_any_parameters_answers_a_searchset_of_the_teams_own(
    team: Team, resource: str, data: st.DataObject
) -> None:
    names = st.sampled_from(SEARCHES[resource]) | st.sampled_from(["_count", "x", ""])
    values = search_values | st.sampled_from([team.task_id, team.foreign_id])
    params = data.draw(st.lists(st.tuples(names, values), max_size=4), label="params")
    response = team.api.client.get(f"/fhir/R4/{resource}", headers=team.headers, params=params)
    body = answered(response)
    if response.status_code >= 400:
        return
    assert response.status_code == 200
    assert (body["resourceType"], body["type"]) == ("Bundle", "searchset"), body
    assert body["total"] == len(body["entry"])
    for entry in body["entry"]:
        found = entry["resource"]
        assert found["resourceType"] == resource
        assert entry["fullUrl"].endswith(f"/{resource}/{found['id']}")
        assert found["id"] != team.foreign_id, "another organisation's request was shown"
        who = found["owner"] if resource == "Task" else found["performer"][0]
        assert who["reference"] == f"Organization/{ODS}"


# Raw query text as a client might send it, escapes and all, well formed or not.
QUERY_PIECES = ["%FF", "%00", "%zz", "%", "%C3%28", "%E2%82", "+", "&&", "==", ";", "%2C", "\\"]
PLAUSIBLE_PIECES = ["active", "requested", "finished", ODS, f"Organization%2F{ODS}", "9434765919"]
query_pieces = st.from_regex(r"[ -~]{0,30}", fullmatch=True) | st.sampled_from(
    [*QUERY_PIECES, *PLAUSIBLE_PIECES, "|"]
)
raw_queries = st.from_regex(r"[ -~]{0,80}", fullmatch=True) | st.lists(
    st.tuples(
        st.sampled_from(sorted({n for names in SEARCHES.values() for n in names})) | query_pieces,
        st.lists(query_pieces, max_size=3).map("".join),
    ),
    max_size=4,
).map(lambda pairs: "&".join(f"{name}={value}" for name, value in pairs))


@SETTINGS
@given(query=raw_queries, resource=st.sampled_from(sorted(SEARCHES)))
def test_a_search_with_any_query_string_is_answered_cleanly(
    team: Team, query: str, resource: str
) -> None:
    response = team.send("GET", f"{resource}?{query.replace('#', '%23')}")
    body = answered(response)
    if response.status_code == 200:
        assert (body["resourceType"], body["type"]) == ("Bundle", "searchset"), body


@settings(SETTINGS, max_examples=25)
@given(data=st.data())
def test_after_any_sequence_of_inputs_the_request_is_coherent(
    team: Team, data: st.DataObject
) -> None:
    request_id = team.new_request()
    for _ in range(data.draw(st.integers(1, 8), label="steps")):
        before = team.read(request_id)
        kind = data.draw(
            st.sampled_from(["put", "json-patch", "merge-patch", "document", "bytes", "advice"]),
            label="kind",
        )
        path = f"Task/{request_id}"
        if kind == "put":
            body = data.draw(mutated_task(before) | json_values)
            check_task_write(team, before, team.send("PUT", path, encode(body)))
        elif kind == "json-patch":
            body = data.draw(json_patches)
            check_task_write(team, before, team.send("PATCH", path, encode(body), JSON_PATCH))
        elif kind == "merge-patch":
            body = data.draw(merge_patches)
            check_task_write(team, before, team.send("PATCH", path, encode(body), MERGE_PATCH))
        elif kind == "bytes":
            raw = data.draw(st.binary(max_size=200))
            check_task_write(team, before, team.send("PUT", path, raw))
        else:
            body = (
                document_body(request_id)
                if kind == "advice"
                else data.draw(mutated_document(request_id, team.foreign_id))
            )
            kept = team.documents()
            response = team.send("POST", "DocumentReference", encode(body))
            check_document_post(team, request_id, kept, response)
            if response.status_code == 201 and data.draw(st.booleans(), label="complete"):
                document_id = answered(response)["id"]
                current = team.read(request_id)
                done = {
                    **current,
                    "status": "completed",
                    "output": [
                        {"valueReference": {"reference": f"DocumentReference/{document_id}"}}
                    ],
                }
                check_task_write(team, current, team.send("PUT", path, encode(done)))
    check_coherent(team, request_id)
