"""Every main page of every role, in each state a user meets it (empty, with
results, after a bad submit): axe-core finds no serious or critical violation,
and at a 375 px wide viewport the page never scrolls sideways."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .test_portal import log_in

AXE = Axe()
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def problems(page, state: str) -> list[str]:
    """What axe finds (serious or critical) at both widths, and any sideways scrolling at 375 px."""
    found = []
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        results = AXE.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:3]
                found.append(f"{state} @{viewport['width']}px: {violation['id']} {violation['help']} {targets}")
    page.set_viewport_size(PHONE)
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if width[0] > width[1]:
        found.append(f"{state} @375px: scrolls sideways ({width[0]} > {width[1]} px)")
    page.set_viewport_size(DESKTOP)
    return found


@pytest.fixture
def appointments(make, tenants, sent_reminder):
    """A future and a past appointment with reminders, and a patient whose number has a typo."""
    practice = tenants["practice"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    patient = make.patient(practice, external_id="P-88", last_name="Becker", first_name="Christa",
                           mobile="0171 2345678")
    future = make.appointment(patient, now + timedelta(days=5), external_id="T-2002")
    make.reminder(future, due_at=now + timedelta(days=4))
    past = make.appointment(patient, now - timedelta(days=5), external_id="T-0999")
    make.reminder(past, due_at=now - timedelta(days=6), status="skipped", reason="no_consent")
    make.patient(practice, mobile="017O 1234567", last_name="Tippfehler")
    return sent_reminder


def test_login_page_before_and_after_a_failed_attempt(page, live_server, tenants):
    found = []
    page.goto(live_server + "/login")
    found += problems(page, "login")
    page.fill("#email", "vendor@example.org")
    page.fill("#password", "wrong password")
    page.click("button.primary")
    expect(page.locator(".flash.error")).to_be_visible()
    found += problems(page, "login failed")
    page.fill("#email", "")
    page.click("button.primary")
    found += problems(page, "login empty")
    assert not found, "\n".join(found)


def test_vendor_pages(page, live_server, tenants, appointments, make):
    found = []
    log_in(page, live_server, "vendor@example.org")
    make.practice_key(tenants["practice"])
    page.goto(live_server + "/admin/practices")
    found += problems(page, "practices")
    page.locator("form[action$='/admin/practices'] button[type=submit]").click()
    found += problems(page, "practices after a bad submit")

    page.goto(live_server + "/admin/practices/nord-1")
    found += problems(page, "practice with licence and keys")
    page.fill("#valid_from", "2026-05-01")
    page.fill("#valid_until", "2026-04-01")
    page.click("#licence-form button[type=submit]")
    expect(page.locator("#valid_until")).to_have_attribute("aria-invalid", "true")
    found += problems(page, "practice after a bad licence change")
    page.click("text=API-Schlüssel ausstellen")
    expect(page.locator("#new-key")).to_contain_text("pk_")
    found += problems(page, "practice with a new key")

    page.goto(live_server + "/admin/users")
    found += problems(page, "users")
    page.locator("form[action$='/admin/users'] button.primary").click()
    found += problems(page, "users after a bad submit")
    admin = tenants["admin"].id
    page.select_option(f"#u{admin}-role", "vendor_admin")
    page.locator(f"form[action$='/admin/users/{admin}'] button").click()
    expect(page.locator("h1")).to_have_text("Hersteller-Rolle bestätigen")
    found += problems(page, "confirming the vendor role")

    page.goto(live_server + "/admin/usage")
    found += problems(page, "usage")
    page.goto(live_server + "/support/audit")
    expect(page.locator("#audit tbody")).not_to_contain_text("Keine Einträge")
    found += problems(page, "audit log")
    page.goto(live_server + "/password")
    found += problems(page, "password change")
    page.click("form button.primary")
    found += problems(page, "password change after a bad submit")
    assert not found, "\n".join(found)


def test_group_admin_pages(page, live_server, tenants, appointments):
    found = []
    log_in(page, live_server, "admin@example.org")
    page.goto(live_server + "/settings/")
    found += problems(page, "settings overview")
    for dialog, path, setting, bad_value in [("group settings dialog", "/settings/groups/home", "send_time", ""),
                                             ("practice settings dialog", "/settings/practices/nord-1", "template",
                                              "Hallo {termin}")]:
        page.goto(live_server + path)
        found += problems(page, dialog)
        page.uncheck(f"#{setting}_inherit")
        page.fill(f"#{setting}", bad_value)
        page.click("#settings-form button[type=submit]")
        expect(page.locator(f"#{setting}")).to_have_attribute("aria-invalid", "true")
        found += problems(page, dialog + " after a bad submit")
    page.goto(live_server + "/settings/practices/nord-1")
    page.uncheck("#replies_enabled_inherit")
    page.select_option("#replies_enabled", "True")
    page.uncheck("#reply_line_inherit")
    page.fill("#reply_line", "Antworten Sie {JA}")
    expect(page.locator("#reply_line-preview-error")).to_be_visible()
    found += problems(page, "practice settings dialog, replies on, a reply line the preview refuses")

    page.goto(live_server + "/settings/practices/nord-1/reminders")
    expect(page.locator("#reminders tbody tr")).not_to_have_count(0)
    found += problems(page, "reminders list")
    page.goto(live_server + "/settings/practices/nord-1/reminders?status=failed")
    found += problems(page, "reminders list, nothing found")
    page.goto(live_server + "/settings/practices/nord-1/data-quality")
    found += problems(page, "data quality")
    page.goto(live_server + "/replies/")
    found += problems(page, "replies from patients")
    page.goto(live_server + "/replies/?practice=nord-1")
    found += problems(page, "replies of one practice")
    page.goto(live_server + "/admin/usage")
    found += problems(page, "usage of the group")
    page.goto(live_server + "/support/audit")
    found += problems(page, "audit log of the group")
    assert not found, "\n".join(found)


def test_support_pages(page, live_server, tenants, appointments):
    found = []
    log_in(page, live_server, "support@example.org")
    found += problems(page, "lookup, empty")
    page.fill("#phone", "0170 1234567")
    page.click("#lookup-form button[type=submit]")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    found += problems(page, "lookup with results")
    page.goto(live_server + "/support/?name=Niemand")
    found += problems(page, "lookup, nothing found")
    page.goto(live_server + "/support/?phone=" + "1" * 50)
    found += problems(page, "lookup after a bad submit")
    page.goto(live_server + f"/support/appointments/{appointments['appointment'].id}")
    found += problems(page, "support appointment")
    assert not found, "\n".join(found)


def test_the_audit_reports_what_it_should(page):
    """The harness itself: a low-contrast text and a page wider than a phone are both reported."""
    page.set_content('<html lang="de"><title>x</title><main><p style="color:#bbb">blass</p>'
                     '<div style="width:600px">breit</div></main></html>')
    found = problems(page, "bad page")
    assert any("color-contrast" in line for line in found)
    assert any("scrolls sideways" in line for line in found)


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.tagName")


def test_keyboard_walk_through_a_bad_submit(page, live_server, tenants):
    log_in(page, live_server, "vendor@example.org")
    page.goto(live_server + "/password")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    assert focused(page) == "main"
    page.keyboard.press("Tab")
    assert focused(page) == "current"
    page.keyboard.type("irgendwas")
    page.keyboard.press("Tab")
    page.keyboard.type("kurz")
    page.keyboard.press("Tab")
    page.keyboard.type("anders")
    page.keyboard.press("Enter")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary.locator("a")).to_have_count(2)
    page.keyboard.press("Tab")
    expect(summary.locator("a").first).to_be_focused()
    page.keyboard.press("Enter")
    assert focused(page) == "new"
    expect(page.locator("#new")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new")).to_have_accessible_description("Mindestens 10 Zeichen.")
    summary.locator("a").nth(1).focus()
    page.keyboard.press("Enter")
    assert focused(page) == "confirm"


def test_a_failed_login_takes_the_focus(page, live_server, tenants):
    page.goto(live_server + "/login")
    page.fill("#email", "vendor@example.org")
    page.fill("#password", "falsch")
    page.press("#password", "Enter")
    alert = page.locator(".flash.error")
    expect(alert).to_be_focused()
    expect(alert).to_have_attribute("role", "alert")


def test_the_preview_announces_a_changed_outcome_not_every_pause(page, live_server, tenants):
    log_in(page, live_server, "admin@example.org")
    page.goto(live_server + "/settings/practices/nord-1")
    status = page.locator("#preview-status")
    expect(status).to_have_text("GSM-7 · 1 SMS")
    expect(page.locator("#preview-status")).to_have_attribute("aria-live", "polite")
    page.evaluate("""() => {
        window.announced = [];
        new MutationObserver(() => window.announced.push(document.getElementById("preview-status").textContent))
            .observe(document.getElementById("preview-status"), {childList: true, characterData: true, subtree: true});
    }""")
    page.uncheck("#template_inherit")
    editor, text = page.locator("#template"), page.locator("#preview-text")
    for typed in ("Hallo {vorname}", "Hallo {vorname}, bis", "Hallo {vorname}, bis bald"):
        editor.fill(typed)
        expect(text).to_have_text(typed.replace("{vorname}", "Erika"))
    assert page.evaluate("window.announced") == []

    editor.fill("Hallo {vorname} 🙂")
    expect(status).to_have_text("UCS-2 · 1 SMS")
    editor.fill("Hallo {termin}")
    expect(status).to_contain_text("{termin}")
    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(editor).to_have_accessible_description(re.compile(r"\{termin\}"))
    assert len(page.evaluate("window.announced")) == 2
