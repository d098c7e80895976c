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
