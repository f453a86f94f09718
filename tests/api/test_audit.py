"""Subject access: who saw or changed a child's record, when, why and which parts; and the log
itself cannot be rewritten."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.store.schema import audit_log
from tests.api.conftest import Api
from tests.support import child_json


def test_who_saw_this_record_is_answered_from_the_audit_log(api: Api) -> None:
    officer = api.token("cases:write", "cases:read")
    admin = api.token("admin")
    child = api.client.post("/api/v1/children", headers=officer, json=child_json(1)).json()
    api.client.get(f"/api/v1/children/{child['id']}", headers=officer)
    case = api.client.post(
        "/api/v1/cases",
        headers=officer,
        json={"child_id": child["id"], "reason": "illness", "source": "school", "summary": "s"},
    ).json()
    api.client.get(f"/api/v1/cases/{case['id']}", headers=officer)
    other = api.client.post("/api/v1/children", headers=officer, json=child_json(2)).json()
    api.client.get(f"/api/v1/children/{other['id']}", headers=officer)

    answer = api.client.get("/api/v1/admin/audit", headers=admin, params={"child_id": child["id"]})
    assert answer.status_code == 200, answer.text
    entries = answer.json()["entries"]
    seen = [(e["action"], e["purpose"]) for e in entries]
    assert ("create", "child record") in seen
    assert ("read", "child record") in seen
    assert ("read", "case work") in seen
    assert all(e["client_name"] == "client-1" for e in entries)
    read = next(e for e in entries if e["action"] == "read" and e["purpose"] == "child record")
    assert "identity" in read["fields"]
    assert len(entries) == len([e for e in entries if e["endpoint"]])  # each names its endpoint
    refused = api.client.get(
        "/api/v1/admin/audit", headers=officer, params={"child_id": child["id"]}
    )
    assert refused.status_code == 403
    unknown = api.client.get("/api/v1/admin/audit", headers=admin, params={"child_id": "nobody"})
    assert unknown.status_code == 404


def test_the_audit_log_cannot_be_changed_or_deleted(api: Api) -> None:
    officer = api.token("cases:write")
    api.client.post("/api/v1/children", headers=officer, json=child_json(3))
    for statement in (
        audit_log.update().values(client_name="someone else"),
        audit_log.delete(),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), api.store.engine.begin() as c:
            c.execute(statement)
    with api.store.engine.connect() as connection:
        names = connection.execute(sa.select(audit_log.c.client_name)).scalars().all()
    assert names and set(names) == {"client-1"}
