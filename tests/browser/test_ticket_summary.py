"""The ticket summary in the browser: the answer first, and the copy button puts it on the clipboard."""
from playwright.sync_api import expect

from .test_portal import log_in


def test_the_copy_button_copies_the_summary(page, live_server, tenants, sent_reminder):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    log_in(page, live_server, "support@example.org")
    page.goto(f"{live_server}/support/appointments/{sent_reminder['appointment'].id}")
    conclusion = page.locator("#conclusion").inner_text()
    assert conclusion.startswith("SMS am ") and conclusion.endswith("zugestellt.")
    summary = page.locator("#summary").inner_text()
    assert summary.splitlines()[0] == conclusion
    assert [line.split(":")[0] for line in summary.splitlines()[1:7]] == [
        "", "Praxis", "Termin", "Patient", "Gesendeter Text", "Zustellung"]
    page.click("#copy-summary")
    expect(page.locator("#copy-status")).to_have_text("Die Zusammenfassung ist in der Zwischenablage.")
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#summary").text_content()
