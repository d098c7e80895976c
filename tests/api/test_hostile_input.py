"""Every hostile value of tests/hostile.py against every write endpoint and every search
parameter, walked from the OpenAPI document: a 4xx problem naming the field, nothing changed."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from portal import create_app
from tests.hostile import DEEP_JSON, HOSTILE_DATES, HOSTILE_TEXT, ODD_TEXT, snapshot

# A valid body per write operation; each case replaces one property of it.
VALID_BODIES = {
    ("post", "/api/v1/groups"): {"slug": "neu", "name": "Neue Gruppe"},
    ("patch", "/api/v1/groups/{group_slug}/settings"): {"send_time": "17:30"},
    ("post", "/api/v1/practices"): {"slug": "neu", "name": "Neue Praxis", "group": "nord"},
    ("patch", "/api/v1/practices/{practice_slug}/settings"): {"send_time": "17:30"},
    ("put", "/api/v1/practices/{practice_slug}/licence"): {"status": "active", "valid_from": "2026-01-01"},
    ("post", "/api/v1/practices/{practice_slug}/api-keys"): {"label": "Empfang"},
    ("put", "/api/v1/patients/{patient_id}"): {"first_name": "Erika", "last_name": "Muster", "sms_consent": True},
    ("put", "/api/v1/appointments/{appointment_id}"): {"patient": "p-1", "start": "2026-12-01T10:00:00+01:00"},
    ("delete", "/api/v1/appointments/{appointment_id}"): {"change_source": "dialog"},
    ("post", "/api/v1/sync"): {"operations": [{"op": "delete_patient", "id": "p-1"}]},
}
PATH_VALUES = {"group_slug": "nord", "practice_slug": "am-markt", "patient_id": "p-1", "appointment_id": "a-1"}


def _document() -> dict:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return app.test_client().get("/api/v1/openapi.json").json


DOCUMENT = _document()


def _schema(reference: dict) -> dict:
    return DOCUMENT["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]


def _kinds(schema: dict) -> set[str]:
    """"date" for a date or time property, "text" for any other."""
    formats = {option.get("format") for option in schema.get("anyOf", [schema])}
    return {"date"} if formats & {"date", "date-time"} else {"text"}


def _operations():
    for path, item in DOCUMENT["paths"].items():
        for method, spec in item.items():
            yield method, path, spec


def _body_cases():
    for method, path, spec in _operations():
        content = spec.get("requestBody", {}).get("content", {}).get("application/json")
        if not content:
            continue
        for name, schema in _schema(content["schema"])["properties"].items():
            values = HOSTILE_DATES if "date" in _kinds(schema) else HOSTILE_TEXT
            for label, value in values.items():
                yield pytest.param(method, path, spec, name, value, id=f"{method} {path} {name} {label}")


def _query_parameters():
    for path, item in DOCUMENT["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["in"] == "query":
                yield path, item["get"], parameter


def _query_cases():
    for path, spec, parameter in _query_parameters():
        values = HOSTILE_DATES if "date" in _kinds(parameter["schema"]) else HOSTILE_TEXT
        for label, value in values.items():
            if label != "lone_surrogate":  # no URL carries one: its bytes are decoded as U+FFFD (text)
                yield pytest.param(path, spec, parameter["name"], value, id=f"{path} {parameter['name']} {label}")


@pytest.fixture
def callers(make):
    practice = make.licensed_practice(slug="am-markt", group=make.group("nord"))
    patient = make.patient(practice, external_id="p-1")
    make.appointment(patient, start=datetime.now(timezone.utc) + timedelta(days=3), external_id="a-1")
    return {"administration": make.token(make.user("vendor_admin")), "support": make.token(make.user("support")),
            "practice program": make.practice_key(practice)}


def _caller(api, callers, spec):
    """The lookup as support asks it; every other operation as its tag's caller."""
    return api(callers["support" if "support" in spec["tags"] else spec["tags"][0]])


def _call(api, callers, method, path, spec, body: bytes):
    client = _caller(api, callers, spec)
    url = path.removeprefix("/api/v1").format(**PATH_VALUES)
    return client.call(method.upper(), url, data=body, headers={"Content-Type": "application/json"})


def test_every_write_operation_has_a_valid_body():
    """A new endpoint with a body must be added to the table above, so it is driven too."""
    with_body = {(m, p) for m, p, spec in _operations() if "requestBody" in spec}
    assert with_body == set(VALID_BODIES)


