"""Login, logout, password change, language, headers, CSRF and login rate limits."""
import re

from portal.extensions import db
from portal.models import AuditEntry

from .conftest import PASSWORD, login


def test_each_role_lands_on_its_start_page(client, tenants):
    for user, start in [("vendor", "/admin/practices"), ("support", "/support/"), ("admin", "/settings/")]:
        fresh = client.application.test_client()
        response = login(fresh, tenants[user].email)
        assert response.status_code == 302
        assert fresh.get("/").headers["Location"].endswith(start)


def test_wrong_password_and_unknown_user_get_the_same_answer(client, tenants):
    wrong = login(client, tenants["vendor"].email, "wrong password")
    unknown = login(client, "nobody@example.org")
    assert wrong.status_code == unknown.status_code == 200
    assert b"error" in wrong.data
    assert client.get("/admin/practices").status_code == 302


def test_inactive_user_cannot_log_in(client, make, tenants):
    user = tenants["support"]
    user.active = False
    db.session.commit()
    assert login(client, user.email).status_code == 200
    assert client.get("/support/").status_code == 302


def test_deactivating_a_user_ends_their_session(as_user, tenants):
    client = as_user(tenants["support"])
    tenants["support"].active = False
    db.session.commit()
    assert client.get("/support/").status_code == 302


def test_pages_need_login(client, tenants):
    for path in ["/", "/admin/practices", "/settings/", "/support/", "/support/audit", "/password"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_logout_is_a_post_and_ends_the_session(as_user, tenants):
    client = as_user(tenants["vendor"])
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/admin/practices").status_code == 302


def test_next_parameter_never_leaves_the_site(client, tenants):
    response = client.post("/login", data={"email": tenants["vendor"].email, "password": PASSWORD,
                                           "next": "//evil.example/"})
    assert response.headers["Location"] == "/"
    fresh = client.application.test_client()
    response = fresh.post("/login", data={"email": tenants["vendor"].email, "password": PASSWORD,
                                          "next": "/support/"})
    assert response.headers["Location"] == "/support/"


def test_password_change(as_user, tenants):
    client = as_user(tenants["support"])
    refused = client.post("/password", data={"current": "not it", "new": "a new password 1", "confirm": "a new password 1"})
    assert refused.status_code == 200
    assert client.post("/password", data={"current": PASSWORD, "new": "short", "confirm": "short"}).status_code == 200
    changed = client.post("/password", data={"current": PASSWORD, "new": "a new password 1",
                                             "confirm": "a new password 1"})
    assert changed.status_code == 302
    fresh = client.application.test_client()
    assert login(fresh, tenants["support"].email).status_code == 200
    assert login(fresh, tenants["support"].email, "a new password 1").status_code == 302
    assert db.session.query(AuditEntry).filter_by(action="user.password").count() == 1


def test_german_by_default_english_on_request(as_user, tenants):
    client = as_user(tenants["vendor"])
    assert "Abmelden" in client.get("/admin/practices").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": "/admin/practices"})
    assert "Log out" in client.get("/admin/practices").get_data(as_text=True)
    assert db.session.get(type(tenants["vendor"]), tenants["vendor"].id).locale == "en"


def test_login_page_is_german_for_anonymous_visitors(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Anmelden" in page and 'lang="de"' in page


def test_security_headers_and_cookie_flags(client, tenants):
    page = client.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    response = login(client, tenants["vendor"].email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_inline_script_or_style_in_pages(as_user, tenants):
    client = as_user(tenants["vendor"])
    for path in ["/admin/practices", "/settings/practices/nord-1", "/admin/usage"]:
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " style=" not in html and "<style" not in html, path


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf-token" content="([^"]+)"', html).group(1) \
        or re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_forms_without_csrf_token_are_refused(strict_app, tenants):
    client = strict_app.test_client()
    assert client.post("/login", data={"email": tenants["vendor"].email, "password": PASSWORD}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": tenants["admin"].email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    refused = client.post("/settings/practices/nord-1", data={"sender": "Evil", "sms_enabled": "y"})
    assert refused.status_code == 400
    assert client.post("/settings/preview", json={"template": "x"}).status_code == 400
    assert client.post("/logout").status_code == 400
    page = client.get("/settings/practices/nord-1").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    preview = client.post("/settings/preview", json={"template": "Hallo {vorname}"}, headers={"X-CSRFToken": token})
    assert preview.status_code == 200 and preview.json["text"] == "Hallo Erika"


def test_login_attempts_are_rate_limited(strict_app, tenants):
    client = strict_app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    email = tenants["support"].email
    codes = [client.post("/login", data={"email": email, "password": "wrong", "csrf_token": token}).status_code
             for _ in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    # Even the right password is refused until the minute is over.
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 429
