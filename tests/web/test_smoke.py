"""Every page for every role: rendered, forbidden, or (anonymous) sent to the login."""
import pytest

PAGES = [
    "/admin/practices", "/admin/practices/nord-1", "/admin/users", "/admin/usage",
    "/settings/", "/settings/groups/home", "/settings/practices/nord-1",
    "/settings/practices/nord-1/reminders", "/settings/practices/nord-1/data-quality",
    "/support/", "/support/?phone=0170+1234567", "/support/appointments/{appointment}", "/support/audit",
    "/password",
]
ALLOWED = {
    "vendor": set(PAGES),
    "admin": set(PAGES) - {"/admin/practices", "/admin/practices/nord-1", "/admin/users"},
    "support": {"/settings/practices/nord-1/reminders", "/settings/practices/nord-1/data-quality", "/support/",
                "/support/?phone=0170+1234567", "/support/appointments/{appointment}", "/support/audit", "/password"},
}


@pytest.mark.parametrize("role", ["vendor", "admin", "support"])
def test_every_page_for_every_role(as_user, tenants, sent_reminder, role):
    client = as_user(tenants[role])
    for path in PAGES:
        response = client.get(path.format(appointment=sent_reminder["appointment"].id))
        expected = 200 if path in ALLOWED[role] else 403
        assert response.status_code == expected, (role, path, response.status_code)
        if expected == 200:
            assert response.mimetype == "text/html" and "</html>" in response.get_data(as_text=True)


def test_every_page_needs_a_login(client, tenants, sent_reminder):
    for path in PAGES:
        response = client.get(path.format(appointment=sent_reminder["appointment"].id))
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"], path
    assert client.post("/settings/preview", json={"template": "x"}).status_code == 302
