"""A patient's reply, simulated: an inbound SMS forwarded, signed, to the service's inbound URL.

MessageBird forwards an SMS sent to a virtual mobile number to the URL of
that number's flow, as GET with `id`, `originator`, `recipient`, `body` and
`createdDatetime`; the sandbox does the same, synchronously, so the caller
gets the service's answer.
"""

import secrets
from datetime import datetime, timezone

import requests

from .messages import RECIPIENT, rfc3339
from .faults import digits
from .reports import sign, with_query


class BadReply(ValueError):
    """A reply the sandbox cannot simulate; the text names the field."""


def reply_fields(data, messages):
    """The forwarded SMS's fields from a `POST /_sandbox/reply` body.

    `recipient` defaults to the originator of the latest message sent to the
    patient's number, which is what the patient's phone would answer.

    :raise BadReply: for a missing or malformed field.
    """
    if not isinstance(data, dict):
        raise BadReply("the body must be a JSON object")
    originator = digits(data.get("originator") or "")
    if not RECIPIENT.match(originator):
        raise BadReply("originator must be the patient's phone number")
    body = data.get("body", "")
    if not isinstance(body, str):
        raise BadReply("body must be a string")
    recipient = data.get("recipient") or _answered(originator, messages)
    if recipient is None or not RECIPIENT.match(digits(recipient)):
        raise BadReply("recipient: no message was sent to this number from a phone number; name the recipient")
    return {"id": secrets.token_hex(16), "originator": originator, "recipient": digits(recipient), "body": body,
            "createdDatetime": rfc3339(datetime.now(timezone.utc))}


def _answered(originator, messages):
    """The numeric originator of the latest message to `originator`, or None."""
    for message in reversed(messages):
        if any(str(item["recipient"]) == originator for item in message["recipients"]["items"]):
            sender = digits(message["originator"])
            return sender if sender.isdigit() else None
    return None


def deliver(url, fields, signing_key, timeout=(2, 10)):
    """GET `url` with the fields as query string, signed over the URL as sent; (status, body) or (None, error)."""
    with requests.Session() as session:
        prepared = session.prepare_request(requests.Request("GET", with_query(url, fields)))
        if signing_key:
            prepared.headers["MessageBird-Signature-JWT"] = sign(signing_key, prepared.url)
        try:
            response = session.send(prepared, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, response.text[:2000]
