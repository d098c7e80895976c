"""The JSON API's machinery: bearer auth, problem+json errors, body parsing,
and the registry the OpenAPI document is built from.

Each endpoint is declared once with `operation(...)`: its path, the body and
response models, and the permission it needs. The decorator authenticates,
resolves the practice group or practice in the path through the scoped
lookups (404 outside the caller's scope), checks the permission (403),
parses the body (400/422) and serialises the response.
"""
import inspect
import re
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Response, g, json, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from ..access import Principal, get_group_or_404, get_practice_or_404, require
from ..credentials import authenticate
from ..domain.inputs import surrogates_marked
from ..json_bodies import TooDeep

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class Problem(Exception):
    """An error the client can act on, rendered as application/problem+json."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None, title: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.title = status, detail, errors or [], title


def field_error(status: int, field_name: str, message: str) -> Problem:
    return Problem(status, f"{field_name}: {message}", [{"field": field_name, "message": message}])


def problem_response(status: int, detail: str, errors: list[dict] | None = None, title: str | None = None) -> Response:
    body = {
        "type": "about:blank",
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(Problem)
def _problem(error: Problem):
    return problem_response(error.status, error.detail, error.errors, error.title)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return problem_response(error.code or 500, error.description or "")


def api_error_for_app(error: HTTPException):
    """Errors raised before a blueprint matched (404, 405, 413) under /api/ also as problem+json.

    A 405 keeps its `Allow` header, which names the methods the path takes.
    """
    if request.path.startswith(bp.url_prefix + "/"):
        response = problem_response(error.code or 500, error.description or "")
        if "Allow" in dict(error.get_headers()):
            response.headers["Allow"] = dict(error.get_headers())["Allow"]
        return response
    return error


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    permission: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    query: type[BaseModel] | None = None
    tags: list[str] = field(default_factory=list)
    errors: tuple[int, ...] = ()
    body_required: bool = True
    name: str = ""  # the view's name, e.g. create_group: the document's operationId createGroup
    description: str = ""  # the view's docstring

    @property
    def operation_id(self) -> str:
        first, *rest = self.name.split("_")
        return first + "".join(word.capitalize() for word in rest)


OPERATIONS: list[Operation] = []


def current_principal() -> Principal:
    return g.principal


def operation(
    method: str,
    path: str,
    *,
    summary: str,
    permission: str,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    tag: str = "administration",
    errors: tuple[int, ...] = (),
    body_required: bool = True,
) -> Callable:
    """Declare an API endpoint; see the module docstring for what it does.

    With `body_required=False` an empty body stands for the body model's defaults.
    """
    op = Operation(method, path, summary, permission, body, response, status, query, [tag], errors, body_required)
    OPERATIONS.append(op)

    def decorator(view: Callable) -> Callable:
        op.name, op.description = view.__name__, inspect.getdoc(view) or ""

        @wraps(view)
        def endpoint(**path_args: str):
            g.principal = _authenticate()
            if g.principal.role == "practice_program" and permission != "practice_sync":
                raise Problem(403, "A practice API key cannot use the administration API.")
            kwargs = _resolve_path(g.principal, path_args)
            require(g.principal, permission)
            if query is not None:
                kwargs["query"] = _parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body) if body_required or request.get_data(cache=True).strip() else body()
            result = view(**kwargs)
            return _respond(result, response, status)

        rule = re.sub(r"\{(\w+)\}", r"<\1>", path)
        bp.add_url_rule(rule, endpoint=f"{method.lower()}_{view.__name__}", view_func=endpoint, methods=[method])
        return endpoint

    return decorator


def _authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Problem(401, "Send a personal API token or a practice API key as 'Authorization: Bearer ...'.")
    principal = authenticate(secret.strip())
    if principal is None:
        raise Problem(401, "The token or API key is unknown or has been revoked.")
    return principal


def _resolve_path(principal: Principal, path_args: dict[str, str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, value in path_args.items():
        if name == "group_slug":
            kwargs["group"] = get_group_or_404(principal, value)
        elif name == "practice_slug":
            kwargs["practice"] = get_practice_or_404(principal, value)
        else:
            kwargs[name] = value
    return kwargs


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The request body validated against `model`.

    :raise Problem 400: when the body is not a JSON object, or nested too deep to read.
    :raise Problem 422: listing every invalid or unknown field.
    """
    raw = request.get_data(cache=True)
    try:
        document = json.loads(raw) if raw else None
    except TooDeep as error:
        raise Problem(400, str(error)) from None
    except ValueError:
        raise Problem(400, "The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise Problem(400, "The request body must be a JSON object.")
    return validated(model, document)


def validated(model: type[BaseModel], document: Any, prefix: str = "", marked: bool = False) -> BaseModel:
    """A parsed JSON document checked as JSON against `model`; `prefix` goes before each field named.

    `marked`: the document is part of a body `validated` already, so its lone surrogates are marked.

    :raise Problem 422: listing every invalid or unknown field.
    """
    try:
        return model.model_validate_json(json.dumps(document if marked else surrogates_marked(document)))
    except ValidationError as error:
        raise validation_problem(error, prefix) from None


def _parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate({key: value for key, value in request.args.items()})
    except ValidationError as error:
        raise validation_problem(error) from None


def validation_problem(error: ValidationError, prefix: str = "") -> Problem:
    errors = [
        {"field": prefix + (".".join(str(part) for part in item["loc"]) or "body"), "message": _message(item)}
        for item in error.errors(include_url=False)
    ]
    return Problem(422, "Some fields are invalid: " + ", ".join(e["field"] for e in errors) + ".", errors)


def _message(item: dict) -> str:
    if item["type"] == "extra_forbidden":
        return "unknown field"
    return item["msg"]


def _respond(result: Any, model: type[BaseModel] | None, status: int) -> Response:
    if status == 204:
        return Response(status=204)
    if isinstance(result, BaseModel):
        payload = result.model_dump(mode="json")
    elif model is not None:
        payload = model.model_validate(result).model_dump(mode="json")
    else:
        payload = result
    return Response(json.dumps(payload), status=status, mimetype="application/json")
