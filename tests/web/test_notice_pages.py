"""Support sees a change notice beside the reminder: in the answer, the reminders, the timeline,
the ticket summary and the lookup API, in German and English."""
from portal.extensions import db


def _cancelled(make, api, tenants, sent_reminder):
    program = api(make.practice_key(tenants["practice"]))
    assert program.delete("/appointments/T-1001", json={"change_source": "dialog"}).status_code in (200, 204)
    db.session.expire_all()
    return sent_reminder["appointment"]


def test_the_appointment_page_shows_the_pending_cancel_notice(as_user, tenants, sent_reminder, make, api):
    appointment = _cancelled(make, api, tenants, sent_reminder)

    page = as_user(tenants["support"]).get(f"/support/appointments/{appointment.id}").get_data(as_text=True)

    assert "der Termin wurde danach abgesagt; Änderungs-SMS (Termin abgesagt): SMS für " in page
    assert 'data-kind="cancelled_notice">Änderungs-SMS: Termin abgesagt</td>' in page
    assert "Änderungs-SMS: Termin abgesagt: geplant" in page  # the timeline
    assert 'data-check="notices_sent"' in page
    assert "(Änderungs-SMS: Termin abgesagt): " in page  # the summary's list of reminders


def test_the_page_in_english(as_user, tenants, sent_reminder, make, api):
    appointment = _cancelled(make, api, tenants, sent_reminder)
    client = as_user(tenants["support"])

    client.post("/language", data={"locale": "en"})

    page = client.get(f"/support/appointments/{appointment.id}").get_data(as_text=True)

    assert "change notice (appointment cancelled): SMS to +49 170 ****567 planned for " in page
    assert "change notice: appointment cancelled: planned" in page


def test_the_lookup_lists_the_notice_with_its_kind(tenants, sent_reminder, make, api):
    _cancelled(make, api, tenants, sent_reminder)
    support = api(make.token(tenants["support"]))

    [found] = support.get("/lookup", query_string={"appointment": "T-1001"}).json["appointments"]

    kinds = {row["kind"]: row for row in found["reminders"]}
    assert set(kinds) == {"reminder", "cancelled_notice"}
    notice = kinds["cancelled_notice"]
    assert (notice["status"], notice["start_at"]) == ("planned", kinds["reminder"]["start_at"])
    assert "Änderungs-SMS (Termin abgesagt)" in found["conclusion"]
    assert any(event["reminder_id"] == notice["id"] and event["kind"] == "planned" for event in found["timeline"])


def test_the_practice_reminders_list_names_the_notice(as_user, tenants, sent_reminder, make, api):
    _cancelled(make, api, tenants, sent_reminder)

    page = as_user(tenants["admin"]).get("/settings/practices/nord-1/reminders").get_data(as_text=True)

    assert '<small data-kind="cancelled_notice">Änderungs-SMS: Termin abgesagt</small>' in page
