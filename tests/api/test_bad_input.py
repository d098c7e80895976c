"""Bad input gets a clear problem+json error and changes nothing."""
import pytest


@pytest.fixture
def vendor(make, api):
    make.practice("am-markt", group=make.group("nord"))
    return api(make.token(make.user("vendor_admin")))


def assert_nothing_changed(vendor):
    assert vendor.get("/audit").json["entries"] == []
    assert [g["slug"] for g in vendor.get("/groups").json["groups"]] == ["nord"]
    assert vendor.get("/practices/am-markt/settings").json["settings"]["send_time"]["source"] == "default"


@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/groups", {"slug": "nord2", "name": "N", "colour": "red"}, "colour"),
    ("POST", "/groups", {"slug": "Nord Süd", "name": "N"}, "slug"),
    ("POST", "/groups", {"slug": "-nord", "name": "N"}, "slug"),
    ("POST", "/groups", {"slug": "nord/../x", "name": "N"}, "slug"),
    ("POST", "/groups", {"slug": "x" * 65, "name": "N"}, "slug"),
    ("POST", "/groups", {"slug": "nord2", "name": "N" * 201}, "name"),
    ("POST", "/groups", {"slug": 12, "name": "N"}, "slug"),
    ("POST", "/groups", {"name": "N"}, "slug"),
    ("POST", "/practices", {"slug": "p2", "name": "P", "group": "nord", "timezone": "Mars/Olympus"}, "timezone"),
    
    ("PATCH", "/practices/am-markt/settings", {"send_time": "25:00"}, "send_time"),
    ("PATCH", "/practices/am-markt/settings", {"send_time": 1800}, "send_time"),
    ("PATCH", "/practices/am-markt/settings", {"hours_before": "24"}, "hours_before"),
    ("PATCH", "/practices/am-markt/settings", {"hours_before": True}, "hours_before"),
    ("PATCH", "/practices/am-markt/settings", {"send_policy": "weekly"}, "send_policy"),
    ("PATCH", "/practices/am-markt/settings", {"timezone": "Berlin"}, "timezone"),
    ("PATCH", "/practices/am-markt/settings", {"sender": "Praxis am Markt"}, "sender"),
    ("PATCH", "/practices/am-markt/settings", {"template": "Hallo {Vorname}"}, "template"),
    ("PATCH", "/practices/am-markt/settings", {"unknown": 1}, "unknown"),
    ("PATCH", "/groups/nord/settings", {"sms_enabled": True}, "sms_enabled"),
    ("PUT", "/practices/am-markt/licence", {"status": "paused", "valid_from": "2026-01-01"}, "status"),
    ("PUT", "/practices/am-markt/licence", {"status": "active", "valid_from": "01.01.2026"}, "valid_from"),
    ("PUT", "/practices/am-markt/licence", {"status": "active", "valid_from": "2026-02-01", "valid_until": "2026-01-01"}, "valid_until"),
    ("PUT", "/practices/am-markt/licence", {"status": "active", "valid_from": "2026-01-01", "monthly_quota": -5}, "monthly_quota"),
])
def test_invalid_fields_are_named_and_nothing_changes(vendor, method, path, body, field):
    response = vendor.call(method, path, json=body)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.json["errors"]]
    assert_nothing_changed(vendor)


def test_unknown_placeholder_is_named_in_the_error(vendor):
    response = vendor.patch("/practices/am-markt/settings", json={"template": "Termin {datum} bei {doktor}"})
    assert "doktor" in response.json["errors"][0]["message"]


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(vendor, data):
    response = vendor.call("PATCH", "/practices/am-markt/settings", data=data, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["detail"]
    assert_nothing_changed(vendor)


def test_a_body_of_several_megabytes_is_refused(vendor):
    huge = b'{"template": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = vendor.call("PATCH", "/practices/am-markt/settings", data=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert_nothing_changed(vendor)


def test_unknown_paths_and_methods_answer_in_problem_json(vendor):
    assert vendor.get("/nothing-here").mimetype == "application/problem+json"
    response = vendor.call("DELETE", "/groups")
    assert response.status_code == 405 and response.mimetype == "application/problem+json"


def test_a_valid_change_after_refused_ones_still_works(vendor):
    vendor.patch("/practices/am-markt/settings", json={"send_time": "99:99", "quiet_start": "20:00"})
    assert vendor.get("/practices/am-markt/settings").json["settings"]["quiet_start"]["source"] == "default"
    assert vendor.patch("/practices/am-markt/settings", json={"quiet_start": "20:00"}).status_code == 200


def test_a_whole_number_written_with_a_decimal_point_is_a_whole_number(vendor):
    """JSON has one number type; JSON Schema counts 24.0 as an integer, so do we."""
    assert vendor.patch("/practices/am-markt/settings", json={"hours_before": 24.0}).status_code == 200
    assert vendor.get("/practices/am-markt/settings").json["settings"]["hours_before"]["own"] == 24
    refused = vendor.patch("/practices/am-markt/settings", json={"hours_before": 24.5})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "hours_before"
