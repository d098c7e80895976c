"""GET /api/v1/lookup for the vendor's ticket system."""
from datetime import timedelta

from sqlalchemy import event, select

from portal.extensions import db
from portal.models import AuditEntry


def test_support_token_finds_appointment_with_reminders_and_timeline(api, make, tenants, sent_reminder):
    client = api(make.token(tenants["support"]))
    response = client.get("/lookup", query_string={"phone": "+49 (170) 123-4567"})
    assert response.status_code == 200, response.json
    [found] = response.json["appointments"]
    assert found["external_id"] == "T-1001" and found["practice"] == "nord-1"
    assert found["patient"]["mobile"] == "+49 170 ****567"
    [reminder] = found["reminders"]
    assert (reminder["status"], reminder["delivery_status"], reminder["message_id"]) == (
        "submitted", "delivered", "mb-msg-4711")
    assert reminder["body"].startswith("Frau Mustermann")
    assert [event["kind"] for event in found["timeline"]] == ["created", "planned", "submitted", "delivery_report"]
    assert {check["check"]: check["ok"] for check in found["checklist"]}["licence"] is True
    assert "T-1001" in found["summary"]
    assert response.json["more"] is False
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "lookup.api")).one()
    assert entry.after == {"parameters": ["phone"], "results": 1}
    assert reminder["recipient"] == "+49 170 ****567"
    assert "1234567" not in response.get_data(as_text=True)
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "phone.reveal")).all() == []


def test_reveal_shows_full_numbers_and_audits_each_patient(api, make, tenants, sent_reminder):
    practice = tenants["practice"]
    second = make.appointment(sent_reminder["patient"], sent_reminder["appointment"].start_at + timedelta(days=7))
    typo = make.patient(practice, external_id="P-78", mobile="0170 12345O7", last_name="Mustermann")
    make.appointment(typo, sent_reminder["appointment"].start_at + timedelta(days=1))
    client = api(make.token(tenants["support"]))
    response = client.get("/lookup", query_string={"name": "Mustermann", "reveal": "true"})
    assert response.status_code == 200, response.json
    mobiles = {found["patient"]["id"]: found["patient"]["mobile"] for found in response.json["appointments"]}
    assert mobiles == {"P-77": "+491701234567", "P-78": "0170 12345O7"}
    assert len(response.json["appointments"]) == 3 and second.id
    [reminder] = [row for found in response.json["appointments"] for row in found["reminders"]]
    assert reminder["recipient"] == "+491701234567"
    reveals = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "phone.reveal")).all()
    assert sorted(entry.after["patient"] for entry in reveals) == ["P-77", "P-78"]
    assert {entry.actor for entry in reveals} == {"support@example.org"}
    masked = client.get("/lookup", query_string={"name": "Mustermann", "reveal": "false"})
    assert {found["patient"]["mobile"] for found in masked.json["appointments"]} == {"+49 170 ****567", "0170****5O7"}
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "phone.reveal")).all()) == 2
    assert client.get("/lookup?name=x&reveal=perhaps").status_code == 422


def test_every_parameter_narrows_the_search(api, make, tenants, sent_reminder):
    client = api(make.token(tenants["vendor"]))
    day = sent_reminder["appointment"].start_at.date().isoformat()
    for query, expected in [
        ({"name": "Mustermann"}, 1), ({"appointment": "T-1001"}, 1), ({"message_id": "mb-msg-4711"}, 1),
        ({"practice": "nord-1", "from": "2000-01-01", "to": "2100-01-01"}, 1), ({"practice": "sued-1"}, 0),
        ({"message_id": "unknown"}, 0), ({"from": "2100-01-01"}, 0),
    ]:
        response = client.get("/lookup", query_string=query)
        assert response.status_code == 200 and len(response.json["appointments"]) == expected, (query, day)


def test_group_admin_token_sees_only_its_group(api, make, tenants, sent_reminder):
    assert len(api(make.token(tenants["admin"])).get("/lookup?appointment=T-1001").json["appointments"]) == 1
    assert api(make.token(tenants["stranger"])).get("/lookup?appointment=T-1001").json["appointments"] == []
    stranger = api(make.token(tenants["stranger"]))
    for query in ["practice=nord-1", "practice=nord-1&reveal=true", "phone=0170 1234567&reveal=true"]:
        response = stranger.get("/lookup?" + query)
        assert response.status_code == 200 and response.json["appointments"] == [], query
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "phone.reveal")).all() == []


def test_refusals(api, make, tenants):
    assert api().get("/lookup?name=x").status_code == 401
    assert api(make.practice_key(tenants["practice"])).get("/lookup?name=x").status_code == 403
    token = api(make.token(tenants["support"]))
    nothing = token.get("/lookup")
    assert nothing.status_code == 200 and nothing.json == {"appointments": [], "more": False}
    control = token.get("/lookup", query_string={"name": "a\x00b"})
    assert control.status_code == 422 and control.mimetype == "application/problem+json"
    assert token.get("/lookup?colour=red").status_code == 422
    assert token.get("/lookup?from=yesterday").status_code == 422
    assert token.get("/lookup?name=x&limit=1000").status_code == 422


def test_lookup_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/lookup"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"phone", "name", "appointment", "message_id", "practice", "from", "to", "reveal"} <= names


def test_the_answer_is_built_before_the_audit_commit(api, make, tenants, sent_reminder):
    """Committing the audit entry expires what was loaded: nothing may be read again after it."""
    client = api(make.token(tenants["support"]))
    happened = []

    def statement(_connection, _cursor, text, *_args):
        happened.append(text.split()[0])

    def commit(_connection):
        happened.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        response = client.get("/lookup", query_string={"name": "Mustermann", "reveal": "true"})
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
    assert response.status_code == 200 and response.json["appointments"][0]["patient"]["mobile"] == "+491701234567"
    audit_commit = max(index for index, done in enumerate(happened) if done == "COMMIT")
    assert "INSERT" in happened[:audit_commit]
    assert "SELECT" not in happened[audit_commit:], happened
