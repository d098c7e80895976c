"""Group and practice dialogs: effective values with their source, inherit, the SMS
switch, the text editor's preview, reminders and the data-quality list."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, Reminder
from portal.sending import quota_warning

from portal.domain.settings import INHERITED as SETTINGS


def _all_inherited(**overrides) -> dict:
    data = {f"{name}_inherit": "y" for name in SETTINGS}
    for name, value in overrides.items():
        data.pop(f"{name}_inherit", None)
        data[name] = value
    return data


def test_dialog_shows_effective_value_and_its_source(as_user, tenants):
    group = tenants["home"]
    group.send_time = "17:30"
    db.session.commit()
    page = as_user(tenants["admin"]).get("/settings/practices/nord-1").get_data(as_text=True)
    assert 'value="17:30"' in page and "Praxisgruppe" in page and "Systemvorgabe" in page
    assert 'id="send_time_inherit" name="send_time_inherit" type="checkbox" value="y"' in page


def test_practice_override_and_inherit_again(as_user, tenants):
    client = as_user(tenants["admin"])
    data = _all_inherited(send_time="19:15", sender="PraxisNord")
    data["sms_enabled"] = "y"
    assert client.post("/settings/practices/nord-1", data=data).status_code == 302
    practice = tenants["practice"]
    db.session.refresh(practice)
    assert (practice.send_time, practice.sender, practice.template) == ("19:15", "PraxisNord", None)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "practice.settings")).one()
    assert entry.after == {"send_time": "19:15", "sender": "PraxisNord"}
    data = _all_inherited()
    data["sms_enabled"] = "y"
    client.post("/settings/practices/nord-1", data=data)
    db.session.refresh(practice)
    assert practice.send_time is None and practice.sender is None and practice.sms_enabled


def test_group_dialog_saves_group_values(as_user, tenants):
    client = as_user(tenants["admin"])
    response = client.post("/settings/groups/home", data=_all_inherited(quiet_start="22:00", min_lead_minutes="90"))
    assert response.status_code == 302
    db.session.refresh(tenants["home"])
    assert (tenants["home"].quiet_start, tenants["home"].min_lead_minutes) == ("22:00", 90)


def test_invalid_values_are_refused_field_by_field(as_user, tenants):
    client = as_user(tenants["admin"])
    response = client.post("/settings/practices/nord-1", data=_all_inherited(
        send_time="25:00", sender="Praxis Müller!", template="Hallo {vorname}, {termin}"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "{termin}" in page and "Unbekannter Platzhalter" in page
    response = client.post("/settings/practices/nord-1", data=_all_inherited(send_time="25:00", sender="Praxis Müller!"))
    page = response.get_data(as_text=True)
    assert "muss eine Uhrzeit als HH:MM sein" in page and "ohne Umlaute" in page
    empty = client.post("/settings/practices/nord-1", data=_all_inherited(sender=""))
    assert empty.status_code == 422 and "erben" in empty.get_data(as_text=True)
    db.session.refresh(tenants["practice"])
    assert tenants["practice"].send_time is None and tenants["practice"].template is None


def test_sms_switch_needs_an_active_licence(as_user, tenants, make):
    practice = make.practice(group=tenants["home"], slug="ohne-lizenz")
    client = as_user(tenants["admin"])
    page = client.get("/settings/practices/ohne-lizenz").get_data(as_text=True)
    assert 'id="sms_enabled" name="sms_enabled" type="checkbox" value="y"' in page and "disabled" in page
    assert 'id="sms-explain"' in page
    data = _all_inherited()
    data["sms_enabled"] = "y"
    response = client.post("/settings/practices/ohne-lizenz", data=data)
    assert response.status_code == 422 and "aktive Lizenz" in response.get_data(as_text=True)
    db.session.refresh(practice)
    assert practice.sms_enabled is False


def test_switching_sms_on_replans_the_practice(as_user, tenants, make):
    practice = make.practice(group=tenants["home"], slug="plan")
    make.licence(practice)
    patient = make.patient(practice)
    make.appointment(patient, datetime.now(timezone.utc) + timedelta(days=3))
    data = _all_inherited()
    data["sms_enabled"] = "y"
    as_user(tenants["admin"]).post("/settings/practices/plan", data=data)
    reminder = db.session.scalars(select(Reminder).where(Reminder.practice_id == practice.id)).one()
    assert reminder.status == "planned" and reminder.due_at is not None


def test_preview_renders_sample_data_with_encoding_and_segments(as_user, tenants):
    client = as_user(tenants["admin"])
    short = client.post("/settings/preview", json={"template": "Hallo {vorname} {nachname}, Termin {datum}"}).json
    assert short["ok"] and short["text"] == "Hallo Erika Mustermann, Termin 25.11.2026"
    assert (short["encoding"], short["segments"]) == ("GSM-7", 1)
    emoji = client.post("/settings/preview", json={"template": "Bis bald 🙂 " + "x" * 70}).json
    assert (emoji["encoding"], emoji["segments"]) == ("UCS-2", 2)
    unknown = client.post("/settings/preview", json={"template": "Hallo {vornamee}"}).json
    assert not unknown["ok"] and "{vornamee}" in unknown["error"]
    assert client.post("/settings/preview", json={"template": 3}).status_code == 400


def test_reminders_list_shows_status_reason_and_masked_number(as_user, tenants, sent_reminder, make):
    patient = make.patient(tenants["practice"], mobile="0171 9876543", last_name="Beispiel")
    appointment = make.appointment(patient, datetime.now(timezone.utc) + timedelta(days=2))
    db.session.add(Reminder(practice_id=tenants["practice"].id, appointment=appointment,
                            start_at=appointment.start_at, status="skipped", reason="no_consent"))
    db.session.commit()
    client = as_user(tenants["admin"])
    page = client.get("/settings/practices/nord-1/reminders").get_data(as_text=True)
    assert "Keine Einwilligung des Patienten zu SMS" in page and "Zugestellt" in page
    assert "+49 170 ****567" in page and "1234567" not in page.replace("****567", "")
    only = client.get("/settings/practices/nord-1/reminders?status=skipped").get_data(as_text=True)
    assert "Beispiel" in only and "Mustermann" not in only


def test_data_quality_lists_consenting_patients_without_a_usable_mobile(as_user, tenants, make):
    practice = tenants["practice"]
    make.patient(practice, last_name="Ohnenummer", mobile=None)
    make.patient(practice, last_name="Tippfehler", mobile="017O1234567")
    make.patient(practice, last_name="Festnetz", mobile="030 1234567")
    make.patient(practice, last_name="Gut", mobile="0170 1234567")
    make.patient(practice, last_name="Ohnezustimmung", mobile=None, sms_consent=False)
    page = as_user(tenants["admin"]).get("/settings/practices/nord-1/data-quality").get_data(as_text=True)
    for name in ["Ohnenummer", "Tippfehler", "Festnetz"]:
        assert name in page
    assert "Gut" not in page and "Ohnezustimmung" not in page
    assert "enthält einen Buchstaben" in page and "Festnetznummer" in page and "Keine Handynummer" in page


def test_dialog_warns_from_80_percent_of_the_quota(as_user, tenants, sent_reminder):
    licence = tenants["practice"].licence
    licence.monthly_quota = 1
    db.session.commit()
    page = as_user(tenants["admin"]).get("/settings/practices/nord-1").get_data(as_text=True)
    # 1 of 1 is not "80 % or more": it is the quota reached, and nothing more is sent.
    assert 'id="quota" data-state="reached"' in page and "1 von 1 – Kontingent erreicht" in page
    assert "80 % des Kontingents" not in page


def test_dialog_warns_when_the_quota_is_zero_and_not_below_80_percent(as_user, tenants, sent_reminder):
    """A quota of 0 means nothing may be sent: always warned; 1 of 10 is no warning yet."""
    licence = tenants["practice"].licence
    client = as_user(tenants["admin"])
    licence.monthly_quota = 10
    db.session.commit()
    page = client.get("/settings/practices/nord-1").get_data(as_text=True)
    assert 'id="quota"' in page and "80 % des Kontingents" not in page
    licence.monthly_quota = 0
    db.session.commit()
    page = client.get("/settings/practices/nord-1").get_data(as_text=True)
    assert 'id="quota" data-state="reached"' in page and "Kontingent erreicht" in page
    licence.monthly_quota = 2
    db.session.commit()
    page = client.get("/settings/practices/nord-1").get_data(as_text=True)
    assert 'data-state="ok"' in page and "SMS in diesem Monat: 1 von 2<" in page
    licence.monthly_quota = None
    db.session.commit()
    page = client.get("/settings/practices/nord-1").get_data(as_text=True)
    assert "SMS in diesem Monat: 1 (unbegrenzt)" in page and "∞" not in page


def test_a_practice_without_licence_reads_no_licence_not_zero_of_infinity(as_user, tenants):
    page = as_user(tenants["vendor"]).get("/admin/practices/sued-1").get_data(as_text=True)
    assert "Keine aktive Lizenz: es werden keine SMS gesendet." in page and "∞" not in page


@pytest.mark.parametrize("used, quota, warned", [
    (0, None, False), (100, None, False), (0, 0, True), (7, 10, False), (8, 10, True), (10, 10, True),
    (0, 1, False), (1, 1, True), (3, 4, False), (4, 4, True), (3, 3, True), (2, 3, False),
])
def test_one_rule_for_the_quota_warning(used, quota, warned):
    assert quota_warning(used, quota) is warned


def test_an_unlimited_licence_says_unlimited(as_user, tenants):
    tenants["practice"].licence.monthly_quota = None
    db.session.commit()
    page = as_user(tenants["vendor"]).get("/admin/practices/nord-1").get_data(as_text=True)
    assert "kein Kontingent: SMS unbegrenzt" in page and "SMS in diesem Monat: 0 (unbegrenzt)" in page
