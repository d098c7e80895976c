"""Verifying `MessageBird-Signature-JWT`: the SDK's RequestValidator, plus replay protection."""
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Request, current_app
from messagebird.error import ValidationError
from messagebird.request_validator import RequestValidator

HEADER = "MessageBird-Signature-JWT"


class Refused(Exception):
    """A request whose signature does not hold; the text says why (for the log and the 401)."""


@dataclass(frozen=True)
class Signature:
    jti: str
    expires_at: datetime


def signed_url(request: Request) -> str:
    """The URL as the provider signed it.

    Not `request.url`: Flask decodes it into an IRI (`%3A`, `%5B` become `:`,
    `[`), so its hash would not match. PUBLIC_BASE_URL (what the provider was
    given), the path, and the raw query string exactly as received.
    """
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.path
    query = request.query_string.decode("latin-1")
    return f"{url}?{query}" if query else url


def verify(request: Request) -> Signature:
    """:raise Refused: no signing key configured, no or invalid signature, expired, no jti."""
    key = current_app.config.get("MESSAGEBIRD_SIGNING_KEY")
    if not key:
        raise Refused("no signing key configured: status reports are refused")
    token = request.headers.get(HEADER)
    if not token:
        raise Refused(f"missing {HEADER} header")
    try:
        claims = RequestValidator(key).validate_signature(token, signed_url(request), request.get_data())
    except (ValidationError, KeyError) as exc:
        raise Refused(f"invalid signature: {exc}") from exc
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 128:
        raise Refused("signature without a usable jti: cannot exclude a replay")
    return Signature(jti=jti, expires_at=datetime.fromtimestamp(int(claims["exp"]), timezone.utc))
