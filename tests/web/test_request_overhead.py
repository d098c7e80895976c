"""What the cheaper request hooks must keep: cookies where a login is, none elsewhere; headers; rate limits."""
import re

from flask import Blueprint, Flask
from flask_limiter import Limiter

from portal.extensions import limiter, skip_unlimited

from .conftest import PASSWORD


def test_a_portal_login_still_sets_its_session_cookie_and_keeps_the_user(client, tenants):
    response = client.post("/login", data={"email": tenants["support"].email, "password": PASSWORD})
    assert response.status_code == 302
    assert "session=" in response.headers.get("Set-Cookie", "")
    assert client.get("/support/").status_code == 200


def test_a_login_page_with_csrf_on_sets_the_cookie_its_token_needs(strict_app, tenants):
    client = strict_app.test_client()
    page = client.get("/login")
    assert "session=" in page.headers.get("Set-Cookie", "")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.post("/login", data={"email": tenants["support"].email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302


def test_api_webhook_and_health_answers_set_no_cookie(client, api, make):
    practice = make.licensed_practice()
    patient = {"first_name": "Erika", "last_name": "Muster", "mobile": "0170 1234567", "sms_consent": True}
    answers = [api(make.practice_key(practice)).put("/patients/p-1", json=patient), client.get("/healthz"),
               client.get("/webhooks/messagebird/status?id=m-1")]
    assert [answer.status_code for answer in answers] == [200, 200, 401]
    assert [answer.headers.get("Set-Cookie") for answer in answers] == [None, None, None]


def test_security_headers_are_on_pages_and_api_answers(client):
    page, health = client.get("/login"), client.get("/healthz")
    for answer in (page, health):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Cache-Control"] == "no-store" and "no-store" not in health.headers.get("Cache-Control", "")


def test_login_attempts_stay_limited_while_health_checks_are_not(strict_app):
    client = strict_app.test_client()
    assert [client.get("/healthz").status_code for _ in range(30)] == [200] * 30
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    try:
        codes = [client.post("/login", data={"email": f"x{n}@example.org", "password": "x",
                                             "csrf_token": token}).status_code for n in range(21)]
    finally:
        with strict_app.app_context():
            limiter.reset()  # the next tests log in from the same address
    assert codes[0] == 200 and codes[-1] == 429  # 20 per minute from one address, whichever account


def test_a_machine_blueprint_that_declares_a_limit_is_still_limited():
    limiter = Limiter(key_func=lambda: "one client", storage_uri="memory://")
    skip_unlimited(limiter)
    app = Flask(__name__)
    limited, free = Blueprint("api", __name__), Blueprint("health", __name__)
    limited.add_url_rule("/limited", "limited", lambda: "ok")
    free.add_url_rule("/free", "free", lambda: "ok")
    limiter.limit("2 per minute")(limited)
    app.register_blueprint(limited)
    app.register_blueprint(free)
    limiter.init_app(app)
    client = app.test_client()
    assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/free").status_code for _ in range(3)] == [200, 200, 200]
