"""The reply switch and line and the notice texts in the settings dialogs: the preview
shows what the patient gets (the reply line counts), and the dialog warns when replies
are on but no reply number is configured."""
import pytest

from portal.domain.settings import DEFAULT_REPLY_LINE, INHERITED
from portal.extensions import db
from tests.hostile import HOSTILE_TEXT

REPLY_NUMBER = "+4915799912345"
ONE_SMS = "x" * 150  # fits one GSM-7 SMS alone, not with the reply line below it


@pytest.fixture
def reply_number(app, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGEBIRD_REPLY_NUMBER", REPLY_NUMBER)
    return REPLY_NUMBER


def preview(client, **body):
    return client.post("/settings/preview", json={"template": ONE_SMS, "sender": "PraxisNord", **body})


def test_the_preview_ends_with_the_reply_line_and_counts_it(as_user, tenants, reply_number):
    client = as_user(tenants["admin"])
    alone = preview(client, replies_enabled=False, reply_line=DEFAULT_REPLY_LINE).json
    assert (alone["text"], alone["sender"], alone["segments"]) == (ONE_SMS, "PraxisNord", 1)

    answered = preview(client, replies_enabled=True, reply_line=DEFAULT_REPLY_LINE).json
    assert answered["ok"] and answered["text"] == ONE_SMS + "\n" + DEFAULT_REPLY_LINE
    assert (answered["sender"], answered["segments"], answered["encoding"]) == (reply_number, 2, "GSM-7")
    assert answered["length"] == 151 + len(DEFAULT_REPLY_LINE) and not answered["replies_unreachable"]


def test_without_a_reply_number_the_preview_shows_the_reminder_as_it_goes_out(as_user, tenants, app):
    assert app.config["MESSAGEBIRD_REPLY_NUMBER"] is None
    shown = preview(as_user(tenants["admin"]), replies_enabled=True, reply_line=DEFAULT_REPLY_LINE).json
    assert (shown["text"], shown["sender"], shown["segments"]) == (ONE_SMS, "PraxisNord", 1)
    assert shown["replies_unreachable"] is True


def test_a_reply_line_that_cannot_be_saved_is_named_and_not_shown_as_sent(as_user, tenants, reply_number):
    client = as_user(tenants["admin"])
    shown = preview(client, replies_enabled=True, reply_line="Antworten Sie {JA}").json
    assert not shown["ok"] and "{" in shown["reply_line_error"] and shown["text"] == ONE_SMS
    assert shown["error"] is None  # the text itself is fine
    for field, value in (("replies_enabled", "yes"), ("reply_line", 7), ("sender", None)):
        refused = preview(client, **{field: value})
        assert refused.status_code == 400 and field in refused.json["error"]


def test_notice_texts_have_a_preview_of_their_own(as_user, tenants):
    shown = as_user(tenants["admin"]).post("/settings/preview", json={
        "template": "Ihr Termin wurde verlegt auf {wochentag}, {datum} um {uhrzeit}."}).json
    assert shown["text"] == "Ihr Termin wurde verlegt auf Mittwoch, 25.11.2026 um 10:00."
    assert shown["reply_line"] is None and shown["segments"] == 1


def _all_inherited(**overrides) -> dict:
    data = {f"{name}_inherit": "y" for name in INHERITED}
    for name, value in overrides.items():
        data.pop(f"{name}_inherit", None)
        data[name] = value
    return data


def test_a_bad_notice_text_is_refused_naming_its_field(as_user, tenants):
    response = as_user(tenants["admin"]).post("/settings/practices/nord-1", data=_all_inherited(
        sms_enabled="y", change_template_cancelled="Ihr Termin am {termin} entfällt."))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<a href=\"#change_template_cancelled\">Text bei Absage: Unbekannter Platzhalter „{termin}“" in page
    db.session.refresh(tenants["practice"])
    assert tenants["practice"].change_template_cancelled is None


def test_replies_switched_on_in_the_dialog_are_kept_with_their_line(as_user, tenants, reply_number):
    client = as_user(tenants["admin"])
    saved = client.post("/settings/practices/nord-1", data=_all_inherited(
        sms_enabled="y", replies_enabled="True", reply_line="  Antworten Sie JA oder NEIN.  "))
    assert saved.status_code == 302
    practice = tenants["practice"]
    db.session.refresh(practice)
    assert (practice.replies_enabled, practice.reply_line) == (True, "Antworten Sie JA oder NEIN.")
    page = client.get("/settings/practices/nord-1").get_data(as_text=True)
    assert '<option selected value="True">ja</option>' in page
    assert 'id="reply-number-warning"' not in page


def test_replies_cannot_be_switched_on_before_there_is_a_reply_number(as_user, tenants):
    refused = as_user(tenants["admin"]).post("/settings/practices/nord-1", data=_all_inherited(
        sms_enabled="y", replies_enabled="True", reply_line="Antworten Sie JA oder NEIN."))
    assert refused.status_code == 422
    assert "erst einschalten, wenn der Hersteller eine Antwortnummer eingerichtet hat" in refused.get_data(as_text=True)
    db.session.refresh(tenants["practice"])
    assert tenants["practice"].replies_enabled is None


def test_the_dialog_warns_when_replies_are_on_without_a_reply_number(as_user, tenants):
    client = as_user(tenants["admin"])
    off = client.get("/settings/groups/home").get_data(as_text=True)
    assert '<p class="warning" id="reply-number-warning" hidden>' in off  # shown once switched on

    tenants["home"].replies_enabled = True
    db.session.commit()
    for path in ("/settings/groups/home", "/settings/practices/nord-1"):
        page = client.get(path).get_data(as_text=True)
        assert '<p class="warning" id="reply-number-warning">' in page
        assert "keine Antwortnummer" in page and 'aria-describedby="replies_enabled-effective reply-number-warning"' in page
    # The practice's switch inherits the group's choice as the select's value (see settings.js).
    assert 'data-inherited="True" id="replies_enabled"' in page


@pytest.mark.parametrize("label", sorted(HOSTILE_TEXT))
def test_the_preview_names_a_hostile_reply_line_and_does_not_send_it(as_user, tenants, reply_number, label):
    shown = preview(as_user(tenants["admin"]), replies_enabled=True, reply_line=HOSTILE_TEXT[label])
    assert shown.status_code == 200 and not shown.json["ok"] and shown.json["reply_line_error"]
    assert shown.json["text"] == ONE_SMS and shown.json["sender"] == "PraxisNord"
