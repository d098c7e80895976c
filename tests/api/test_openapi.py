"""The OpenAPI document describes every endpoint truthfully: schemathesis
generates requests from it, valid and invalid, and checks each answer against
it; the document itself is valid OpenAPI 3.1 and its examples fit its schemas."""
import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from portal.api.core import OPERATIONS
from portal.api.examples import EXAMPLES
from portal.domain.settings import TIMEZONES

OPERATIONS_PATHS = {("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics")}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json


@pytest.fixture
def secrets(make):
    """A vendor token and the key of a practice, so generated requests also reach real objects."""
    practice = make.licensed_practice(slug="am-markt", group=make.group("nord"))
    return {"personalToken": make.token(make.user("vendor_admin")), "practiceKey": make.practice_key(practice)}


def test_every_answer_matches_the_document(app, secrets):
    # schemathesis's pytest plugin does not run under pytest 9 yet: drive its strategies directly.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    served = {rule.rule for rule in app.url_map.iter_rules()}
    for result in schema.get_all_operations():
        operation = result.ok()
        # /healthz, /readyz and /metrics are served by the operations blueprint once it is there.
        if re.sub(r"\{(\w+)\}", r"<\1>", operation.path) in served:
            # The credential the operation names; none for /healthz and /readyz, and no METRICS_TOKEN is set.
            credential = next(iter((operation.definition.raw["security"] or [{}])[0]), None)
            headers = {"Authorization": f"Bearer {secrets[credential]}"} if credential in secrets else {}
            for mode in [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if can_be_wrong(operation) else []):
                check_operation(operation, headers, mode)


