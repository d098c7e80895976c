"""The OpenAPI document describes every endpoint truthfully: schemathesis
generates requests from it and checks each answer against it."""
import pytest
import schemathesis
from schemathesis.checks import positive_data_acceptance
from hypothesis import HealthCheck, given, settings

from portal.api.core import OPERATIONS


@pytest.fixture
def vendor_secret(make):
    """A vendor token and a practice, so generated requests also reach real objects."""
    make.licensed_practice(slug="am-markt", group=make.group("nord"))
    return make.token(make.user("vendor_admin"))


def test_every_answer_matches_the_document(app, vendor_secret):
    # schemathesis's pytest plugin does not run under pytest 9 yet: drive its strategies directly.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {vendor_secret}"}
    for result in schema.get_all_operations():
        check_operation(result.ok(), headers)


# Rules across fields or stored state that a JSON schema cannot express: a
# licence ending before it starts, SMS on without an active licence. These
# must answer 422, so "valid by the schema, therefore accepted" does not hold.
CROSS_FIELD_RULES = {("PUT", "/api/v1/practices/{practice_slug}/licence"), ("PATCH", "/api/v1/practices/{practice_slug}/settings")}


def check_operation(operation, headers):
    excluded = [positive_data_acceptance] if (operation.method.upper(), operation.path) in CROSS_FIELD_RULES else []

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    check()


def test_document_lists_every_declared_operation(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    declared = {(op.method.lower(), "/api/v1" + op.path) for op in OPERATIONS}
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert declared == documented
    for path, item in document["paths"].items():
        for method, spec in item.items():
            assert "401" in spec["responses"], (method, path)


def test_an_optional_body_is_documented_as_optional(client):
    cancel = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/appointments/{appointment_id}"]["delete"]
    assert cancel["requestBody"]["required"] is False
    assert {"400", "422"} <= set(cancel["responses"])


# --- hostile strategies on top of the document's own: NUL in a text field, deep nesting ----------

def _with_nul(case, name):
    if isinstance(case.body, dict) and isinstance(case.body.get(name), str):
        case.body = {**case.body, name: case.body[name] + "\x00"}
    return case


def _nested(case, depth):
    value = []
    for _ in range(depth):
        value = [value]
    case.body = {"nested": value}
    return case


def _text_properties(operation) -> list[str]:
    schema = operation.definition.raw.get("requestBody", {}).get("content", {}).get("application/json", {})
    reference = schema.get("schema", {}).get("$ref", "")
    properties = operation.schema.raw_schema["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {})
    return [name for name, spec in properties.get("properties", {}).items()
            if "string" in {option.get("type") for option in spec.get("anyOf", [spec])}]


def test_nul_and_deep_nesting_are_refused_never_a_server_error(app, vendor_secret, make):
    from hypothesis import strategies as st

    practice_key = make.practice_key(make.licensed_practice(slug="praxis-2", group=make.group("sued")))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        texts = _text_properties(operation)
        if "requestBody" not in operation.definition.raw:
            continue
        secret = practice_key if "practice program" in operation.definition.raw["tags"] else vendor_secret
        headers = {"Authorization": f"Bearer {secret}"}
        hostile = operation.as_strategy().flatmap(lambda case: st.one_of(
            *([st.sampled_from(texts).map(lambda name: _with_nul(case, name))] if texts else []),
            st.integers(33, 400).map(lambda depth: _nested(case, depth)),
        ))

        @given(case=hostile)
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.text[:300])
            if isinstance(case.body, dict) and "nested" in case.body:
                assert response.status_code in (400, 401, 403, 404), response.text[:300]
            elif response.status_code == 422:
                assert response.json()["errors"]

        check()