@pytest.mark.parametrize("method,path,spec,name,value", list(_body_cases()))
def test_hostile_body_values_are_refused_naming_the_field(api, callers, ctx, method, path, spec, name, value):
    body = {**VALID_BODIES[(method, path)], name: value}
    before = snapshot()
    response = _call(api, callers, method, path, spec, json.dumps(body).encode())
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert name in [error["field"].split(".")[0] for error in response.json["errors"]], response.json
    assert snapshot() == before


@pytest.mark.parametrize("method,path", sorted(VALID_BODIES))
def test_deeply_nested_json_is_refused_before_parsing(api, callers, ctx, method, path):
    spec = DOCUMENT["paths"][path][method]
    name = next(iter(VALID_BODIES[(method, path)]))
    before = snapshot()
    response = _call(api, callers, method, path, spec, ('{"%s": %s}' % (name, DEEP_JSON)).encode())
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json" and "nested deeper" in response.json["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("method,path", sorted(VALID_BODIES))
@pytest.mark.parametrize("label", sorted(ODD_TEXT))
def test_odd_but_real_text_is_never_a_server_error(api, callers, ctx, method, path, label):
    spec = DOCUMENT["paths"][path][method]
    body = VALID_BODIES[(method, path)]
    for name in _schema(spec["requestBody"]["content"]["application/json"]["schema"])["properties"]:
        if "text" in _kinds(_schema_of(spec, name)):
            response = _call(api, callers, method, path, spec, json.dumps({**body, name: ODD_TEXT[label]}).encode())
            assert response.status_code < 500, (name, response.json)
            if response.status_code >= 400:
                assert response.json["errors"], (name, response.json)


def _schema_of(spec, name):
    return _schema(spec["requestBody"]["content"]["application/json"]["schema"])["properties"][name]


@pytest.mark.parametrize("path,spec,name,value", list(_query_cases()))
def test_hostile_search_parameters_are_refused_naming_the_parameter(api, callers, ctx, path, spec, name, value):
    client = _caller(api, callers, spec)
    before = snapshot()
    response = client.get(path.removeprefix("/api/v1"), query_string={name: value})
    assert response.status_code == 422, response.json
    assert name in [error["field"] for error in response.json["errors"]]
    assert snapshot() == before


@pytest.mark.parametrize("path,spec,parameter", list(_query_parameters()))
def test_the_bytes_of_a_lone_surrogate_in_a_search_are_never_a_server_error(api, callers, ctx, path, spec, parameter):
    response = _caller(api, callers, spec).get(path.removeprefix("/api/v1") + f"?{parameter['name']}=Er%ED%A0%80ika")
    assert response.status_code in (200, 422), response.json


@pytest.mark.parametrize("zone", ["localtime", "Factory", "GMT0", "Etc/GMT+0"])
def test_only_canonical_time_zones_are_accepted(api, callers, ctx, zone):
    vendor = api(callers["administration"])
    before = snapshot()
    for method, path, body in [("POST", "/practices", {"slug": "neu", "name": "Neu", "group": "nord", "timezone": zone}),
                               ("PATCH", "/practices/am-markt/settings", {"timezone": zone}),
                               ("PATCH", "/groups/nord/settings", {"timezone": zone})]:
        response = vendor.call(method, path, json=body)
        assert response.status_code == 422, (path, response.json)
        assert "timezone" in [error["field"] for error in response.json["errors"]]
    assert snapshot() == before


def _strings(schema: dict):
    for option in schema.get("anyOf", [schema]):
        if "$ref" in option:
            yield from _strings(_schema(option))
        elif option.get("type") == "string":
            yield option
        for inner in option.get("properties", {}).values():
            yield from _strings(inner)
        if "items" in option:
            yield from _strings(option["items"])


def test_every_text_the_api_takes_is_documented_as_printable():
    """Each string a request may carry has a pattern or a fixed set of values: the text type, not a bare str."""
    bare = []
    for method, path, spec in _operations():
        content = spec.get("requestBody", {}).get("content", {}).get("application/json")
        schemas = [content["schema"]] if content else []
        schemas += [parameter["schema"] for parameter in spec.get("parameters", []) if parameter["in"] == "query"]
        for schema in schemas:
            bare += [(method, path, s) for s in _strings(schema) if not {"pattern", "enum", "const"} & set(s)]
    assert bare == []
