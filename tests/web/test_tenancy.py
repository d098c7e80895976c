"""Every page is scoped like the API: another group's objects are "not found",
pages of another role are "forbidden"."""
import pytest

from portal.extensions import db
from portal.models import AuditEntry


def _foreign_paths(sent_reminder) -> list[tuple[str, str]]:
    appointment, patient = sent_reminder["appointment"], sent_reminder["patient"]
    return [
        ("GET", "/settings/groups/home"),
        ("POST", "/settings/groups/home"),
        ("GET", "/settings/practices/nord-1"),
        ("POST", "/settings/practices/nord-1"),
        ("GET", "/settings/practices/nord-1/reminders"),
        ("GET", "/settings/practices/nord-1/data-quality"),
        ("GET", f"/support/appointments/{appointment.id}"),
        ("POST", f"/support/appointments/{appointment.id}/reveal"),
        ("POST", f"/support/patients/{patient.id}/replan"),
        ("POST", "/support/practices/nord-1/replan"),
        # objects named in the query string, not the path
        ("GET", "/admin/usage?practice=nord-1"),
        ("GET", "/admin/usage?practice=nord-1&days=90"),
    ]


def test_group_admin_of_another_group_gets_404_everywhere(as_user, tenants, sent_reminder):
    client = as_user(tenants["stranger"])
    for method, path in _foreign_paths(sent_reminder):
        response = client.open(path, method=method, data={})
        assert response.status_code == 404, (method, path, response.status_code)
    assert db.session.query(AuditEntry).filter_by(action="phone.reveal").count() == 0


def test_group_admin_sees_its_own_group(as_user, tenants, sent_reminder):
    client = as_user(tenants["admin"])
    for method, path in _foreign_paths(sent_reminder):
        if method == "GET":
            assert client.get(path).status_code == 200, path


def test_lookup_never_finds_another_groups_appointments(as_user, tenants, sent_reminder):
    stranger = as_user(tenants["stranger"])
    for query in ["phone=0170 1234567", "name=Mustermann", "appointment=T-1001", "message_id=mb-msg-4711",
                  f"appointment={sent_reminder['appointment'].id}", "practice=nord-1"]:
        page = stranger.get("/support/?" + query.replace(" ", "+")).get_data(as_text=True)
        assert "/support/appointments/" not in page and "#T-1001" not in page, query
    home = as_user(tenants["admin"])
    assert "T-1001" in home.get("/support/", query_string={"phone": "0170 1234567"}).get_data(as_text=True)


def test_group_admin_sees_only_its_groups_in_lists(as_user, tenants):
    client = as_user(tenants["admin"])
    page = client.get("/settings/").get_data(as_text=True)
    assert "Praxis Nord" in page and "Praxis Süd" not in page
    lookup = client.get("/support/").get_data(as_text=True)
    assert "sued-1" not in lookup


@pytest.mark.parametrize("path", ["/admin/practices", "/admin/practices/nord-1", "/admin/users"])
@pytest.mark.parametrize("role", ["admin", "support"])
def test_vendor_pages_are_forbidden_to_other_roles(as_user, tenants, path, role):
    assert as_user(tenants[role]).get(path).status_code == 403


def test_usage_figures_are_scoped(as_user, tenants):
    assert as_user(tenants["support"]).get("/admin/usage").status_code == 403
    client = as_user(tenants["admin"])
    page = client.get("/admin/usage").get_data(as_text=True)
    assert "Praxis Nord" in page and "Praxis Süd" not in page
    assert client.get("/admin/usage?practice=sued-1").status_code == 404


@pytest.mark.parametrize("method,path", [
    ("POST", "/admin/groups"), ("POST", "/admin/practices"), ("POST", "/admin/practices/nord-1/licence"),
    ("POST", "/admin/practices/nord-1/api-keys"), ("POST", "/admin/users"), ("POST", "/admin/users/1/token"),
])
def test_vendor_actions_are_forbidden_to_group_admins(as_user, tenants, method, path):
    assert as_user(tenants["admin"]).open(path, method=method, data={}).status_code == 403


def test_support_reads_but_does_not_change(as_user, tenants, sent_reminder):
    client = as_user(tenants["support"])
    assert client.get(f"/support/appointments/{sent_reminder['appointment'].id}").status_code == 200
    assert client.get("/settings/practices/nord-1/reminders").status_code == 200
    assert client.get("/settings/practices/nord-1").status_code == 403
    assert client.post("/settings/practices/nord-1", data={}).status_code == 403
    assert client.post("/settings/preview", json={"template": "x"}).status_code == 403
    assert client.post(f"/support/patients/{sent_reminder['patient'].id}/replan").status_code == 403
    assert client.post("/support/practices/nord-1/replan").status_code == 403
    assert client.get("/support/audit").status_code == 200  # read-only across all tenants, as in the API


def test_vendor_sees_every_tenant(as_user, tenants, sent_reminder):
    client = as_user(tenants["vendor"])
    for path in ["/settings/groups/foreign", "/settings/practices/sued-1", "/admin/practices/sued-1",
                 f"/support/appointments/{sent_reminder['appointment'].id}", "/admin/usage?practice=sued-1"]:
        assert client.get(path).status_code == 200, path
