"""What a screen reader needs in the markup: errors tied to their fields and
summed up in an alert, controls named with what they act on, a skip link."""
import re

from .conftest import login


def _element(page: str, element_id: str) -> str:
    found = re.search(r'<[^>]*\bid="%s"[^>]*>' % re.escape(element_id), page)
    assert found, f"no element #{element_id}"
    return found.group(0)


def test_a_bad_submit_ties_each_error_to_its_field_and_sums_them_up(as_user, tenants):
    response = as_user(tenants["vendor"]).post("/admin/users", data={"new-email": "", "new-password": "short"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = page[page.index('id="error-summary"') - 40:]
    summary = summary[:summary.index("</div>")]
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    assert 'href="#new-email"' in summary and 'href="#new-password"' in summary
    for name in ("new-email", "new-password"):
        field = _element(page, name)
        assert 'aria-invalid="true"' in field and f'aria-describedby="{name}-error"' in field
        assert _element(page, f"{name}-error")
    assert 'src="/static/js/forms.js"' in page


def test_fields_without_errors_are_not_marked_invalid(as_user, tenants):
    page = as_user(tenants["vendor"]).get("/admin/users").get_data(as_text=True)
    assert "error-summary" not in page and "aria-invalid" not in page
    assert "aria-describedby" not in _element(page, "new-email")


def test_a_failed_login_is_an_alert(client, tenants):
    page = login(client, "vendor@example.org", "wrong").get_data(as_text=True)
    assert re.search(r'<div class="flash error" role="alert" tabindex="-1">[^<]*falsch', page)


def test_every_page_starts_with_a_skip_link_to_the_main_content(client):
    page = client.get("/login").get_data(as_text=True)
    assert page.index('class="skip-link" href="#main"') < page.index("<header")
    assert 'id="main"' in _element(page, "main")


def test_settings_name_their_inherit_switch_and_describe_the_effective_value(as_user, tenants):
    page = as_user(tenants["admin"]).get("/settings/practices/nord-1").get_data(as_text=True)
    inherit = re.search(r'<label class="inherit"><input[^>]*id="send_time_inherit"[^>]*> (.*?)</label>', page)
    assert re.sub(r"<[^>]+>", "", inherit.group(1)) == "erben: Versandzeit (am Vortag)"
    assert 'aria-describedby="send_time-effective"' in _element(page, "send_time")
    assert "Wirksam:" in page[page.index('id="send_time-effective"'):][:200]
    # The previews are not big live regions: only each one's short status is read out.
    live = re.findall(r'<p id="([^"]+)" class="visually-hidden" aria-live="polite">', page)
    assert live == ["preview-status", "change_template_moved-preview-status", "change_template_cancelled-preview-status"]
    assert page.count("aria-live") == len(live)


def test_a_refused_setting_is_described_by_its_effective_value_and_its_error(as_user, tenants):
    data = {f"{name}_inherit": "y" for name in ("send_policy", "hours_before", "quiet_start", "quiet_end",
                                                "min_lead_minutes", "sender", "template", "timezone")}
    response = as_user(tenants["admin"]).post("/settings/groups/home", data={**data, "send_time": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    field = _element(page, "send_time")
    assert 'aria-invalid="true"' in field and 'aria-describedby="send_time-effective send_time-error"' in field
    assert 'href="#send_time"' in page


def test_per_row_controls_on_the_users_page_name_their_user(as_user, tenants):
    page = as_user(tenants["vendor"]).get("/admin/users").get_data(as_text=True)
    assert 'aria-label="Rolle von admin@example.org"' in page
    assert 'aria-label="Praxisgruppe von admin@example.org"' in page
    assert 'Speichern<span class="visually-hidden"> (admin@example.org)</span>' in page
    assert 'aria-label="Bezeichnung eines neuen Tokens für admin@example.org"' in page


def test_action_columns_have_a_header(as_user, tenants):
    page = as_user(tenants["admin"]).get("/settings/").get_data(as_text=True)
    assert "<th></th>" not in page
    assert 'Erinnerungen<span class="visually-hidden"> (Praxis Nord)</span>' in page
