"""The OpenAPI 3.1 document, built from the declared operations and their models."""
import re

from flask import current_app
from pydantic.json_schema import models_json_schema

from .core import OPERATIONS, bp

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PATH_PARAMETERS = {
    "group_slug": {"type": "string", "maxLength": 64},
    "practice_slug": {"type": "string", "maxLength": 64},
    # The practice program's own IDs (see api/practice_schemas.py EXTERNAL_ID_PATTERN).
    "patient_id": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$", "minLength": 1, "maxLength": 64},
    "appointment_id": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$", "minLength": 1, "maxLength": 64},
}
PROBLEMS = {
    400: "The body is not a JSON object",
    401: "Missing, unknown or revoked credentials",
    403: "Your role or key does not allow this",
    404: "Not found, or outside your scope",
    413: "The body is too large",
    422: "Invalid fields, listed in `errors`",
}


@bp.get("/openapi.json")
def openapi_document():
    """The whole HTTP API as OpenAPI 3.1; needs no credentials."""
    return build_document(current_app.config["PUBLIC_BASE_URL"])


def build_document(server_url: str) -> dict:
    schemas = _component_schemas()
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(bp.url_prefix + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Praxis SMS reminders API", "version": "1.0.0"},
        "servers": [{"url": server_url}],
        "components": {
            "schemas": {**schemas, "Problem": PROBLEM_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _component_schemas() -> dict:
    models = {(op.body, "validation") for op in OPERATIONS if op.body}
    models |= {(op.response, "serialization") for op in OPERATIONS if op.response}
    _, document = models_json_schema(sorted(models, key=lambda m: m[0].__name__),
                                     ref_template="#/components/schemas/{model}")
    return document.get("$defs", {})


def _operation(op) -> dict:
    spec: dict = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', op.path.lower()).strip('_')}",
        "tags": op.tags,
        "parameters": _parameters(op),
        "responses": _responses(op),
    }
    if op.body:
        spec["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}}},
        }
    return spec


def _parameters(op) -> list[dict]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS.get(name, {"type": "string", "maxLength": 64})}
        for name in re.findall(r"\{(\w+)\}", op.path)
    ]
    if op.query:
        schema = op.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                               "schema": {k: v for k, v in prop.items() if k != "title"}})
    return parameters


def _responses(op) -> dict:
    success: dict = {"description": "OK" if op.status != 201 else "Created"}
    if op.status == 204:
        success = {"description": "Done"}
    elif op.response:
        success["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}}}
    codes = [401, 403, 404]
    if op.body:
        codes += [400, 413, 422]
    if op.query:
        codes.append(422)
    codes += list(op.errors)
    responses = {str(op.status): success}
    for code in sorted(set(codes)):
        responses[str(code)] = {
            "description": PROBLEMS.get(code, "Conflict"),
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return responses
