"""The SMS provider as the send jobs see it: submit one message, get an ID or a typed failure.

The messagebird SDK does the talking, over ``SessionHttpClient`` (one pooled
``requests.Session`` with a timeout) instead of its own ``HttpClient`` (bare
``requests.post``, no timeout). Every failure comes out as one of two errors:

- ``TransientProviderError``: try again later (timeouts, connection errors, 5xx,
  429). ``ambiguous`` is True when the request may have reached the provider
  and been accepted (a read timeout, a connection dropped after sending);
  retrying then can send the SMS twice, so the caller must record it.
- ``PermanentProviderError``: the provider refused the message (its error
  codes, other 4xx); retrying will not help.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import messagebird
import requests
from messagebird.client import USER_AGENT, ErrorException
from messagebird.http_client import ResponseFormat
from messagebird.serde import json_serialize
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

DEFAULT_TIMEOUT = (3.05, 10)  # seconds: (connect, read)
# statuses that mean "not processed, try later"; 504 is a proxy giving up on the provider
TRANSIENT_STATUSES = {408, 425, 429}
AMBIGUOUS_STATUSES = {504}
CONFIG_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


class ProviderError(Exception):
    """Base of the provider failures a send job handles."""


class TransientProviderError(ProviderError):
    """Worth retrying later; ``ambiguous`` if the provider may have accepted the message."""

    def __init__(self, text, *, ambiguous=False, retry_after=None, status=None):
        super().__init__(text)
        self.text = text
        self.ambiguous = ambiguous
        self.retry_after = retry_after  # seconds, from a Retry-After header
        self.status = status  # HTTP status, when there was an answer


class PermanentProviderError(ProviderError):
    """Refused by the provider; ``code`` is its error code as a string ("2", "9", "http_400")."""

    def __init__(self, code, description, parameter=None, *, status=None):
        where = f" (parameter {parameter})" if parameter else ""
        super().__init__(f"provider error {code}: {description}{where}")
        self.code = str(code)
        self.description = description
        self.parameter = parameter
        self.status = status


@dataclass(frozen=True)
class Submission:
    originator: str  # sender name (at most 11 letters and digits) or a phone number
    recipient: str  # E.164, "+4917012345678"
    body: str
    reference: str  # our reminder ID; status reports carry it back
    report_url: str | None
    validity_seconds: int | None
    datacoding: str = "plain"  # "plain" (GSM-7) or "unicode"

    def params(self):
        """A fresh params dict for ``message_create`` (which mutates what it is given)."""
        params = {
            "reference": self.reference,
            "reportUrl": self.report_url,
            "validity": self.validity_seconds,
            "datacoding": self.datacoding,
        }
        return {key: value for key, value in params.items() if value is not None}


@dataclass(frozen=True)
class Accepted:
    message_id: str
    created_at: datetime | None  # UTC, as the provider reports it


class SessionHttpClient:
    """The SDK's ``HttpClient`` interface over one ``requests.Session``.

    Same headers and status handling as ``messagebird.http_client.HttpClient``:
    200/201/204/401/404/405/422 come back as text (the SDK turns error bodies
    into ``ErrorException``), any other status raises ``requests.HTTPError``.
    Not for sharing between threads: one client per worker.
    """

    SUPPORTED_STATUS_CODES = (200, 201, 204, 401, 404, 405, 422)

    def __init__(self, endpoint, access_key, timeout=DEFAULT_TIMEOUT, user_agent=USER_AGENT,
                 pool_maxsize=4):
        self.endpoint = endpoint.rstrip("/") + "/"  # so urljoin keeps a base path
        self.timeout = timeout
        self.headers = {
            "Accept": "application/json",
            "Authorization": "AccessKey " + access_key,
            "User-Agent": user_agent,
            "Content-Type": "application/json; charset=UTF-8",
        }
        self.session = requests.Session()
        # no automatic retries: a retried POST could send an SMS twice
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def request(self, path, method="GET", params=None, format=ResponseFormat.text):
        """Builds a request and gets a response (the SDK's contract)."""
        if params is None:
            params = {}
        if method not in ("DELETE", "GET", "PATCH", "POST", "PUT"):
            raise ValueError(str(method) + " is not a supported HTTP method")
        payload = {"params": params} if method == "GET" else {"data": json_serialize(params)}
        response = self.session.request(
            method, urljoin(self.endpoint, path), headers=self.headers,
            timeout=self.timeout, verify=True, **payload,
        )
        if response.status_code not in self.SUPPORTED_STATUS_CODES:
            response.raise_for_status()
        return response.content if format == ResponseFormat.binary else response.text

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def make_client(endpoint, access_key, timeout=DEFAULT_TIMEOUT) -> messagebird.Client:
    """A messagebird ``Client`` that talks to ``endpoint``; close it with ``client.http_client.close()``."""
    return messagebird.Client(access_key, http_client=SessionHttpClient(endpoint, access_key, timeout))


def submit(client, submission) -> Accepted:
    """Send one SMS.

    :raise TransientProviderError: retry later (see ``ambiguous``).
    :raise PermanentProviderError: the provider refused it.
    """
    recipient = submission.recipient.strip().removeprefix("+")  # MessageBird wants digits only
    try:
        message = client.message_create(
            submission.originator, [recipient], submission.body, submission.params()
        )
    except ErrorException as exc:
        raise _from_errors(exc.errors) from exc
    except requests.HTTPError as exc:
        raise _from_status(exc.response) from exc
    except requests.ConnectionError as exc:  # includes ConnectTimeout
        raise TransientProviderError(
            f"connection failed: {exc}", ambiguous=_may_have_arrived(exc)
        ) from exc
    except requests.Timeout as exc:  # a read timeout: the provider may have accepted it
        raise TransientProviderError(f"no answer in time: {exc}", ambiguous=True) from exc
    except CONFIG_ERRORS as exc:
        raise PermanentProviderError("config", f"provider endpoint misconfigured: {exc}") from exc
    except requests.RequestException as exc:  # e.g. a broken response: it did arrive
        raise TransientProviderError(f"request failed: {exc}", ambiguous=True) from exc
    except (ValueError, KeyError, AttributeError) as exc:  # a 2xx answer the SDK cannot read
        raise TransientProviderError(f"unreadable answer: {exc}", ambiguous=True) from exc
    if not message.id:
        raise TransientProviderError("answer without a message ID", ambiguous=True)
    created = message.createdDatetime  # the SDK parses it with a dateutil tz; keep plain UTC
    return Accepted(message_id=message.id, created_at=created and created.astimezone(timezone.utc))


def _from_errors(errors):
    first = errors[0] if errors else None
    if first is None:
        return PermanentProviderError("unknown", "error answer without errors")
    return PermanentProviderError(str(first.code), first.description or "", first.parameter)


def _from_status(response):
    status = response.status_code
    text = f"HTTP {status} {response.reason or ''}".strip()
    if status >= 500 or status in TRANSIENT_STATUSES:
        return TransientProviderError(
            text, ambiguous=status in AMBIGUOUS_STATUSES, status=status,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    try:
        errors = response.json()["errors"]
        first = errors[0]
        return PermanentProviderError(
            str(first["code"]), first.get("description") or text, first.get("parameter"), status=status
        )
    except (ValueError, KeyError, IndexError, TypeError):
        return PermanentProviderError(f"http_{status}", text, status=status)


def _may_have_arrived(exc):
    """False when the connection was never made, so the request cannot have been processed."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError,
                        requests.exceptions.ProxyError)):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # NewConnectionError (refused, DNS failure) is a ConnectTimeoutError in urllib3
    return not isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _retry_after(value):
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
