"""The group administrator filters the reminders list in the browser."""
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from .test_accessibility import problems
from .test_portal import log_in


def test_group_admin_filters_reminders_by_patient_period_and_status(page, live_server, tenants, make):
    practice = tenants["practice"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    becker = make.patient(practice, first_name="Christa", last_name="Becker")
    weber = make.patient(practice, first_name="Jonas", last_name="Weber")
    for patient, external_id, days in [(becker, "B-soon", 2), (weber, "W-soon", 3), (becker, "B-past", -3)]:
        make.reminder(make.appointment(patient, now + timedelta(days=days), external_id=external_id),
                      due_at=now + timedelta(days=days - 1))
    log_in(page, live_server, "admin@example.org")
    page.goto(live_server + "/settings/practices/nord-1/reminders")
    rows = page.locator("#reminders tbody tr:not(.past-divider)")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("#B-soon")
    expect(page.locator("#reminders .past-divider")).to_have_text("Vergangene Termine")

    page.fill("#patient", "becker christa")
    page.click("#reminder-filter button[type=submit]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("#B-soon")
    expect(rows.nth(1)).to_contain_text("#B-past")

    page.fill("#date_from", (now + timedelta(days=1)).date().isoformat())
    page.select_option("#status", "planned")
    page.click("#reminder-filter button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("#B-soon")
    expect(page.locator("#patient")).to_have_value("becker christa")
    assert problems(page, "reminders filtered") == []

    page.fill("#date_to", (now - timedelta(days=10)).date().isoformat())
    page.click("#reminder-filter button[type=submit]")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#date_to")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#reminders")).to_have_count(0)
    assert problems(page, "reminders after a bad filter") == []
