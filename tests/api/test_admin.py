"""Administration API: what the vendor's licence team and group admins do."""
from datetime import date, timedelta

import pytest


@pytest.fixture
def vendor(make, api):
    return api(make.token(make.user("vendor_admin", email="lizenz@vendor.example")))


def create_practice(vendor, slug="am-markt", group="nord", **extra):
    vendor.post("/groups", json={"slug": group, "name": "Gruppe Nord"})
    return vendor.post("/practices", json={"slug": slug, "name": "Praxis am Markt", "group": group, **extra})


def test_vendor_creates_a_group_and_a_practice(vendor):
    response = create_practice(vendor, phone="030 1234567", timezone="Europe/Vienna")
    assert response.status_code == 201
    assert response.json["group"] == "nord"
    assert response.json["timezone"] == "Europe/Vienna"
    assert response.json["sms_enabled"] is False
    assert vendor.get("/groups/nord").json["practices"] == ["am-markt"]


def test_a_practice_defaults_to_berlin_time(vendor):
    assert create_practice(vendor).json["timezone"] == "Europe/Berlin"


def test_duplicate_slugs_are_a_conflict(vendor):
    create_practice(vendor)
    again = vendor.post("/practices", json={"slug": "am-markt", "name": "Zweite", "group": "nord"})
    assert again.status_code == 409
    assert again.json["errors"] == [{"field": "slug", "message": "a practice with this slug exists already"}]
    assert vendor.post("/groups", json={"slug": "nord", "name": "x"}).status_code == 409


def test_settings_inherit_from_group_and_say_where_they_come_from(vendor):
    create_practice(vendor)
    vendor.patch("/groups/nord/settings", json={"send_time": "17:00", "sender": "PraxisNord"})
    vendor.patch("/practices/am-markt/settings", json={"send_time": "19:30"})
    settings = vendor.get("/practices/am-markt/settings").json["settings"]
    assert settings["send_time"] == {"value": "19:30", "source": "practice", "own": "19:30"}
    assert settings["sender"] == {"value": "PraxisNord", "source": "group", "own": None}
    assert settings["quiet_start"] == {"value": "21:00", "source": "default", "own": None}

    vendor.patch("/practices/am-markt/settings", json={"send_time": None})
    assert vendor.get("/practices/am-markt/settings").json["settings"]["send_time"]["source"] == "group"


def test_notice_and_reply_settings_inherit_and_are_checked(vendor, app, monkeypatch):
    create_practice(vendor)
    refused = vendor.patch("/groups/nord/settings", json={"replies_enabled": True})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "replies_enabled"
    assert "MESSAGEBIRD_REPLY_NUMBER" in refused.json["errors"][0]["message"]
    monkeypatch.setitem(app.config, "MESSAGEBIRD_REPLY_NUMBER", "+4915799912345")
    settings = vendor.get("/practices/am-markt/settings").json["settings"]
    assert settings["change_notice"] == {"value": True, "source": "default", "own": None}
    assert settings["replies_enabled"]["value"] is False
    assert "JA" in settings["reply_line"]["value"] and "{uhrzeit}" in settings["change_template_moved"]["value"]

    vendor.patch("/groups/nord/settings", json={"replies_enabled": True, "change_notice": False})
    settings = vendor.get("/practices/am-markt/settings").json["settings"]
    assert (settings["replies_enabled"]["source"], settings["change_notice"]["value"]) == ("group", False)

    for field, value in (("reply_line", "Antworten Sie {JA}"), ("change_template_cancelled", "Abgesagt: {zeit}"),
                         ("change_notice", "yes")):
        refused = vendor.patch("/practices/am-markt/settings", json={field: value})
        assert refused.status_code == 422 and refused.json["errors"][0]["field"] == field
    assert vendor.get("/practices/am-markt/settings").json["settings"]["reply_line"]["own"] is None


