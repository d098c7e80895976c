"""Verifying a status report's signature (the provider's rule), plus replay protection by its jti."""
from flask import Request, current_app

from portal import providers
from portal.providers import Signature


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
    """:raise portal.providers.ReportRefused: no signing key configured, no or invalid signature, expired, no jti."""
    provider = providers.for_config(current_app.config)
    return provider.verify_report(signed_url(request), request.headers, request.get_data())
