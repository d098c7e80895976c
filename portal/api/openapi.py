"""The OpenAPI 3.1 document, built from the declared operations and their models.

Everything in it comes from a declaration: the paths, bodies, permissions and
docstrings from `operation()`, the shapes from the pydantic models, who may
call what from access.PERMISSIONS, the examples from api/examples.py, and the
webhook and operations endpoints from api/elsewhere.py.
"""
import re

from flask import current_app
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from werkzeug.http import HTTP_STATUS_CODES

from ..access import roles_allowed
from . import elsewhere
from .core import OPERATIONS, bp
from .examples import EXAMPLES, PARAMETERS
from .practice_schemas import ExternalId
from .schemas import KeyId, Slug

REF = "#/components/schemas/{model}"
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error (RFC 9457), as application/problem+json",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "one entry for each invalid field",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PATH_PARAMETERS = {"group_slug": Slug, "practice_slug": Slug, "patient_id": ExternalId, "appointment_id": ExternalId,
                   "key_id": KeyId}
# Path parameters the view checks itself, answering 422 for a malformed one (api/practice.external_id).
CHECKED_PATH_PARAMETERS = {"patient_id", "appointment_id"}
PROBLEMS = {
    400: "The body is not a JSON object",
    401: "Missing, unknown or revoked credentials",
    403: "Your role or key does not allow this",
    404: "Not found, or outside your scope",
    405: "The path does not take this method; `Allow` names the methods it takes",
    409: "Conflict: the object exists already, or a stale `revision`",
    413: "The body is too large (over 2 MiB)",
    422: "Invalid fields, listed in `errors`",
}
PROBLEM_HEADERS = {
    401: {"WWW-Authenticate": {"description": 'always `Bearer realm="api"`', "schema": {"type": "string"}}},
    405: {"Allow": {"description": "the methods the path takes", "schema": {"type": "string"}}},
}
TAGS = [
    {"name": "administration", "description": "Practice groups, practices, their settings, licences and API keys, "
                                              "and the audit log: for the vendor's staff and group administrators, "
                                              "with a personal token."},
    {"name": "practice program", "description": "What the practice-management program syncs: patients and "
                                                "appointments (each change re-plans the reminders at once), and "
                                                "the practice's settings. Practice API key only."},
    {"name": "support", "description": "The support lookup for the vendor's ticket system: appointments with "
                                       "their reminders, timeline and checklist. Personal token."},
    {"name": "operations", "description": "Liveness, readiness and Prometheus metrics, outside /api/v1."},
    {"name": "webhooks", "description": "What MessageBird sends to the service: delivery reports and replies."},
]
DESCRIPTION = """\
SMS appointment reminders for therapy practices.

**Credentials.** Every call under /api/v1 sends `Authorization: Bearer ...` with one of two kinds of secret:

* a *personal token* (`pt_...`, made with `flask tokens create EMAIL`) acts as its user, with that user's role
  and scope: `vendor_admin` (everything), `support` (read, and reveal phone numbers), `group_admin` (read and
  change settings of their own practice group and its practices);
* a *practice API key* (`pk_...`, issued with `POST /practices/{practice_slug}/api-keys`) acts as that
  practice's program, for the practice-program operations only, and only on that practice's data.

Each operation names its credential under `security`, the roles that may call it in `x-roles`, and
`x-vendor-only: true` where only the vendor's administrators may. Outside one's scope the answer is 404
(never a hint that a foreign object exists) or 403.

**Errors** are `application/problem+json` (the `Problem` schema) with one entry in `errors` per invalid field:
401 without valid credentials (with `WWW-Authenticate`), 403 or 404 outside one's scope, 422 for invalid fields,
409 for a stale revision. **Times** are ISO 8601 with offset; phone numbers come back in E.164.
"""


class DocumentSchemas(GenerateJsonSchema):
    """pydantic's JSON Schema, written as generators and validators read it."""

    def generate_inner(self, schema):
        json_schema = super().generate_inner(schema)
        # A limit on a type with its own validator (WholeNumber) comes out as pydantic's own ge/le,
        # which no JSON Schema tool knows: write it as minimum/maximum.
        updates = schema.get("metadata", {}).get("pydantic_js_updates") or {}
        for core_key, keyword in self.ValidationsMapping.numeric.items():
            if core_key in updates and core_key in json_schema:
                json_schema[keyword] = json_schema.pop(core_key)
        return json_schema

    def field_is_required(self, field, total) -> bool:
        # Responses are dumped whole (api/core._respond): every field is always sent, defaults too.
        if self.mode == "serialization":
            return not field.get("serialization_exclude")
        return super().field_is_required(field, total)


@bp.get("/openapi.json")
def openapi_document():
    """The whole HTTP API as OpenAPI 3.1; needs no credentials."""
    return build_document(current_app.config["PUBLIC_BASE_URL"])


