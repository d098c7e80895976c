"""The portal under hostile input: every form field walked with the hostile table, search
parameters, redirect targets, and sessions that end with a password change or logout."""
import inspect
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from portal import create_app
from portal.web.forms import PortalForm, SearchForm
from tests.hostile import DEEP_JSON, HOSTILE_DATES, HOSTILE_TEXT, snapshot

from .conftest import PASSWORD, login

CONTROL = {label: HOSTILE_TEXT[label] for label in ("nul", "bell", "escape", "c1_control", "rtl_override")}


def _forms(base) -> list[type]:
    found = []
    for cls in base.__subclasses__():
        found += [cls, *_forms(cls)]
    return found


PORTAL_FORMS = sorted(set(_forms(PortalForm) + _forms(SearchForm)), key=lambda cls: cls.__name__)


def _build(cls, formdata):
    parameters = inspect.signature(cls.__init__).parameters
    form = cls([], formdata=formdata) if "groups" in parameters else cls(formdata=formdata)
    for field in form:
        if field.type == "SelectField" and field.choices is None:
            field.choices = []  # the view fills them from the database
    return form


def _field_cases():
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "WTF_CSRF_ENABLED": False})
    with app.test_request_context():
        for cls in PORTAL_FORMS:
            for field in _build(cls, None):
                if field.type in ("HiddenField", "CSRFTokenField"):
                    continue
                values = HOSTILE_DATES if field.type == "DateField" else CONTROL
                for label, value in values.items():
                    yield pytest.param(cls, field.name, value, id=f"{cls.__name__}-{field.name}-{label}")


@pytest.mark.parametrize("cls,name,value", list(_field_cases()))
def test_every_form_field_refuses_hostile_input_by_name(app, cls, name, value):
    with app.test_request_context(method="POST"):
        form = _build(cls, MultiDict({name: value}))
        assert not form.validate()
        assert form[name].errors, (cls.__name__, name, form.errors)


# --- the same over HTTP: a form error, nothing stored ------------------------------------

def _posts(tenants):
    practice = tenants["practice"].slug
    return {
        "group": ("/admin/groups", {"group-slug": "neu", "group-name": "Neu"}),
        "practice": ("/admin/practices", {"practice-group": "home", "practice-slug": "neu", "practice-name": "Neu"}),
        "key": (f"/admin/practices/{practice}/api-keys", {"label": "Empfang"}),
        "user": ("/admin/users", {"new-email": "neu@example.org", "new-role": "support",
                                  "new-password": "a long enough password"}),
        "settings": (f"/settings/practices/{practice}", {"send_time": "17:00"}),
    }


@pytest.mark.parametrize("form", ["group", "practice", "key", "user", "settings"])
@pytest.mark.parametrize("label", sorted(CONTROL) + ["huge"])
def test_posted_forms_show_the_error_and_store_nothing(as_user, tenants, ctx, form, label):
    url, data = _posts(tenants)[form]
    client = as_user(tenants["vendor"])
    before = snapshot()
    for name in data:
        response = client.post(url, data={**data, name: HOSTILE_TEXT[label]})
        assert response.status_code in (200, 400, 422), (name, response.status_code)
        assert snapshot() == before, name


SEARCHES = ["/support/?name={}", "/support/?phone={}", "/support/?practice={}", "/support/audit?action={}",
            "/admin/practices?q={}", "/admin/usage?practice={}", "/settings/practices/nord-1/reminders?status={}",
            "/settings/practices/nord-1/reminders?patient={}"]


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("value", ["%00", "a%07b", "%1b", "%C2%85"])
def test_search_parameters_that_are_no_text_are_a_clear_400(as_user, tenants, search, value):
    response = as_user(tenants["vendor"]).get(search.format(value))
    assert response.status_code == 400
    assert search.split("?")[1].split("=")[0] in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31", "name=a&page=99999999999999999999",
                                   "name=a&page=-5", "date_from=2026-01-01&date_to=2026-12-31"])
def test_support_dates_and_pages_are_bounded(as_user, tenants, query):
    response = as_user(tenants["support"]).get(f"/support/?{query}")
    assert response.status_code == 200
    if "0001" in query or "9999-" in query:
        assert "01.01.1900" in response.get_data(as_text=True)


# --- redirects stay home -----------------------------------------------------------------

