"""Vendor pages: groups and practices, licences with history, API keys, users, usage."""
import re
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import event, select

from portal.credentials import authenticate
from portal.extensions import db
from portal.models import AuditEntry, Licence, Practice, Reminder, User


def test_create_group_and_practice(as_user, tenants):
    client = as_user(tenants["vendor"])
    response = client.post("/admin/groups", data={"group-slug": "west", "group-name": "Gruppe West"})
    assert response.status_code == 302
    response = client.post("/admin/practices", data={"practice-group": "west", "practice-slug": "west-1",
                                                      "practice-name": "Praxis West", "practice-phone": "0211 1"})
    assert response.headers["Location"].endswith("/admin/practices/west-1")
    practice = db.session.scalars(select(Practice).where(Practice.slug == "west-1")).one()
    assert practice.group.slug == "west"
    assert "Praxis West" in client.get("/admin/practices").get_data(as_text=True)
    duplicate = client.post("/admin/groups", data={"group-slug": "west", "group-name": "Noch mal"})
    assert duplicate.status_code == 422 and "gibt es schon" in duplicate.get_data(as_text=True)
    bad = client.post("/admin/practices", data={"practice-group": "west", "practice-slug": "Bad Slug!",
                                                 "practice-name": "X"})
    assert bad.status_code == 422


def test_licence_grant_extend_suspend_revoke_with_history(as_user, tenants, make):
    practice = make.practice(group=tenants["home"], slug="neu")
    client = as_user(tenants["vendor"])
    today = date.today()
    steps = [
        {"action": "grant", "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=30)).isoformat(),
         "monthly_quota": "500"},
        {"action": "extend", "valid_until": (today + timedelta(days=400)).isoformat()},
        {"action": "suspend"},
        {"action": "revoke"},
    ]
    for data in steps:
        assert client.post("/admin/practices/neu/licence", data=data).status_code == 302, data
    history = db.session.scalars(select(Licence).where(Licence.practice_id == practice.id).order_by(Licence.id)).all()
    assert [row.status for row in history] == ["active", "active", "suspended", "revoked"]
    assert history[1].valid_until == today + timedelta(days=400) and history[1].monthly_quota == 500
    assert all(row.created_by_id == tenants["vendor"].id for row in history)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_key == "neu")).all()
    assert actions == ["licence.grant", "licence.extend", "licence.suspend", "licence.revoke"]
    page = client.get("/admin/practices/neu").get_data(as_text=True)
    assert page.count("vendor@example.org") >= 4 and "widerrufen" in page


def test_licence_form_refuses_bad_input(as_user, tenants, make):
    practice = make.practice(group=tenants["home"], slug="leer")
    client = as_user(tenants["vendor"])
    assert client.post("/admin/practices/leer/licence", data={"action": "extend"}).status_code == 422
    backwards = client.post("/admin/practices/leer/licence", data={
        "action": "grant", "valid_from": "2026-05-01", "valid_until": "2026-04-01"})
    assert backwards.status_code == 422
    assert db.session.scalar(select(Licence.id).where(Licence.practice_id == practice.id)) is None


def test_granting_a_licence_replans_reminders(as_user, tenants, make):
    practice = make.practice(group=tenants["home"], slug="replan", sms_enabled=True)
    patient = make.patient(practice)
    make.appointment(patient, datetime.now(timezone.utc) + timedelta(days=5))
    client = as_user(tenants["vendor"])
    client.post("/admin/practices/replan/licence", data={"action": "grant"})
    reminder = db.session.scalars(select(Reminder).where(Reminder.practice_id == practice.id)).one()
    assert reminder.status == "planned"
    client.post("/admin/practices/replan/licence", data={"action": "suspend"})
    db.session.refresh(reminder)
    assert (reminder.status, reminder.reason) == ("skipped", "no_licence")


def test_api_key_is_shown_once_and_can_be_revoked(as_user, tenants):
    client = as_user(tenants["vendor"])
    page = client.post("/admin/practices/nord-1/api-keys", data={"label": "Empfang"}).get_data(as_text=True)
    secret = re.search(r'<code id="new-key">([^<]+)</code>', page).group(1)
    assert authenticate(secret).practice_id == tenants["practice"].id
    again = client.get("/admin/practices/nord-1").get_data(as_text=True)
    assert secret not in again and secret[:10] in again and "Empfang" in again
    key_id = re.search(r"/api-keys/(\d+)/revoke", again).group(1)
    assert client.post(f"/admin/practices/nord-1/api-keys/{key_id}/revoke").status_code == 302
    assert authenticate(secret) is None


