"""Every role and key against every administration endpoint, on a foreign tenant.

The matrix is built from the declared operations, so an endpoint added later
is covered without anyone remembering to add it here.
"""
import pytest

from portal.api.core import OPERATIONS

ADMIN_OPERATIONS = [op for op in OPERATIONS if "administration" in op.tags]

SAMPLE_BODIES = {
    ("POST", "/groups"): {"slug": "new-group", "name": "Neue Gruppe"},
    ("PATCH", "/groups/{group_slug}/settings"): {"send_time": "17:30"},
    ("POST", "/practices"): {"slug": "new-practice", "name": "Neue Praxis", "group": "sued"},
    ("PATCH", "/practices/{practice_slug}/settings"): {"send_time": "17:30"},
    ("PUT", "/practices/{practice_slug}/licence"): {"status": "suspended", "valid_from": "2026-01-01"},
    ("POST", "/practices/{practice_slug}/api-keys"): {"label": "Empfang"},
}


@pytest.fixture
def tenants(make):
    """Group "nord" (the caller's own) and group "sued" (foreign), one practice each."""
    own_group, foreign_group = make.group("nord"), make.group("sued")
    own, foreign = make.licensed_practice(group=own_group, slug="nord-1"), make.licensed_practice(group=foreign_group, slug="sued-1")
    foreign_key_id = str(make_key_id(make, foreign))
    return {
        "own_group": own_group, "foreign_group": foreign_group, "own": own, "foreign": foreign,
        "credentials": {
            "vendor_admin": make.token(make.user("vendor_admin")),
            "support": make.token(make.user("support")),
            "group_admin": make.token(make.user("group_admin", group=own_group)),
            "practice_key": make.practice_key(own),
        },
        "path": {"group_slug": "sued", "practice_slug": "sued-1", "key_id": foreign_key_id},
    }


def make_key_id(make, practice) -> int:
    from portal.models import PracticeApiKey
    from portal.extensions import db

    make.practice_key(practice)
    return db.session.query(PracticeApiKey.id).filter_by(practice_id=practice.id).scalar()


def expected_status(role: str, op) -> int | str:
    """What each role must get on a foreign tenant's object."""
    if role == "practice_key":
        return 403
    has_object = "{" in op.path
    if role == "group_admin":
        return 404 if has_object else (403 if op.method != "GET" else "ok")
    if role == "support":
        return "ok" if op.method == "GET" else 403
    return "ok"


def test_the_matrix_covers_every_administration_endpoint():
    declared = {(op.method, op.path) for op in ADMIN_OPERATIONS}
    writes = {key for key in declared if key[0] in ("POST", "PUT", "PATCH")}
    assert writes <= set(SAMPLE_BODIES), "add a sample body for each new write endpoint"
    assert len(declared) >= 15


@pytest.mark.parametrize("role", ["vendor_admin", "support", "group_admin", "practice_key"])
def test_each_role_on_a_foreign_tenant(tenants, api, role):
    client = api(tenants["credentials"][role])
    for op in ADMIN_OPERATIONS:
        path = op.path.format(**tenants["path"])
        response = client.call(op.method, path, json=SAMPLE_BODIES.get((op.method, op.path)))
        expected = expected_status(role, op)
        if expected == "ok":
            assert response.status_code < 300, (role, op.method, path, response.json)
        else:
            assert response.status_code == expected, (role, op.method, path, response.json)
            assert response.mimetype == "application/problem+json"
            assert "sued" not in response.get_data(as_text=True), "a refusal must not echo foreign data"


def test_group_admin_lists_only_its_own_group(tenants, api):
    client = api(tenants["credentials"]["group_admin"])
    assert [g["slug"] for g in client.get("/groups").json["groups"]] == ["nord"]
    assert [p["slug"] for p in client.get("/practices").json["practices"]] == ["nord-1"]


def test_group_admin_changes_its_own_settings_but_not_licences_or_keys(tenants, api):
    client = api(tenants["credentials"]["group_admin"])
    assert client.patch("/practices/nord-1/settings", json={"send_time": "17:00"}).status_code == 200
    assert client.patch("/groups/nord/settings", json={"quiet_start": "20:00"}).status_code == 200
    assert client.put("/practices/nord-1/licence", json=SAMPLE_BODIES[("PUT", "/practices/{practice_slug}/licence")]).status_code == 403
    assert client.post("/practices/nord-1/api-keys", json={}).status_code == 403
    assert client.get("/practices/nord-1/licence").json["current"]["status"] == "active"


def test_a_refused_write_changes_nothing(tenants, api):
    api(tenants["credentials"]["support"]).patch("/practices/sued-1/settings", json={"send_time": "05:00"})
    api(tenants["credentials"]["group_admin"]).patch("/practices/sued-1/settings", json={"send_time": "05:00"})
    vendor = api(tenants["credentials"]["vendor_admin"])
    assert vendor.get("/practices/sued-1/settings").json["settings"]["send_time"]["value"] == "18:00"
    assert vendor.get("/audit").json["entries"] == []


def test_a_foreign_object_and_a_missing_one_look_the_same(tenants, api):
    client = api(tenants["credentials"]["group_admin"])
    foreign = client.get("/practices/sued-1")
    missing = client.get("/practices/does-not-exist")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json == missing.json


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer pt_unknown", "Basic dXNlcjpwdw==", "Bearer pk_nothing"])
def test_without_valid_credentials_every_endpoint_is_401(tenants, client, header):
    for op in ADMIN_OPERATIONS:
        path = "/api/v1" + op.path.format(**tenants["path"])
        response = client.open(path, method=op.method, headers={"Authorization": header} if header else {})
        assert response.status_code == 401, (op.method, path)
        assert response.json["status"] == 401
