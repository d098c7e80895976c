"""The verdict over every reminder state and every change after sending, in both languages."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from portal.domain.verdict import Context, decide, sending_ahead

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)  # 10:00 in Berlin
SENT = datetime(2026, 11, 25, 17, 2, tzinfo=timezone.utc)  # 18:02 in Berlin
NUMBER = "+491701234567"


def row(status, reason=None, start=START, **fields):
    values = dict(id=1, start_at=start, status=status, reason=reason, due_at=None, submit_started_at=None,
                  submitted_at=None, recipient=None, provider_error_code=None, provider_error_text=None,
                  delivery_status=None, delivery_status_at=None, delivered_at=None)
    values.update(fields)
    return SimpleNamespace(**values)


def sent(delivery_status=None, **fields):
    return row("submitted", submit_started_at=SENT, submitted_at=SENT, recipient=NUMBER,
               delivery_status=delivery_status, delivery_status_at=SENT + timedelta(seconds=20) if delivery_status
               else None, **fields)


def appointment(start=START, cancelled_at=None):
    return SimpleNamespace(start_at=start, cancelled_at=cancelled_at)


LATER = SENT + timedelta(hours=2)
MOVED = START + timedelta(days=1)
WITHDRAWN = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)

CASES = [
    # name, appointment, rows, consent withdrawn at, verdict, sent before change, German, English
    ("planned", appointment(), [row("planned", due_at=SENT)], None, "planned", False,
     "SMS für 25.11.2026 um 18:02 an +49 170 ****567 geplant.",
     "SMS to +49 170 ****567 planned for 25.11.2026 at 18:02."),
    ("no reminder at all", appointment(), [], None, "not_sent", False,
     "Keine SMS gesendet: für diesen Termin ist keine Erinnerung geplant.",
     "No SMS sent: no reminder is planned for this appointment."),
    *[(f"skipped: {reason}", appointment(), [row("skipped", reason)], None, "not_sent", False, german, english)
      for reason, german, english in [
          ("no_licence", "Keine SMS gesendet: Keine aktive SMS-Lizenz.", "No SMS sent: No active SMS licence."),
          ("sms_disabled", "Keine SMS gesendet: SMS-Erinnerungen sind für die Praxis ausgeschaltet.",
           "No SMS sent: SMS reminders are switched off for the practice."),
          ("missing_mobile", "Keine SMS gesendet: Keine Handynummer hinterlegt.",
           "No SMS sent: No mobile number on file."),
          ("invalid_mobile", "Keine SMS gesendet: Handynummer ungültig.", "No SMS sent: Invalid mobile number."),
          ("appointment_opt_out", "Keine SMS gesendet: SMS-Erinnerung für diesen Termin abgewählt.",
           "No SMS sent: SMS reminder unticked for this appointment."),
          ("too_late", "Keine SMS gesendet: Zu kurzfristig: Termin erst nach dem Erinnerungszeitpunkt übertragen.",
           "No SMS sent: Too late: the appointment arrived after its reminder was due."),
          ("quota_exceeded", "Keine SMS gesendet: Monatliches SMS-Kontingent ausgeschöpft.",
           "No SMS sent: Monthly SMS quota used up."),
      ]],
    ("never consented", appointment(), [row("skipped", "no_consent")], None, "not_sent", False,
     "Keine SMS gesendet: der Patient hat nie in SMS eingewilligt.",
     "No SMS sent: the patient never consented to SMS."),
    ("withdrawn before planning", appointment(), [row("skipped", "no_consent")], WITHDRAWN, "not_sent", False,
     "Keine SMS gesendet: der Patient hat die Einwilligung zu SMS am 20.11.2026 widerrufen.",
     "No SMS sent: the patient withdrew consent to SMS on 20.11.2026."),
    ("withdrawn after planning", appointment(), [row("cancelled", "consent_withdrawn")], WITHDRAWN, "not_sent", False,
     "Keine SMS gesendet: der Patient hat die Einwilligung zu SMS am 20.11.2026 widerrufen.",
     "No SMS sent: the patient withdrew consent to SMS on 20.11.2026."),
    ("cancelled before sending", appointment(cancelled_at=SENT), [row("cancelled", "appointment_cancelled")], None,
     "not_sent", False, "Keine SMS gesendet: Termin abgesagt.", "No SMS sent: Appointment cancelled."),
    ("erased", appointment(), [row("cancelled", "patient_erased")], None, "not_sent", False,
     "Keine SMS gesendet: Patientendaten gelöscht.", "No SMS sent: Patient data erased."),
    ("queued", appointment(), [row("queued", recipient=NUMBER)], None, "sending", False,
     "SMS an +49 170 ****567 wird gerade gesendet.", "SMS to +49 170 ****567 is being sent."),
    ("submitted", appointment(), [sent()], None, "submitted", False,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 an den SMS-Anbieter übergeben; noch keine Zustellbestätigung.",
     "SMS to +49 170 ****567 handed to the provider on 25.11.2026 at 18:02; no delivery confirmation yet."),
    ("submitted, only sent", appointment(), [sent("sent")], None, "submitted", False,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 an den SMS-Anbieter übergeben; noch keine Zustellbestätigung.",
     "SMS to +49 170 ****567 handed to the provider on 25.11.2026 at 18:02; no delivery confirmation yet."),
    ("delivered", appointment(), [sent("delivered", delivered_at=SENT)], None, "delivered", False,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 zugestellt.",
     "SMS delivered to +49 170 ****567 on 25.11.2026 at 18:02."),
    ("delivery failed", appointment(), [sent("delivery_failed")], None, "delivery_failed", False,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 übergeben, aber nicht zugestellt: "
     "Die Nummer ist nicht vergeben (unbekannter Teilnehmer).",
     "SMS to +49 170 ****567 handed to the provider on 25.11.2026 at 18:02 but not delivered: "
     "The number is not in use (unknown subscriber)."),
    ("expired, no report kept", appointment(), [sent("expired", id=3)], None, "delivery_failed", False,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 übergeben, aber nicht zugestellt: "
     "Nicht rechtzeitig zugestellt (Handy bis zum Termin nicht erreichbar).",
     "SMS to +49 170 ****567 handed to the provider on 25.11.2026 at 18:02 but not delivered: "
     "Not delivered in time (phone unreachable until the appointment)."),
    ("delivery failed, no report kept", appointment(), [sent("delivery_failed", id=3)], None, "delivery_failed",
     False, "SMS am 25.11.2026 um 18:02 an +49 170 ****567 übergeben, aber nicht zugestellt: "
     "Zustellung fehlgeschlagen, ohne nähere Angabe des Netzes.",
     "SMS to +49 170 ****567 handed to the provider on 25.11.2026 at 18:02 but not delivered: "
     "Delivery failed; the network gave no details."),
    ("refused by the provider", appointment(),
     [row("failed", "provider_error", submit_started_at=SENT, recipient=NUMBER, provider_error_code="9",
          provider_error_text="no (correct) recipients found")], None, "refused", False,
     "SMS an +49 170 ****567 vom SMS-Anbieter abgelehnt (Fehlercode 9: Empfänger ungültig oder Angabe fehlt: "
     "der Anbieter hat die SMS abgelehnt); nicht gesendet.",
     "SMS to +49 170 ****567 refused by the provider (error code 9: Recipient invalid or a parameter missing: "
     "the provider refused the SMS); not sent."),
    ("provider unreachable", appointment(),
     [row("failed", "provider_error", recipient=NUMBER, provider_error_code="retries_exhausted")], None,
     "not_sent", False,
     "Keine SMS gesendet: Anbieter wiederholt nicht erreichbar; die SMS wurde nie angenommen.",
     "No SMS sent: Provider repeatedly unreachable; the SMS was never accepted."),
    ("outcome unknown", appointment(),
     [row("failed", "provider_error", submit_started_at=SENT, recipient=NUMBER, provider_error_code="outcome_unknown")],
     None, "outcome_unknown", False,
     "Unklar, ob die SMS an +49 170 ****567 am 25.11.2026 um 18:02 gesendet wurde: keine Antwort des "
     "SMS-Anbieters; nicht erneut gesendet.",
     "Unclear whether the SMS to +49 170 ****567 on 25.11.2026 at 18:02 was sent: no answer from the provider; "
     "not resent."),
    ("cancelled after delivery", appointment(cancelled_at=LATER), [sent("delivered", delivered_at=SENT)], None,
     "delivered", True,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 zugestellt; der Termin wurde danach abgesagt.",
     "SMS delivered to +49 170 ****567 on 25.11.2026 at 18:02; the appointment was cancelled afterwards."),
    ("moved after delivery, new one planned", appointment(start=MOVED),
     [sent("delivered", delivered_at=SENT), row("planned", start=MOVED, id=2, due_at=SENT + timedelta(days=1))],
     None, "delivered", True,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 zugestellt; der Termin wurde danach verschoben; "
     "zur neuen Uhrzeit: SMS für 26.11.2026 um 18:02 an +49 170 ****567 geplant.",
     "SMS delivered to +49 170 ****567 on 25.11.2026 at 18:02; the appointment was moved afterwards; "
     "for the new time: SMS to +49 170 ****567 planned for 26.11.2026 at 18:02."),
    ("moved after delivery, new one too late", appointment(start=MOVED),
     [sent("delivered", delivered_at=SENT), row("skipped", "too_late", start=MOVED, id=2)], None, "delivered", True,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 zugestellt; der Termin wurde danach verschoben; "
     "zur neuen Uhrzeit: keine SMS gesendet: Zu kurzfristig: Termin erst nach dem Erinnerungszeitpunkt übertragen.",
     "SMS delivered to +49 170 ****567 on 25.11.2026 at 18:02; the appointment was moved afterwards; "
     "for the new time: no SMS sent: Too late: the appointment arrived after its reminder was due."),
    ("moved, then the new one delivered too", appointment(start=MOVED),
     [sent("delivered", delivered_at=SENT), sent("delivered", start=MOVED, id=2, delivered_at=LATER)], None,
     "delivered", False,
     "SMS am 25.11.2026 um 20:02 an +49 170 ****567 zugestellt.",
     "SMS delivered to +49 170 ****567 on 25.11.2026 at 20:02."),
    ("moved before sending", appointment(start=MOVED),
     [row("cancelled", "appointment_moved"), row("planned", start=MOVED, id=2, due_at=SENT)], None, "planned",
     False, "SMS für 25.11.2026 um 18:02 an +49 170 ****567 geplant.",
     "SMS to +49 170 ****567 planned for 25.11.2026 at 18:02."),
    ("moved and cancelled after sending", appointment(start=MOVED, cancelled_at=LATER),
     [sent(), row("cancelled", "appointment_cancelled", start=MOVED, id=2)], None, "submitted", True,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 an den SMS-Anbieter übergeben; noch keine Zustellbestätigung; "
     "der Termin wurde danach verschoben und abgesagt.",
     "SMS to +49 170 ****567 handed to the provider on 25.11.2026 at 18:02; no delivery confirmation yet; "
     "the appointment was moved and cancelled afterwards."),
]


@pytest.mark.parametrize("name, appt, rows, withdrawn, verdict, changed, german, english", CASES,
                         ids=[case[0] for case in CASES])
def test_verdict(name, appt, rows, withdrawn, verdict, changed, german, english):
    reports = {1: ("unknown subscriber", "1")}
    for locale, sentence in (("de", german), ("en", english)):
        answer = decide(appt, rows, Context(zone=BERLIN, locale=locale, mobile=NUMBER, consent_withdrawn_at=withdrawn,
                                            reports=reports))
        assert (answer.verdict, answer.sent_before_change, answer.conclusion) == (verdict, changed, sentence)


def test_provider_answers_come_with_a_next_step():
    refused = decide(appointment(), [row("failed", "provider_error", submit_started_at=SENT, provider_error_code="9")],
                     Context(zone=BERLIN, mobile=NUMBER))
    assert "Handynummer mit dem Patienten zu prüfen" in refused.explanation.next_step
    failed = decide(appointment(), [sent("delivery_failed")],
                    Context(zone=BERLIN, locale="en", reports={1: ("unavailable subscriber", None)}))
    assert failed.explanation.next_step == "Ask the practice to call the patient."
    unknown_code = decide(appointment(), [sent("delivery_failed")],
                          Context(zone=BERLIN, reports={1: ("something new", "777")}))
    assert unknown_code.explanation.meaning == "something new"


@pytest.mark.parametrize("reminder, ahead", [
    (None, True), (row("planned"), True), (row("skipped", "invalid_mobile"), True),
    (row("skipped", "no_consent"), True), (row("skipped", "quota_exceeded"), True),
    (row("skipped", "too_late"), False), (row("cancelled", "appointment_cancelled"), False),
    (row("queued"), False), (sent("delivered"), False),
    (row("failed", "provider_error", provider_error_code="9"), False),
    (row("failed", "provider_error", provider_error_code="retries_exhausted"), False),
])
def test_would_be_sent_now_only_while_sending_is_ahead(reminder, ahead):
    assert sending_ahead(reminder) is ahead


NOTICE_SENT = SENT + timedelta(hours=1)  # 19:02 in Berlin


def notice(kind, status="submitted", start=MOVED, **fields):
    values = dict(id=2, kind=kind, submit_started_at=NOTICE_SENT, submitted_at=NOTICE_SENT, recipient=NUMBER)
    if status != "submitted":
        values.update(submit_started_at=None, submitted_at=None)
    values.update(fields)
    return row(status, start=start, **values)


NOTICE_CASES = [
    ("moved, notice delivered, new reminder planned", appointment(MOVED),
     [sent("delivered"), row("planned", start=MOVED, id=3, kind="reminder", due_at=MOVED - timedelta(hours=16)),
      notice("moved_notice", delivery_status="delivered", delivery_status_at=NOTICE_SENT)],
     "delivered", True,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 zugestellt; der Termin wurde danach verschoben; zur neuen "
     "Uhrzeit: SMS für 26.11.2026 um 18:00 an +49 170 ****567 geplant; Änderungs-SMS (Termin verlegt): SMS am "
     "25.11.2026 um 19:02 an +49 170 ****567 zugestellt.",
     "SMS delivered to +49 170 ****567 on 25.11.2026 at 18:02; the appointment was moved afterwards; for the new "
     "time: SMS to +49 170 ****567 planned for 26.11.2026 at 18:00; change notice (appointment moved): SMS delivered "
     "to +49 170 ****567 on 25.11.2026 at 19:02."),
    ("moved, the notice is the reminder", appointment(MOVED),
     [sent("delivered"), notice("moved_notice", "planned", due_at=NOTICE_SENT)],
     "delivered", True,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 zugestellt; der Termin wurde danach verschoben; Änderungs-SMS "
     "(Termin verlegt): SMS für 25.11.2026 um 19:02 an +49 170 ****567 geplant; sie ist zugleich die Erinnerung an "
     "die neue Uhrzeit.",
     "SMS delivered to +49 170 ****567 on 25.11.2026 at 18:02; the appointment was moved afterwards; change notice "
     "(appointment moved): SMS to +49 170 ****567 planned for 25.11.2026 at 19:02; it is also the reminder for the "
     "new time."),
    ("moved and undone", appointment(),
     [sent(), notice("moved_notice", "cancelled", reason="change_undone")],
     "submitted", False,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 an den SMS-Anbieter übergeben; noch keine Zustellbestätigung; "
     "Änderungs-SMS (Termin verlegt): keine SMS gesendet: Änderung rückgängig gemacht: der Patient kennt die gültige "
     "Uhrzeit schon.",
     "SMS to +49 170 ****567 handed to the provider on 25.11.2026 at 18:02; no delivery confirmation yet; change "
     "notice (appointment moved): no SMS sent: Change undone: the patient already knows the time that holds."),
    ("cancelled, notice switched off", appointment(cancelled_at=LATER),
     [sent("delivered"), notice("cancelled_notice", "skipped", start=START, reason="notices_disabled")],
     "delivered", True,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 zugestellt; der Termin wurde danach abgesagt; Änderungs-SMS "
     "(Termin abgesagt): keine SMS gesendet: Änderungs-SMS sind für die Praxis ausgeschaltet.",
     "SMS delivered to +49 170 ****567 on 25.11.2026 at 18:02; the appointment was cancelled afterwards; change "
     "notice (appointment cancelled): no SMS sent: Change notices are switched off for the practice."),
    ("cancelled, notice over the quota", appointment(cancelled_at=LATER),
     [sent(), notice("cancelled_notice", "skipped", start=START, reason="quota_exceeded")],
     "submitted", True,
     "SMS am 25.11.2026 um 18:02 an +49 170 ****567 an den SMS-Anbieter übergeben; noch keine Zustellbestätigung; "
     "der Termin wurde danach abgesagt; Änderungs-SMS (Termin abgesagt): keine SMS gesendet: Monatliches "
     "SMS-Kontingent ausgeschöpft.",
     "SMS to +49 170 ****567 handed to the provider on 25.11.2026 at 18:02; no delivery confirmation yet; the "
     "appointment was cancelled afterwards; change notice (appointment cancelled): no SMS sent: Monthly SMS quota "
     "used up."),
]


@pytest.mark.parametrize("name, appt, rows, verdict, changed, german, english", NOTICE_CASES,
                         ids=[case[0] for case in NOTICE_CASES])
def test_the_verdict_adds_the_change_notice(name, appt, rows, verdict, changed, german, english):
    for locale, sentence in (("de", german), ("en", english)):
        answer = decide(appt, rows, Context(zone=BERLIN, locale=locale, mobile=NUMBER))
        assert (answer.verdict, answer.sent_before_change, answer.conclusion) == (verdict, changed, sentence)