HOSTILE_TARGETS = ["//evil.example", "/\\evil.example", "\\/evil.example", "/\t/evil.example", "/\n/evil.example",
                   "/\r/evil.example", "\t//evil.example", "javascript:alert(1)", "https://evil.example/",
                   "http:evil.example", "/x\r\nSet-Cookie: a=b", " //evil.example", "\\\\evil.example",
                   "///evil.example", "/%09/evil.example\n"]


def _stays_home(location: str) -> bool:
    parts = urlsplit(location)
    return parts.netloc in ("", "localhost") and not parts.path.startswith("//") and "\\" not in location


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_login_redirects_only_within_the_site(app, tenants, target):
    client = app.test_client()
    response = client.post("/login", data={"email": tenants["vendor"].email, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert _stays_home(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_language_redirects_only_within_the_site(client, target):
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 302
    assert _stays_home(response.headers["Location"]), response.headers["Location"]


def test_the_login_page_takes_hostile_next_from_the_query(app, tenants):
    for query in ["/%09/evil.example", "/%0a/evil.example", "/%0d%0a", "%5C%5Cevil.example"]:
        assert app.test_client().get(f"/login?next={query}").status_code == 200


def test_a_path_on_the_site_is_kept(app, tenants):
    response = app.test_client().post("/login", data={"email": tenants["vendor"].email, "password": PASSWORD,
                                                      "next": "/support/?name=M%C3%BCller"})
    assert response.headers["Location"] == "/support/?name=M%C3%BCller"


# --- sessions end ------------------------------------------------------------------------

def test_a_password_change_ends_the_users_other_sessions(app, tenants):
    email = tenants["admin"].email
    first, second = app.test_client(), app.test_client()
    login(first, email), login(second, email)
    assert second.get("/password").status_code == 200
    response = first.post("/password", data={"current": PASSWORD, "new": "another long password",
                                             "confirm": "another long password"})
    assert response.status_code == 302
    assert first.get("/password").status_code == 200  # the session that changed it goes on
    assert second.get("/password").status_code == 302  # the other one is sent to the login
    assert login(second, email).status_code == 200  # the old password no longer works
    assert login(second, email, "another long password").status_code == 302


def test_a_cookie_copied_before_logout_does_not_work_after_it(app, tenants):
    client = app.test_client()
    login(client, tenants["admin"].email)
    cookie = client.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/password").status_code == 200
    client.post("/logout")
    assert copy.get("/password").status_code == 302
    assert "/login" in copy.get("/password").headers["Location"]


# --- canonical time zones only --------------------------------------------------------------

@pytest.mark.parametrize("zone", ["localtime", "Factory", "GMT0", "Etc/GMT+0"])
def test_non_canonical_time_zones_are_refused_in_the_portal(as_user, tenants, ctx, zone):
    before = snapshot()
    response = as_user(tenants["vendor"]).post(f"/settings/practices/{tenants['practice'].slug}",
                                               data={"timezone": zone})
    assert response.status_code in (200, 400, 422)
    assert 'name="timezone"' in response.get_data(as_text=True)
    assert snapshot() == before


def test_the_preview_refuses_deep_json_before_parsing(as_user, tenants):
    body = '{"template": "Hallo", "x": %s}' % DEEP_JSON
    response = as_user(tenants["admin"]).post("/settings/preview", data=body,
                                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]


@pytest.mark.parametrize("body", ['[1]', '"Hallo"', '7', 'null'])
def test_the_preview_refuses_a_body_that_is_no_object(as_user, tenants, body):
    response = as_user(tenants["admin"]).post("/settings/preview", data=body,
                                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "template" in response.json["error"]


def test_support_reads_the_audit_log_in_the_portal_and_the_api_alike(as_user, tenants, api, make):
    """DESIGN.md: support is read-only across all tenants; one rule for both surfaces."""
    portal = as_user(tenants["support"])
    page = portal.get("/support/audit")
    assert page.status_code == 200 and 'href="/support/audit"' in portal.get("/support/").get_data(as_text=True)
    assert api(make.token(tenants["support"])).get("/audit").status_code == 200
    assert portal.get("/support/audit?action=" + "x" * 65).status_code == 400



def test_every_portal_form_is_built_on_the_checked_bases():
    """A form on FlaskForm or Form directly would skip the input rules: none may."""
    from flask_wtf import FlaskForm
    from wtforms import Form

    ours = [cls for cls in _forms(Form) + _forms(FlaskForm) if cls.__module__.startswith("portal.")]
    assert ours and all(issubclass(cls, (PortalForm, SearchForm)) for cls in ours), ours
