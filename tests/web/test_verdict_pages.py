"""One verdict on every screen support reads: appointment page, lookup list, reminders list, ticket, API."""
from datetime import datetime, timedelta, timezone

from portal.extensions import db
from portal.models import Reminder


def _lookup(api, make, tenants, language="de", **query):
    client = api(make.token(tenants["support"]))
    response = client.get("/lookup", query_string=query, headers={"Accept-Language": language})
    assert response.status_code == 200, response.json
    return response.json["appointments"]


def test_a_cancellation_after_delivery_is_said_everywhere(api, make, tenants, sent_reminder, as_user):
    [found] = _lookup(api, make, tenants, phone="0170 1234567")
    assert (found["verdict"], found["sent_before_change"]) == ("delivered", False)
    assert found["conclusion"].startswith("SMS am ") and found["conclusion"].endswith("an +49 170 ****567 zugestellt.")

    program = api(make.practice_key(tenants["practice"]))
    assert program.delete("/appointments/T-1001").status_code in (200, 204)
    [found] = _lookup(api, make, tenants, phone="0170 1234567")
    assert (found["verdict"], found["sent_before_change"]) == ("delivered", True)
    # ... and the patient is told by a change notice (see tests/web/test_notice_pages.py)
    assert "zugestellt; der Termin wurde danach abgesagt; Änderungs-SMS (Termin abgesagt): " in found["conclusion"]
    assert found["summary"].splitlines()[0] == found["conclusion"]
    [english] = _lookup(api, make, tenants, language="en", phone="0170 1234567")
    assert "; the appointment was cancelled afterwards; change notice (appointment cancelled): " in english["conclusion"]

    client = as_user(tenants["support"])
    page = client.get(f"/support/appointments/{sent_reminder['appointment'].id}").get_data(as_text=True)
    assert 'id="verdict" data-verdict="delivered" data-sent-before-change="true"' in page
    assert found["conclusion"] in page and 'id="sent-before-change"' in page
    assert "Termin abgesagt" in page and "Termin nicht abgesagt" not in page
    listing = client.get("/support/", query_string={"phone": "0170 1234567"}).get_data(as_text=True)
    assert found["conclusion"] in listing
    reminders = as_user(tenants["admin"]).get("/settings/practices/nord-1/reminders").get_data(as_text=True)
    reminders = reminders.split("<tbody>")[1]  # the rows, not the status filter
    assert 'data-verdict="delivered"' in reminders and "danach geändert" in reminders
    assert "An SMS-Anbieter übergeben" not in reminders


def test_never_consented_and_withdrawn_are_different_answers(api, make, tenants, as_user):
    program = api(make.practice_key(tenants["practice"]))
    start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0).isoformat()
    person = {"first_name": "Christa", "salutation": "Frau", "mobile": "0170 7654321"}
    assert program.put("/patients/never", json={**person, "last_name": "Nie", "sms_consent": False}).status_code == 200
    assert program.put("/patients/took-back", json={**person, "last_name": "Zurück", "sms_consent": True}).status_code == 200
    assert program.put("/patients/took-back", json={**person, "last_name": "Zurück", "sms_consent": False}).status_code == 200
    for patient in ("never", "took-back"):
        assert program.put(f"/appointments/a-{patient}", json={"patient": patient, "start": start}).status_code in (200, 201)

    [never] = _lookup(api, make, tenants, name="Nie")
    [withdrawn] = _lookup(api, make, tenants, name="Zurück")
    assert never["verdict"] == withdrawn["verdict"] == "not_sent"
    assert never["conclusion"] == "Keine SMS gesendet: der Patient hat nie in SMS eingewilligt."
    assert withdrawn["conclusion"].startswith("Keine SMS gesendet: der Patient hat die Einwilligung zu SMS am ")
    client = as_user(tenants["support"])
    never_page = client.get(f"/support/appointments/{never['id']}").get_data(as_text=True)
    assert "Patient hat nie in SMS eingewilligt" in never_page and "widerrufen" not in never_page
    withdrawn_page = client.get(f"/support/appointments/{withdrawn['id']}").get_data(as_text=True)
    assert "Einwilligung zu SMS widerrufen" in withdrawn_page and "nie in SMS eingewilligt" not in withdrawn_page


def test_a_refusal_is_not_listed_as_sent_and_says_what_to_do(make, tenants, as_user):
    patient = make.patient(tenants["practice"], mobile="0170 1234567")
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    appointment = make.appointment(patient, start)
    db.session.add(Reminder(
        practice_id=patient.practice_id, appointment=appointment, start_at=start, status="failed",
        reason="provider_error", submit_started_at=start - timedelta(hours=16), body="Frau Mustermann, …",
        recipient="+491701234567", provider_error_code="9", provider_error_text="no (correct) recipients found"))
    db.session.commit()
    page = as_user(tenants["support"]).get(f"/support/appointments/{appointment.id}").get_data(as_text=True)
    assert 'data-verdict="refused"' in page and "Vom SMS-Anbieter abgelehnt" in page
    assert "Fehlercode 9: Empfänger ungültig" in page and "Handynummer mit dem Patienten zu prüfen" in page
    assert 'id="text-sent">Noch nichts gesendet.' in page and 'id="text-now"' not in page
    assert 'data-check="sent_count">Gesendete SMS für diese Terminzeit: <span>0</span>' in page


def test_the_timeline_explains_the_providers_english(as_user, tenants, sent_reminder):
    from portal.models import AppointmentEvent

    appointment, reminder = sent_reminder["appointment"], sent_reminder["reminder"]
    db.session.add_all([
        AppointmentEvent(appointment_id=appointment.id, practice_id=appointment.practice_id, reminder_id=reminder.id,
                         kind="delivery_report", data={"status": "sent", "reason": "pending DLR", "error_code": None}),
        AppointmentEvent(appointment_id=appointment.id, practice_id=appointment.practice_id, reminder_id=reminder.id,
                         kind="delivery_report", data={"status": "delivery_failed", "reason": "unknown subscriber",
                                                       "error_code": "1"}),
    ])
    db.session.commit()
    page = as_user(tenants["support"]).get(f"/support/appointments/{appointment.id}").get_data(as_text=True)
    timeline = page.split('id="timeline"')[1].split("</ol>")[0]
    assert "Zustellbestätigung steht noch aus" in timeline and "unbekannter Teilnehmer" in timeline
    assert "pending DLR" not in timeline and "(unknown subscriber)" not in timeline


def test_after_a_move_the_new_reminder_is_still_ahead(make, tenants, as_user, sent_reminder):
    from portal import planning

    appointment = sent_reminder["appointment"]
    appointment.start_at = appointment.start_at + timedelta(days=2)
    planning.plan_appointment(appointment)
    db.session.commit()
    page = as_user(tenants["support"]).get(f"/support/appointments/{appointment.id}").get_data(as_text=True)
    assert 'data-verdict="delivered" data-sent-before-change="true"' in page
    assert "der Termin wurde danach verschoben; zur neuen Uhrzeit: SMS für " in page
    assert 'id="text-now">' in page and 'id="text-sent">Frau Mustermann' in page
