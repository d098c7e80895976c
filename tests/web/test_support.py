"""The support lookup: search in every way, the appointment's timeline, checklist,
texts and summary, the audited reveal, re-plan and the audit log page."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal import planning
from portal.extensions import db
from portal.models import AuditEntry, Reminder


@pytest.mark.parametrize("query", [
    {"phone": "0170 1234567"}, {"phone": "+49 170 1234567"}, {"phone": "0049-170-1234567"},
    {"phone": "(0170) 123 45 67"}, {"name": "erika muster"}, {"appointment": "T-1001"},
    {"message_id": "mb-msg-4711"}, {"practice": "nord-1"},
])
def test_lookup_finds_the_appointment(as_user, tenants, sent_reminder, query):
    page = as_user(tenants["support"]).get("/support/", query_string=query).get_data(as_text=True)
    assert f"/support/appointments/{sent_reminder['appointment'].id}" in page, query
    assert "+49 170 ****567" in page and "+491701234567" not in page


def test_lookup_by_internal_id_and_date_range(as_user, tenants, sent_reminder):
    client = as_user(tenants["support"])
    appointment = sent_reminder["appointment"]
    link = f"/support/appointments/{appointment.id}"
    assert link in client.get("/support/", query_string={"appointment": str(appointment.id)}).get_data(as_text=True)
    day = appointment.start_at.astimezone(timezone.utc).date()
    inside = {"date_from": (day - timedelta(days=1)).isoformat(), "date_to": (day + timedelta(days=1)).isoformat()}
    outside = {"date_from": (day + timedelta(days=2)).isoformat()}
    assert link in client.get("/support/", query_string=inside).get_data(as_text=True)
    assert link not in client.get("/support/", query_string=outside).get_data(as_text=True)
    assert link not in client.get("/support/", query_string={"phone": "0171 0000000"}).get_data(as_text=True)


def test_appointment_page_answers_the_support_questions(as_user, tenants, sent_reminder):
    client = as_user(tenants["support"])
    page = client.get(f"/support/appointments/{sent_reminder['appointment'].id}").get_data(as_text=True)
    for kind in ["created", "planned", "submitted", "delivery_report"]:
        assert f'data-kind="{kind}"' in page
    assert "Drag &amp; Drop" not in page and "Termindialog in der Rezeptansicht" in page
    assert "Fehlercode 0" in page and "Zugestellt" in page
    for check in ["licence", "sms_enabled", "consent", "mobile", "appointment_tick", "program_seen", "sent_count"]:
        assert f'data-check="{check}"' in page
    assert 'id="text-sent">Frau Mustermann, wir erinnern an Ihren Termin.' in page
    # Delivered: nothing is still to be sent, so no "would be sent now" beside what was sent.
    assert 'id="text-now"' not in page and 'data-verdict="delivered"' in page
    assert "Checkliste:" in page and "mb-msg-4711" in page
    assert "+491701234567" not in page


def test_moved_and_skipped_events_read_as_words(as_user, tenants, sent_reminder):
    from portal.models import AppointmentEvent

    appointment = sent_reminder["appointment"]
    earlier = appointment.start_at - timedelta(days=1)
    db.session.add_all([
        AppointmentEvent(appointment_id=appointment.id, practice_id=appointment.practice_id, kind="moved",
                         change_source="calendar_drag",
                         data={"from": earlier.isoformat(), "to": appointment.start_at.isoformat()}),
        AppointmentEvent(appointment_id=appointment.id, practice_id=appointment.practice_id, kind="skipped",
                         data={"reason": "invalid_mobile"}),
    ])
    db.session.commit()
    page = as_user(tenants["support"]).get(f"/support/appointments/{appointment.id}").get_data(as_text=True)
    assert "verschoben per Drag &amp; Drop im Kalender von" in page
    assert "Erinnerung nicht gesendet (Handynummer ungültig)" in page


def test_reveal_shows_the_number_and_is_audited(as_user, tenants, sent_reminder):
    client = as_user(tenants["support"])
    page = client.post(f"/support/appointments/{sent_reminder['appointment'].id}/reveal").get_data(as_text=True)
    assert "+491701234567" in page
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "phone.reveal")).one()
    assert entry.actor == "support@example.org" and entry.object_key == "P-77"
    assert entry.group_id == tenants["home"].id


def test_replan_patient_and_practice(as_user, tenants, sent_reminder, make):
    patient = make.patient(tenants["practice"], mobile="0171 5555555")
    appointment = make.appointment(patient, datetime.now(timezone.utc) + timedelta(days=4))
    client = as_user(tenants["admin"])
    assert client.post(f"/support/patients/{patient.id}/replan").status_code == 302
    reminder = db.session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id)).one()
    assert reminder.status == "planned"
    assert client.post("/support/practices/nord-1/replan").status_code == 302
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "patient.replan" in actions and "practice.replan" in actions


def test_audit_log_is_scoped_to_the_group(as_user, tenants, sent_reminder):
    vendor = as_user(tenants["vendor"])
    vendor.post("/admin/practices/nord-1/licence", data={"action": "suspend"})
    vendor.post("/admin/practices/sued-1/licence", data={"action": "grant"})
    everything = vendor.get("/support/audit").get_data(as_text=True)
    assert "nord-1" in everything and "sued-1" in everything
    own = as_user(tenants["admin"]).get("/support/audit").get_data(as_text=True)
    assert "nord-1" in own and "sued-1" not in own
    filtered = vendor.get("/support/audit?action=licence.grant").get_data(as_text=True)
    assert "sued-1" in filtered and "licence.suspend" not in filtered


def test_ticket_summary_names_no_patient_and_masks_the_number(as_user, tenants, sent_reminder):
    page = as_user(tenants["support"]).get(f"/support/appointments/{sent_reminder['appointment'].id}")
    summary = page.get_data(as_text=True).split('id="summary">')[1].split("</pre>")[0]
    assert "Patient: ID P-77 im Praxisprogramm, Handy +49 170 ****567" in summary
    # The name appears only inside the SMS text, quoted as it was sent.
    text_line = next(line for line in summary.splitlines() if line.startswith("Gesendeter Text:"))
    assert "Mustermann" not in summary.replace(text_line, "").split("Erinnerungen:")[0]


def test_pages_in_english(as_user, tenants, sent_reminder):
    client = as_user(tenants["support"])
    client.post("/language", data={"locale": "en"})
    page = client.get(f"/support/appointments/{sent_reminder['appointment'].id}").get_data(as_text=True)
    assert "Checklist" in page and "Licence active" in page and "Delivered" in page


def test_lookup_results_are_paginated(as_user, tenants, make):
    patient = make.patient(tenants["practice"], last_name="Viele")
    start = datetime.now(timezone.utc) + timedelta(days=1)
    for number in range(55):
        make.appointment(patient, start + timedelta(hours=number), external_id=f"V-{number:03d}")
    client = as_user(tenants["support"])
    first = client.get("/support/", query_string={"name": "Viele"}).get_data(as_text=True)
    second = client.get("/support/", query_string={"name": "Viele", "page": 2}).get_data(as_text=True)
    assert first.count("/support/appointments/") == 50 and second.count("/support/appointments/") == 5
    assert "#V-054" in first and "#V-000" in second


def test_text_now_for_an_appointment_without_reminder_stores_nothing(as_user, tenants, make):
    patient = make.patient(tenants["practice"], mobile="017O 1234567", last_name="Tippfehler")
    appointment = make.appointment(patient, datetime.now(timezone.utc) + timedelta(days=2), therapist="Frau Lang")
    page = as_user(tenants["support"]).get(f"/support/appointments/{appointment.id}").get_data(as_text=True)
    assert 'id="text-now">Guten Tag Frau Tippfehler, Ihr Termin bei' in page
    assert 'id="blocked">Würde jetzt nicht gesendet: Handynummer ungültig' in page
    assert "enthält einen Buchstaben" in page
    assert db.session.scalar(select(Reminder.id).where(Reminder.appointment_id == appointment.id)) is None


@pytest.mark.parametrize("patient_fields, appointment_fields, reason, bad", [
    ({}, {}, None, set()),
    ({"mobile": "017O1234567"}, {}, "invalid_mobile", {"mobile"}),
    ({"mobile": None}, {}, "missing_mobile", {"mobile"}),
    ({"sms_consent": False}, {}, "no_consent", {"consent"}),
    ({}, {"sms_reminder": False}, "appointment_opt_out", {"appointment_tick"}),
    # A number in E.164 with a stale problem flag: planning sends, so the checklist says it is fine.
    ({"mobile_problem": "invalid_mobile"}, {}, None, set()),
])
def test_checklist_gives_the_answer_planning_decided_on(as_user, tenants, make, patient_fields, appointment_fields,
                                                        reason, bad):
    """The checklist reads the facts planning decides on, so it never contradicts the skip reason."""
    patient_fields = dict(patient_fields)
    stale_flag = patient_fields.pop("mobile_problem", None)
    patient = make.patient(tenants["practice"], **patient_fields)
    patient.mobile_problem = stale_flag or patient.mobile_problem
    appointment = make.appointment(patient, datetime.now(timezone.utc) + timedelta(days=3), **appointment_fields)
    reminder = planning.plan_appointment(appointment)
    db.session.commit()
    assert reminder.reason == reason
    page = as_user(tenants["support"]).get(f"/support/appointments/{appointment.id}").get_data(as_text=True)
    checks = dict(re.findall(r'<li class="(\w+)" data-check="(\w+)"', page))
    failing = {key for state, key in re.findall(r'<li class="(\w+)" data-check="(\w+)"', page)
               if state == "bad" and key in ("licence", "sms_enabled", "consent", "mobile", "appointment_tick",
                                              "not_cancelled")}
    assert checks and failing == bad