def test_foreign_key_cannot_be_revoked_through_another_practice(as_user, tenants, make):
    secret = make.practice_key(tenants["other"])
    key = authenticate(secret).practice_key
    client = as_user(tenants["vendor"])
    assert client.post(f"/admin/practices/nord-1/api-keys/{key.id}/revoke").status_code == 404


def test_users_create_change_and_token(as_user, tenants):
    client = as_user(tenants["vendor"])
    response = client.post("/admin/users", data={"new-email": "Neu@Example.org", "new-role": "group_admin",
                                                 "new-group": "home", "new-password": "long enough pw"})
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.email == "neu@example.org")).one()
    assert user.group.slug == "home"
    refused = client.post("/admin/users", data={"new-email": "x@example.org", "new-role": "group_admin",
                                                "new-group": "", "new-password": "long enough pw"})
    assert refused.status_code == 422
    client.post(f"/admin/users/{user.id}", data={f"u{user.id}-role": "support", f"u{user.id}-group": "",
                                                 f"u{user.id}-active": "y"})
    db.session.refresh(user)
    assert (user.role, user.group_id, user.active) == ("support", None, True)
    page = client.post(f"/admin/users/{user.id}/token", data={"label": "Tickets"}).get_data(as_text=True)
    secret = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    assert authenticate(secret).user.id == user.id
    listed = client.get("/admin/users").get_data(as_text=True)
    assert secret not in listed and secret[:10] in listed
    token_id = re.search(rf"/admin/users/{user.id}/tokens/(\d+)/revoke", listed).group(1)
    assert client.post(f"/admin/users/{tenants['vendor'].id}/tokens/{token_id}/revoke").status_code == 404
    assert client.post(f"/admin/users/{user.id}/tokens/{token_id}/revoke").status_code == 302
    assert authenticate(secret) is None
    client.post(f"/admin/users/{user.id}", data={f"u{user.id}-role": "support", f"u{user.id}-group": ""})
    db.session.refresh(user)
    assert user.active is False
    me = tenants["vendor"]
    client.post(f"/admin/users/{me.id}", data={f"u{me.id}-role": "support", f"u{me.id}-active": "y"})
    db.session.refresh(me)
    assert me.role == "vendor_admin"


def test_usage_counts_per_day_and_practice(as_user, tenants, sent_reminder, make):
    practice = tenants["practice"]
    tried = datetime.now(timezone.utc) - timedelta(hours=1)
    failed = Reminder(practice_id=practice.id, appointment=sent_reminder["appointment"],
                      start_at=sent_reminder["reminder"].start_at - timedelta(days=1), status="failed",
                      reason="provider_error", due_at=tried, claimed_at=tried, submit_started_at=tried)
    db.session.add(failed)
    db.session.commit()
    client = as_user(tenants["vendor"])
    page = client.get("/admin/usage?days=30").get_data(as_text=True)
    assert "<svg" in page and "polyline" in page
    # The refusal is no submission: it stands apart, not among the failed deliveries.
    assert _practice_row(page) == ("1", "1", "0", "0", "1", "0")
    single = client.get("/admin/usage?practice=nord-1").get_data(as_text=True)
    assert "polyline" in single
    assert client.get("/admin/usage?practice=nope").status_code == 404


