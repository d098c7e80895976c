"""Reading a MessageBird status report from the query string, a form or JSON."""
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Request

from portal.domain.inputs import text_problem, unreadable_texts

FIELDS = ("id", "reference", "recipient", "status", "statusDatetime", "statusReason", "statusErrorCode")
# The provider adds a dozen short fields (mccmnc, ported, price, ...); a signed report may still carry more.
MAX_DETAILS = 2000  # characters of the extra fields as JSON


class Unreadable(Exception):
    """The report lacks a field we need, or a field cannot be parsed."""


@dataclass(frozen=True)
class Report:
    message_id: str
    reference: str | None
    recipient: str | None
    status: str
    status_at: datetime
    status_reason: str | None
    status_error_code: str | None
    details: dict  # everything else the provider sent (mccmnc, price, ...)


def read_report(request: Request) -> Report:
    """:raise Unreadable: when a required field is missing or malformed."""
    return parse(_fields(request))


def _fields(request: Request) -> dict:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise Unreadable("the JSON body is not an object")
        return data
    if request.form:
        return request.form.to_dict()
    return request.args.to_dict()


def parse(fields: dict) -> Report:
    message_id = _text(fields, "id", 64, required=True)
    status = _text(fields, "status", 20, required=True)
    raw_time = _text(fields, "statusDatetime", 40, required=True)
    try:
        status_at = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Unreadable(f"statusDatetime is not an RFC 3339 time: {raw_time!r}") from exc
    if status_at.tzinfo is None:
        raise Unreadable("statusDatetime has no offset")
    recipient = _text(fields, "recipient", 20)
    if recipient is not None and not recipient.lstrip("+").isdigit():
        raise Unreadable("recipient is not a phone number")
    details = _details(fields)
    return Report(
        message_id=message_id, reference=_text(fields, "reference", 128),
        recipient=recipient.lstrip("+") if recipient else None, status=status,
        status_at=status_at.astimezone(timezone.utc), status_reason=_text(fields, "statusReason", 100),
        status_error_code=_text(fields, "statusErrorCode", 20), details=details,
    )


def _details(fields: dict) -> dict:
    """Everything else the provider sent, kept as it came when it is short printable text."""
    details = {key: value for key, value in fields.items() if key not in FIELDS}
    for name, problem in unreadable_texts(details):
        raise Unreadable(f"{name} {problem}")
    if len(json.dumps(details)) > MAX_DETAILS:
        raise Unreadable(f"the extra fields are longer than {MAX_DETAILS} characters")
    return details


def _text(fields: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise Unreadable(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Unreadable(f"{name} must be a string")
    value = str(value).strip()
    if problem := text_problem(value):
        raise Unreadable(f"{name} {problem}")
    if len(value) > limit:
        raise Unreadable(f"{name} is longer than {limit} characters")
    return value