def build_document(server_url: str) -> dict:
    schemas = _component_schemas()
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(bp.url_prefix + op.path, {})[op.method.lower()] = _operation(op, schemas)
    paths.update(elsewhere.operations_paths(_ref))
    for query in {op.query for op in OPERATIONS if op.query}:
        del schemas[query.__name__]  # written out as parameters, not a body
    return {
        "openapi": "3.1.0",
        "info": {"title": "Praxis SMS reminders API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": server_url}],
        "tags": TAGS,
        "components": {
            "schemas": {**schemas, "Problem": PROBLEM_SCHEMA},
            "securitySchemes": {
                "personalToken": {"type": "http", "scheme": "bearer", "bearerFormat": "pt_...",
                                  "description": "A personal API token: acts as its user, with that user's role "
                                                 "(vendor_admin, support, group_admin) and scope."},
                "practiceKey": {"type": "http", "scheme": "bearer", "bearerFormat": "pk_...",
                                "description": "A practice API key: acts as that practice's program, for the "
                                               "practice-program operations only."},
                "metricsToken": {"type": "http", "scheme": "bearer",
                                 "description": "METRICS_TOKEN, when the operator has set one."},
            },
        },
        "security": [{"personalToken": []}, {"practiceKey": []}],
        "paths": paths,
        "webhooks": elsewhere.webhooks(_ref),
    }


def _ref(model) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _component_schemas() -> dict:
    models = {(op.body, "validation") for op in OPERATIONS if op.body}
    models |= {(op.query, "validation") for op in OPERATIONS if op.query}
    models |= {(op.response, "serialization") for op in OPERATIONS if op.response}
    # Served elsewhere and not dumped by _respond: described as they are read, optional fields optional.
    models |= {(model, "validation") for model in elsewhere.MODELS}
    _, document = models_json_schema(sorted(models, key=lambda m: m[0].__name__), ref_template=REF,
                                     schema_generator=DocumentSchemas)
    return document.get("$defs", {})


def _operation(op, schemas: dict) -> dict:
    vendor_only = roles_allowed(op.permission) == ["vendor_admin"]
    spec: dict = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": _description(op, vendor_only),
        "tags": op.tags,
        "security": [{"practiceKey": []}] if op.permission == "practice_sync" else [{"personalToken": []}],
        "x-roles": roles_allowed(op.permission),
        "x-vendor-only": vendor_only,
        "parameters": _parameters(op, schemas),
        "responses": _responses(op),
    }
    if op.body:
        spec["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": _ref(op.body), "example": EXAMPLES[op.body]}},
        }
    return spec


def _description(op, vendor_only: bool) -> str:
    who = "Vendor only: a personal token of a vendor_admin." if vendor_only else (
        "A practice API key." if op.permission == "practice_sync"
        else "A personal token of: " + ", ".join(roles_allowed(op.permission)) + ".")
    # The docstrings' ":raise 404: why" lines, as a list the reader sees.
    described = re.sub(r"^:raise (\d+):", r"- \1:", op.description, flags=re.MULTILINE)
    return "\n\n".join(part for part in (described, who) if part)


def _parameters(op, schemas: dict) -> list[dict]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _plain(TypeAdapter(PATH_PARAMETERS[name]).json_schema()),
         "example": PARAMETERS[name]}
        for name in re.findall(r"\{(\w+)\}", op.path)
    ]
    if op.query:
        schema = schemas[op.query.__name__]
        for name, prop in schema.get("properties", {}).items():
            parameter = {"name": name, "in": "query", "required": name in schema.get("required", []),
                         "schema": _query_value(prop), "example": PARAMETERS[name]}
            if "description" in prop:
                parameter["description"] = prop["description"]
            parameters.append(parameter)
    return parameters


def _query_value(prop: dict) -> dict:
    """A query parameter is sent or left out, never null: the value's schema without the null branch."""
    values = [branch for branch in prop.get("anyOf", [prop]) if branch.get("type") != "null"]
    schema = {**prop, **values[0]} if len(values) == 1 else dict(prop)
    return {key: value for key, value in _plain(schema).items()
            if key not in ("anyOf", "description") and not (key == "default" and value is None)}


def _plain(schema: dict) -> dict:
    return {key: value for key, value in schema.items() if key != "title"}


def _responses(op) -> dict:
    success: dict = {"description": "Created" if op.status == 201 else "OK"}
    if op.status == 204:
        success = {"description": "Done"}
    elif op.response:
        success["content"] = {"application/json": {"schema": _ref(op.response), "example": EXAMPLES[op.response]}}
    codes = [401, 403, 404, 405]
    if op.body:
        codes += [400, 413, 422]
    if op.query or CHECKED_PATH_PARAMETERS & set(re.findall(r"\{(\w+)\}", op.path)):
        codes.append(422)
    codes += list(op.errors)
    responses = {str(op.status): success}
    for code in sorted(set(codes)):
        responses[str(code)] = {
            "description": PROBLEMS[code],
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": {"type": "about:blank", "title": HTTP_STATUS_CODES[code], "status": code,
                            "detail": PROBLEMS[code] + ".", "errors": []},
            }},
        }
        if code in PROBLEM_HEADERS:
            responses[str(code)]["headers"] = PROBLEM_HEADERS[code]
    return responses