def test_sms_can_be_switched_on_only_with_an_active_licence(vendor):
    create_practice(vendor)
    refused = vendor.patch("/practices/am-markt/settings", json={"sms_enabled": True})
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "sms_enabled"
    assert vendor.get("/practices/am-markt").json["sms_enabled"] is False

    vendor.put("/practices/am-markt/licence", json={"status": "active", "valid_from": str(date.today())})
    assert vendor.patch("/practices/am-markt/settings", json={"sms_enabled": True}).status_code == 200
    assert vendor.get("/practices/am-markt").json["sms_enabled"] is True


@pytest.mark.parametrize("licence", [
    {"status": "suspended", "valid_from": "2026-01-01"},
    {"status": "revoked", "valid_from": "2026-01-01"},
    {"status": "active", "valid_from": str(date.today() + timedelta(days=3))},
    {"status": "active", "valid_from": "2020-01-01", "valid_until": str(date.today() - timedelta(days=1))},
])
def test_a_licence_that_is_not_in_force_is_not_active(vendor, licence):
    create_practice(vendor)
    assert vendor.put("/practices/am-markt/licence", json=licence).json["active"] is False
    assert vendor.patch("/practices/am-markt/settings", json={"sms_enabled": True}).status_code == 422


def test_licence_history_keeps_every_change_and_who_made_it(vendor):
    create_practice(vendor)
    vendor.put("/practices/am-markt/licence", json={"status": "active", "valid_from": "2026-01-01", "monthly_quota": 500})
    vendor.put("/practices/am-markt/licence", json={"status": "suspended", "valid_from": "2026-01-01"})
    licence = vendor.get("/practices/am-markt/licence").json
    assert licence["current"]["status"] == "suspended"
    assert [row["status"] for row in licence["history"]] == ["suspended", "active"]
    assert licence["history"][1]["monthly_quota"] == 500
    assert {row["created_by"] for row in licence["history"]} == {"lizenz@vendor.example"}


def test_api_key_is_shown_once_stored_hashed_and_revocable(vendor, api):
    create_practice(vendor)
    created = vendor.post("/practices/am-markt/api-keys", json={"label": "Empfang"})
    assert created.status_code == 201
    key = created.json["key"]
    listed = vendor.get("/practices/am-markt/api-keys").json["api_keys"]
    assert "key" not in listed[0] and key not in str(listed)
    assert listed[0]["last_used_at"] is None

    program = api(key)
    assert program.get("/groups").status_code == 403  # authenticated, but no administration
    assert vendor.get("/practices/am-markt/api-keys").json["api_keys"][0]["last_used_at"] is not None

    assert vendor.delete(f"/practices/am-markt/api-keys/{created.json['id']}").status_code == 204
    assert program.get("/groups").status_code == 401


def test_every_change_is_in_the_audit_log_with_before_and_after(vendor):
    create_practice(vendor)
    vendor.patch("/practices/am-markt/settings", json={"send_time": "17:15"})
    vendor.patch("/practices/am-markt/settings", json={"send_time": "16:00"})
    entries = vendor.get("/audit").json["entries"]
    assert [e["action"] for e in entries] == ["practice.settings", "practice.settings", "practice.create", "group.create"]
    assert entries[0]["before"] == {"send_time": "17:15"} and entries[0]["after"] == {"send_time": "16:00"}
    assert entries[0]["actor"] == "lizenz@vendor.example"


def test_audit_log_pages(vendor):
    for number in range(5):
        vendor.post("/groups", json={"slug": f"g{number}", "name": "G"})
    first = vendor.get("/audit?limit=2").json
    second = vendor.get(f"/audit?limit=2&before={first['next_before']}").json
    assert len(first["entries"]) == len(second["entries"]) == 2
    assert first["entries"][-1]["object_key"] == "g3" and second["entries"][0]["object_key"] == "g2"


def test_revoked_personal_token_is_refused(make, api):
    from portal.extensions import db
    from portal.models import ApiToken, utcnow

    user = make.user("support")
    secret = make.token(user)
    assert api(secret).get("/groups").status_code == 200
    db.session.query(ApiToken).update({"revoked_at": utcnow()})
    db.session.commit()
    assert api(secret).get("/groups").status_code == 401