def can_be_wrong(operation) -> bool:
    """Whether a request can break the document: a parameter, a body, or credentials it requires."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody") or (raw["security"] and all(raw["security"])))


# Rules across fields or stored state that a JSON schema cannot express: a
# licence ending before it starts, SMS on without an active licence, replies
# on without a reply number (a practice's or a group's), an appointment of a
# patient never synced. These must answer 422, so "valid by the schema,
# therefore accepted" does not hold.
CROSS_FIELD_RULES = {("PUT", "/api/v1/practices/{practice_slug}/licence"), ("PATCH", "/api/v1/practices/{practice_slug}/settings"),
                     ("PATCH", "/api/v1/groups/{group_slug}/settings"), ("PUT", "/api/v1/appointments/{appointment_id}")}
# /sync checks each operation on its own: an invalid one gets its own 422 result inside a 200 answer.
CHECKED_ONE_BY_ONE = {("POST", "/api/v1/sync")}


def check_operation(operation, headers, mode):
    key = (operation.method.upper(), operation.path)
    excluded = [positive_data_acceptance] if key in CROSS_FIELD_RULES else []
    if key in CHECKED_ONE_BY_ONE:
        excluded.append(negative_data_rejection)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        # A case whose credentials the negative run took away is sent without ours: it must get 401.
        header = case.meta.components.get(ParameterLocation.HEADER)
        credentials = None if header and header.mode.is_negative else headers
        case.call_and_validate(headers=credentials, excluded_checks=excluded)

    check()


def test_the_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_document_lists_every_declared_operation(document):
    declared = {(op.method.lower(), "/api/v1" + op.path) for op in OPERATIONS}
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == declared | OPERATIONS_PATHS
    for path, item in document["paths"].items():
        for method, spec in item.items():
            if path.startswith("/api/v1/"):
                assert {"401", "405"} <= set(spec["responses"]), (method, path)
                assert "WWW-Authenticate" in spec["responses"]["401"]["headers"]
                assert spec["description"] and spec["summary"], (method, path)
    assert set(document["webhooks"]) == {"messagebirdStatusReport", "messagebirdInboundSms"}


def test_operation_ids_are_readable_and_unique(document):
    ids = [spec["operationId"] for item in document["paths"].values() for spec in item.values()]
    assert len(ids) == len(set(ids))
    assert {"createGroup", "putAppointment", "revokeApiKey", "lookup", "getHealth"} <= set(ids)
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation_id) for operation_id in ids), ids


def test_who_may_call_what_is_stated(document):
    paths = document["paths"]
    put_patient = paths["/api/v1/patients/{patient_id}"]["put"]
    assert put_patient["security"] == [{"practiceKey": []}]
    create_key = paths["/api/v1/practices/{practice_slug}/api-keys"]["post"]
    assert create_key["security"] == [{"personalToken": []}]
    assert create_key["x-vendor-only"] is True and create_key["x-roles"] == ["vendor_admin"]
    settings_patch = paths["/api/v1/practices/{practice_slug}/settings"]["patch"]
    assert settings_patch["x-vendor-only"] is False and "group_admin" in settings_patch["x-roles"]
    assert {"personalToken", "practiceKey"} <= set(document["components"]["securitySchemes"])
    assert all(tag.get("description") for tag in document["tags"])


def test_time_zones_are_one_named_schema(document):
    text = json.dumps(document)
    assert document["components"]["schemas"]["TimeZone"]["enum"] == list(TIMEZONES)
    assert text.count('"Africa/Abidjan"') == 1
    assert "GMT0" not in document["components"]["schemas"]["TimeZone"]["enum"]
    practice_in = document["components"]["schemas"]["PracticeIn"]["properties"]["timezone"]
    assert {"$ref": "#/components/schemas/TimeZone"} in practice_in["anyOf"]


def test_limits_are_json_schema_keywords(document):
    schemas = document["components"]["schemas"]
    duration = schemas["AppointmentIn"]["properties"]["duration_minutes"]["anyOf"][0]
    assert (duration["minimum"], duration["maximum"]) == (1, 1440)
    quota = schemas["LicenceIn"]["properties"]["monthly_quota"]["anyOf"][0]
    assert quota["minimum"] == 0
    assert not list(_pydantic_keywords(document))


def _pydantic_keywords(node):
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number") and {"ge", "le", "gt", "lt"} & set(node):
            yield node
        for value in node.values():
            yield from _pydantic_keywords(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pydantic_keywords(value)


def test_fields_always_sent_are_required(document):
    schemas = document["components"]["schemas"]
    assert {"created", "warnings"} <= set(schemas["PatientOut"]["required"])
    assert {"detail", "errors", "result", "warnings"} <= set(schemas["SyncResult"]["required"])


def test_fixed_value_lists_are_enums(document):
    schemas = document["components"]["schemas"]
    for name in ("ReminderStatus", "Reason", "DeliveryStatus", "LicenceStatus", "EventKind", "ChangeSource"):
        assert schemas[name]["enum"], name
    assert schemas["LookupEvent"]["properties"]["kind"] == {"$ref": "#/components/schemas/EventKind"}
    assert "provider_error" in schemas["Reason"]["enum"]


def test_sync_operations_are_typed(document):
    items = document["components"]["schemas"]["SyncIn"]["properties"]["operations"]["items"]
    assert items["discriminator"]["propertyName"] == "op"
    assert len(items["oneOf"]) == 4
    result = document["components"]["schemas"]["SyncResult"]["properties"]["result"]
    assert {"$ref": "#/components/schemas/PatientOut"} in result["anyOf"]


def test_key_id_is_an_integer_in_path_and_body(document):
    revoke = document["paths"]["/api/v1/practices/{practice_slug}/api-keys/{key_id}"]["delete"]
    assert revoke["parameters"][1]["schema"]["type"] == "integer"
    assert document["components"]["schemas"]["ApiKeyOut"]["properties"]["id"]["type"] == "integer"


def test_every_example_fits_its_schema(document):
    examples = list(_examples(document))
    assert len(examples) > 60
    for where, schema, example in examples:
        errors = [error.message for error in OAS31Validator({**schema, "components": document["components"]})
                  .iter_errors(example)]
        assert not errors, (where, errors)


def test_every_operation_has_a_request_and_a_response_example(document):
    for path, item in document["paths"].items():
        for method, spec in item.items():
            success = next(answer for code, answer in spec["responses"].items() if code.startswith("2"))
            assert all("example" in media for media in success.get("content", {}).values()), (method, path)
            if "requestBody" in spec:
                assert "example" in spec["requestBody"]["content"]["application/json"], (method, path)


@pytest.mark.parametrize("model", list(EXAMPLES), ids=lambda model: model.__name__)
def test_each_example_is_what_the_server_accepts_or_answers(model):
    parsed = model.model_validate_json(json.dumps(EXAMPLES[model]))
    if not model.__name__.endswith("In"):
        assert parsed.model_dump(mode="json") == EXAMPLES[model]


def _examples(document):
    """(where, schema, example) for each example of a body, an answer or a parameter."""
    for section in ("paths", "webhooks"):
        for path, item in document[section].items():
            for method, spec in item.items():
                contents = [("request", spec.get("requestBody", {}).get("content", {}))]
                contents += [(code, answer.get("content", {})) for code, answer in spec["responses"].items()]
                for where, content in contents:
                    for media_type, media in content.items():
                        if "example" in media:
                            yield (method, path, where, media_type), media["schema"], media["example"]
                for parameter in spec.get("parameters", []):
                    if "example" in parameter:
                        yield (method, path, parameter["name"]), parameter["schema"], parameter["example"]


def test_an_optional_body_is_documented_as_optional(document):
    cancel = document["paths"]["/api/v1/appointments/{appointment_id}"]["delete"]
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


def test_nul_and_deep_nesting_are_refused_never_a_server_error(app, secrets):
    from hypothesis import strategies as st

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        texts = _text_properties(operation)
        if "requestBody" not in operation.definition.raw:
            continue
        credential = next(iter((operation.definition.raw["security"] or [{}])[0]), None)
        headers = {"Authorization": f"Bearer {secrets[credential]}"}
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


def test_a_malformed_id_in_the_path_is_a_documented_422(document, api, make):
    answer = api(make.practice_key(make.licensed_practice())).get("/appointments/not%20an%20id")
    assert answer.status_code == 422
    assert "422" in document["paths"]["/api/v1/appointments/{appointment_id}"]["get"]["responses"]
    assert "422" in document["paths"]["/api/v1/patients/{patient_id}"]["delete"]["responses"]


def test_a_method_the_path_does_not_take_is_405_naming_the_allowed_ones(client):
    answer = client.delete("/api/v1/groups")
    assert answer.status_code == 405
    assert answer.mimetype == "application/problem+json"
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_dates_and_times_are_refused_unless_written_as_the_document_says(api, make):
    """Found by the negative run: pydantic read "0" as 1 January 1970, and "1700000000" as a time."""
    practice = make.licensed_practice(slug="am-markt")
    vendor, program = api(make.token(make.user("vendor_admin"))), api(make.practice_key(practice))
    licence = vendor.put("/practices/am-markt/licence", json={"status": "active", "valid_from": "0"})
    assert licence.status_code == 422 and licence.json["errors"][0]["field"] == "valid_from"
    program.put("/patients/p-1", json={"first_name": "Erika", "last_name": "Muster", "sms_consent": False})
    for start in ("1700000000", 1700000000):
        moved = program.put("/appointments/t-1", json={"patient": "p-1", "start": start})
        assert moved.status_code == 422 and moved.json["errors"][0]["field"] == "start"
    assert vendor.get("/lookup?from=0").status_code == 422
    assert vendor.get("/lookup?from=2026-11-25").status_code == 200
    assert program.put("/appointments/t-1", json={"patient": "p-1", "start": "2026-11-25T10:00Z"}).status_code == 200
