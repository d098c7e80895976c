"""The main stories in a real browser: licence, SMS switch, text editor with live
preview, and the support lookup of a sent reminder with its delivery report."""
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from ..web.conftest import PASSWORD


def log_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    expect(page.locator("header .who")).to_contain_text(email)


def test_vendor_grants_licence_and_group_admin_sets_up_sms(page, live_server, tenants, make, shot):
    practice = make.practice(group=tenants["home"], slug="neu", name="Praxis am Markt", phone="030 7654321")
    patient = make.patient(practice, mobile="0171 2345678", last_name="Neumann")
    make.appointment(patient, datetime.now(timezone.utc) + timedelta(days=3), external_id="T-2001")

    page.goto(live_server + "/login")
    shot(page, "login")
    log_in(page, live_server, "vendor@example.org")
    expect(page.locator("h1")).to_have_text("Praxen")
    shot(page, "vendor-practices")
    page.click("text=Praxis am Markt")
    expect(page.locator("#licence-current")).to_contain_text("Noch keine Lizenz")
    page.select_option("#action", "grant")
    page.fill("#monthly_quota", "1000")
    page.click("#licence-form button[type=submit]")
    expect(page.locator(".flash.success")).to_contain_text("Lizenz geändert")
    expect(page.locator("#licence-current")).to_contain_text("aktiv")
    page.click("text=API-Schlüssel ausstellen")
    expect(page.locator("#new-key")).to_contain_text("pk_")
    shot(page, "vendor-licence-and-keys")

    page.context.clear_cookies()
    log_in(page, live_server, "admin@example.org")
    page.goto(live_server + "/settings/practices/neu")
    switch = page.locator("#sms_enabled")
    expect(switch).to_be_enabled()
    switch.check()
    expect(page.locator('[data-setting="hours_before"]')).to_be_hidden()
    page.uncheck("#send_policy_inherit")
    page.select_option("#send_policy", "hours_before")
    expect(page.locator('[data-setting="hours_before"]')).to_be_visible()
    expect(page.locator('[data-setting="send_time"]')).to_be_hidden()
    page.check("#send_policy_inherit")
    # Inheriting again shows the value that applies: the default, the day before at a time.
    expect(page.locator("#send_policy")).to_have_value("day_before")
    expect(page.locator('[data-setting="send_time"]')).to_be_visible()
    info = page.locator("#preview-info")
    expect(info).to_contain_text("1 SMS")
    page.uncheck("#template_inherit")
    editor = page.locator("#template")
    editor.fill("Hallo {vorname}, Ihr Termin ist am {datum} um {uhrzeit}.")
    expect(page.locator("#preview-text")).to_have_text("Hallo Erika, Ihr Termin ist am 25.11.2026 um 10:00.")
    expect(info).to_have_attribute("data-segments", "1")
    expect(info).to_have_attribute("data-encoding", "GSM-7")
    editor.fill("Hallo {vorname} 🙂 " + "Bitte denken Sie an Ihren Termin am {datum} um {uhrzeit}. " * 2)
    expect(info).to_have_attribute("data-encoding", "UCS-2")
    expect(info).to_have_attribute("data-segments", "2")
    editor.type(" {termin}")
    expect(page.locator("#preview-error")).to_contain_text("{termin}")
    editor.fill("Hallo {vorname}, wir erinnern an Ihren Termin am {wochentag}, {datum} um {uhrzeit} Uhr. {praxis}")
    expect(page.locator("#preview-error")).to_be_hidden()
    expect(info).to_have_attribute("data-segments", "1")
    shot(page, "practice-dialog")
    page.click("#settings-form button[type=submit]")
    expect(page.locator(".flash.success")).to_contain_text("gespeichert")
    expect(page.locator("#sms_enabled")).to_be_checked()

    page.goto(live_server + "/settings/practices/neu/reminders")
    expect(page.locator("#reminders tbody")).to_contain_text("Geplant")
    shot(page, "practice-reminders")


def test_support_looks_up_a_phone_number(page, live_server, tenants, sent_reminder, make, shot):
    make.patient(tenants["practice"], mobile="017O 1234567", last_name="Tippfehler")
    log_in(page, live_server, "support@example.org")
    page.fill("#phone", "+49 (170) 123-45 67")
    page.click("#lookup-form button[type=submit]")
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("+49 170 ****567")
    expect(results.first).to_contain_text("Zugestellt")
    shot(page, "support-lookup")
    results.first.locator("a").first.click()
    expect(page.locator("#timeline [data-kind=delivery_report]")).to_contain_text("Zugestellt")
    expect(page.locator("#timeline [data-kind=delivery_report]")).to_contain_text("Fehlercode 0")
    expect(page.locator("#timeline [data-kind=submitted]")).to_contain_text("mb-msg-4711")
    expect(page.locator("#text-sent")).to_contain_text("Frau Mustermann")
    expect(page.locator("#checklist [data-check=licence]")).to_have_class("ok")
    expect(page.locator("#summary")).to_contain_text("T-1001")
    shot(page, "support-appointment")
    page.click("#mobile button")
    expect(page.locator("#mobile")).to_contain_text("+491701234567")


def test_vendor_overview_pages(page, live_server, tenants, sent_reminder, make, shot):
    make.patient(tenants["practice"], mobile="017O 1234567", last_name="Tippfehler")
    log_in(page, live_server, "vendor@example.org")
    page.goto(live_server + "/admin/usage")
    expect(page.locator("#usage-chart polyline")).to_have_count(3)
    shot(page, "vendor-usage")
    page.goto(live_server + "/admin/users")
    shot(page, "vendor-users")
    page.goto(live_server + "/settings/practices/nord-1/data-quality")
    expect(page.locator("#data-quality")).to_contain_text("Tippfehler")
    shot(page, "data-quality")
    page.goto(live_server + "/settings/groups/home")
    shot(page, "group-dialog")
    page.goto(live_server + "/support/audit")
    shot(page, "audit-log")