def test_usage_of_one_practice_reads_only_that_practice(as_user, tenants, sent_reminder):
    """With a practice chosen, its figures stand alone: no all-practice totals are counted or shown."""
    client = as_user(tenants["vendor"])
    statements = []

    def note(_connection, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        page = client.get("/admin/usage?practice=nord-1&days=30").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert not [statement for statement in statements if "FROM reminders" in statement and "count(" in statement]
    counts = [(statement, parameters) for statement, parameters in statements if "FROM usage_d" in statement]
    assert len(counts) == 6  # the chart, the table and its total: the daily totals and the changes not folded yet
    for statement, parameters in counts:
        assert re.search(r"practice_id (= |IN \()", statement), statement
        values = parameters.values() if isinstance(parameters, dict) else parameters
        assert tenants["practice"].id in values or [tenants["practice"].id] in values
    assert _practice_row(page) == ("1", "1", "0", "0", "0", "0")
    assert "Praxis Süd</a>" not in page
    assert "Praxis Süd</a>" in client.get("/admin/usage?days=30").get_data(as_text=True)


def test_usage_of_many_practices_comes_a_page_at_a_time_with_the_total_of_all(as_user, tenants, sent_reminder, make,
                                                                             monkeypatch):
    """A vendor with thousands of practices gets fifty rows per page, the total row counts every practice,
    and the practice is typed, not picked from thousands of options."""
    from portal.web.admin import routes

    monkeypatch.setattr(routes, "CHOOSER_LIMIT", 50)
    for number in range(55):
        make.practice(group=tenants["home"], slug=f"zz-{number:02}", name=f"Zahnpraxis {number:02}")
    other = make.appointment(make.patient(tenants["other"]), sent_reminder["reminder"].start_at)
    make.reminder(other, status="submitted", submit_started_at=sent_reminder["reminder"].submitted_at,
                  submitted_at=sent_reminder["reminder"].submitted_at)
    db.session.commit()
    client = as_user(tenants["vendor"])
    first = client.get("/admin/usage?days=30").get_data(as_text=True)
    second = client.get("/admin/usage?days=30&page=2").get_data(as_text=True)
    rows = [re.findall(r'<a href="/admin/usage\?practice=([^&"]+)', page) for page in (first, second)]
    assert (len(rows[0]), len(rows[1])) == (50, 7)
    assert not set(rows[0]) & set(rows[1]) and {"nord-1", "sued-1"} <= set(rows[0]) | set(rows[1])
    assert "Page 1 of 2" in first or "Seite 1 von 2" in first
    assert '<select name="practice">' not in first and '<input type="search" name="practice"' in first
    chosen = client.get("/admin/usage?days=30&practice=zz-03").get_data(as_text=True)
    assert 'name="practice" value="zz-03"' in chosen and "Zahnpraxis 03</a>" in chosen
    monkeypatch.setattr(routes, "CHOOSER_LIMIT", 200)
    assert '<option value="zz-54"' in client.get("/admin/usage?days=30").get_data(as_text=True)
    for page in (first, second):
        total = re.search(r"<tfoot><tr><th>[^<]*</th>\s*" + r'<th class="num">(\d+)</th>' * 2, page).groups()
        assert total == ("2", "1")  # both practices' SMS on either page: submitted, delivered


def _practice_row(page: str, name: str = "Praxis Nord") -> tuple[str, ...]:
    """(submitted, delivered, delivery failed, pending, refused, outcome unknown) of the usage table."""
    row = re.search(name + r"</a></td>\s*" + r"<td class=\"num\">(\d+)</td>" * 6, page)
    return row.groups()


def test_usage_figures_add_up(as_user, tenants, sent_reminder, make):
    """submitted = delivered + failed delivery + pending; refusals and unknown outcomes apart."""
    practice = tenants["practice"]
    patient = sent_reminder["patient"]
    at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    for number, fields in enumerate([
        {"status": "submitted", "submitted_at": at, "delivery_status": "delivery_failed"},
        {"status": "submitted", "submitted_at": at, "delivery_status": "expired"},
        {"status": "submitted", "submitted_at": at, "delivery_status": "sent"},
        {"status": "submitted", "submitted_at": at},
        {"status": "failed", "reason": "provider_error", "provider_error_code": "9"},
        {"status": "failed", "reason": "provider_error", "provider_error_code": "outcome_unknown"},
        # The provider never answered: not sent, as the verdict says, and no refusal either.
        {"status": "failed", "reason": "provider_error", "provider_error_code": "retries_exhausted"},
    ]):
        appointment = make.appointment(patient, at + timedelta(days=3 + number))
        db.session.add(Reminder(practice_id=practice.id, appointment=appointment, start_at=appointment.start_at,
                                submit_started_at=at, claimed_at=at, due_at=at, **fields))
    db.session.commit()
    page = as_user(tenants["vendor"]).get("/admin/usage?days=30").get_data(as_text=True)
    assert _practice_row(page) == ("5", "1", "2", "2", "1", "1")


def test_an_old_failure_stays_on_its_day_after_a_purge(as_user, tenants, make):
    """Purge and erasure touch updated_at; the chart still counts the failure when it happened."""
    practice = tenants["practice"]
    patient = make.patient(practice, mobile="0170 1234567")
    tried = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=20)
    appointment = make.appointment(patient, tried + timedelta(hours=20))
    failed = Reminder(practice_id=practice.id, appointment=appointment, start_at=appointment.start_at,
                      status="failed", reason="provider_error", provider_error_code="21", due_at=tried,
                      claimed_at=tried, submit_started_at=tried)
    db.session.add(failed)
    db.session.commit()
    failed.body, failed.recipient, failed.purged_at = None, None, datetime.now(timezone.utc)
    db.session.commit()  # what the retention job does: updated_at is now today
    assert failed.updated_at.date() == datetime.now(timezone.utc).date()
    client = as_user(tenants["vendor"])
    assert _practice_row(client.get("/admin/usage?days=7").get_data(as_text=True)) == ("0",) * 6
    assert _practice_row(client.get("/admin/usage?days=30").get_data(as_text=True)) == ("0", "0", "0", "0", "1", "0")
