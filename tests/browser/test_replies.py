"""The reply switch in a practice dialog: the preview gains the reply line and its cost,
follows the line as it is edited, and the choice is kept as the practice's own."""
import re

from playwright.sync_api import expect

from portal.domain.messages import SAMPLE_VALUES, render
from portal.domain.settings import DEFAULT_REPLY_LINE, DEFAULT_TEMPLATE
from portal.extensions import db

from .conftest import REPLY_NUMBER
from .test_portal import log_in

REMINDER = render(DEFAULT_TEMPLATE, SAMPLE_VALUES)  # 124 characters: one SMS alone, two with the line


def sms_text(page) -> str:
    """The preview exactly, line breaks included."""
    return page.evaluate("document.getElementById('preview-text').textContent")


def test_a_group_admin_switches_replies_on_for_a_practice(page, live_server, tenants, shot):
    log_in(page, live_server, "admin@example.org")
    page.goto(live_server + "/settings/practices/nord-1")
    info, sender = page.locator("#preview-info"), page.locator("#preview-sender")
    expect(info).to_have_attribute("data-segments", "1")
    expect(sender).to_have_text("Praxis")
    assert sms_text(page) == REMINDER
    expect(page.locator("#replies_enabled")).to_be_disabled()

    page.uncheck("#replies_enabled_inherit")
    page.select_option("#replies_enabled", "True")
    expect(sender).to_have_text(REPLY_NUMBER)
    expect(info).to_have_attribute("data-segments", "2")
    assert sms_text(page) == REMINDER + "\n" + DEFAULT_REPLY_LINE
    shot(page, "practice-dialog-replies")

    page.uncheck("#reply_line_inherit")
    page.fill("#reply_line", "Bitte mit JA antworten.")
    expect(page.locator("#preview-text")).to_contain_text("Bitte mit JA antworten.")
    expect(info).to_have_attribute("data-segments", "1")  # the shorter line fits into the first SMS
    assert sms_text(page) == REMINDER + "\nBitte mit JA antworten."
    page.fill("#reply_line", "Antworten Sie {JA}")
    expect(page.locator("#reply_line-preview-error")).to_contain_text("{")
    expect(page.locator("#reply_line")).to_have_accessible_description(re.compile(r"darf weder \{ noch \} enthalten$"))
    page.fill("#reply_line", "Bitte mit JA antworten.")
    expect(page.locator("#reply_line-preview-error")).to_be_hidden()

    page.click("#settings-form button[type=submit]")
    expect(page.locator(".flash.success")).to_contain_text("gespeichert")
    page.reload()
    expect(page.locator("#replies_enabled")).to_have_value("True")
    expect(page.locator("#replies_enabled")).to_be_enabled()
    expect(page.locator("#replies_enabled_inherit")).not_to_be_checked()
    expect(page.locator("#replies_enabled-effective .source")).to_have_class("source practice")
    expect(page.locator("#replies_enabled-effective")).to_contain_text("ja")
    expect(page.locator("#reply_line")).to_have_value("Bitte mit JA antworten.")
    expect(sender).to_have_text(REPLY_NUMBER)
    db.session.refresh(tenants["practice"])
    assert (tenants["practice"].replies_enabled, tenants["practice"].reply_line) == (True, "Bitte mit JA antworten.")

    # Inheriting again shows the group's choice, and the preview loses the line.
    page.check("#replies_enabled_inherit")
    expect(page.locator("#replies_enabled")).to_have_value("False")
    expect(sender).to_have_text("Praxis")
    expect(page.locator("#preview-text")).not_to_contain_text("JA antworten")


def test_the_notice_texts_have_live_previews(page, live_server, tenants):
    log_in(page, live_server, "admin@example.org")
    page.goto(live_server + "/settings/groups/home")
    moved = page.locator("#change_template_moved-preview-text")
    expect(moved).to_have_text("Ihr Termin wurde verlegt auf Mittwoch, 25.11.2026 um 10:00.")
    page.uncheck("#change_template_cancelled_inherit")
    page.fill("#change_template_cancelled", "Ihr Termin am {datum} entfällt {grund}.")
    expect(page.locator("#change_template_cancelled-preview-error")).to_contain_text("{grund}")
    expect(page.locator("#change_template_cancelled")).to_have_attribute("aria-invalid", "true")
    page.fill("#change_template_cancelled", "Ihr Termin am {datum} entfällt 🙁")
    expect(page.locator("#change_template_cancelled-preview-info")).to_have_attribute("data-encoding", "UCS-2")
    expect(page.locator("#change_template_cancelled-preview-status")).to_have_text("UCS-2 · 1 SMS")
