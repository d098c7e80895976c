"""MessageBird, the one SMS provider: everything that is its own lives here.

The messagebird SDK does the talking, over ``SessionHttpClient`` (one pooled
``requests.Session`` with a timeout) instead of its own ``HttpClient`` (bare
``requests.post``, no timeout). Every failure of a submission comes out as one
of the interface's two errors:

- ``TransientProviderError``: try again later (timeouts, connection errors, 5xx,
  429). ``ambiguous`` is True when the request may have reached the provider
  and been accepted (a read timeout, a connection dropped after sending);
  retrying then can send the SMS twice, so the caller must record it.
- ``PermanentProviderError``: the provider refused the message (its error
  codes, other 4xx); retrying will not help.

Status reports come signed in the ``MessageBird-Signature-JWT`` header (the
SDK's ``RequestValidator``; it does not check ``jti``: replays are ours to
refuse), as query string, form or JSON with MessageBird's field names. SMS that
patients send to the reply number are forwarded the same way, signed alike.
"""
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import messagebird
import requests
from messagebird.client import USER_AGENT, ErrorException
from messagebird.error import ValidationError
from messagebird.http_client import ResponseFormat
from messagebird.request_validator import RequestValidator
from messagebird.serde import json_serialize
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from ..domain.inputs import OUT_OF_RANGE, day_in_range, text_problem, unreadable_texts
from ..domain.phones import normalize_phone_query
from ..domain.replies import MAX_BODY
from . import (
    Accepted,
    ListedMessage,
    OutgoingSms,
    PermanentProviderError,
    ReportRefused,
    InboundSms,
    ReportUnreadable,
    Signature,
    StatusReport,
    TransientProviderError,
)

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


# --- status reports ---------------------------------------------------------------

SIGNATURE_HEADER = "MessageBird-Signature-JWT"
STATUS_PATH = "/webhooks/messagebird/status"
REPORT_FIELDS = ("id", "reference", "recipient", "status", "statusDatetime", "statusReason", "statusErrorCode")
# MessageBird's delivery statuses are ours by name; anything else is kept as it came.
DELIVERY_STATUSES = {name: name for name in ("scheduled", "buffered", "sent", "delivered", "delivery_failed",
                                             "expired")}
# The provider adds a dozen short fields (mccmnc, ported, price, ...); a signed report may still carry more.
MAX_DETAILS = 2000  # characters of the extra fields as JSON


def verify_report(validator: RequestValidator | None, url: str, headers: Mapping, body: bytes) -> Signature:
    """:raise ReportRefused: no signing key configured, no or invalid signature, expired, no jti.

    `validator`: the SDK's, made once for the signing key (None without one).
    """
    if validator is None:
        raise ReportRefused("no signing key configured: status reports are refused")
    token = headers.get(SIGNATURE_HEADER)
    if not token:
        raise ReportRefused(f"missing {SIGNATURE_HEADER} header")
    try:
        claims = validator.validate_signature(token, url, body)
    except (ValidationError, KeyError) as exc:
        raise ReportRefused(f"invalid signature: {exc}") from exc
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 128:
        raise ReportRefused("signature without a usable jti: cannot exclude a replay")
    return Signature(jti=jti, expires_at=datetime.fromtimestamp(int(claims["exp"]), timezone.utc))


def parse_report(fields: Mapping) -> StatusReport:
    """:raise ReportUnreadable: when a required field is missing or malformed."""
    message_id = _text(fields, "id", 64, required=True)
    status = _text(fields, "status", 20, required=True)
    raw_time = _text(fields, "statusDatetime", 40, required=True)
    try:
        status_at = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ReportUnreadable(f"statusDatetime is not an RFC 3339 time: {raw_time!r}") from exc
    if status_at.tzinfo is None:
        raise ReportUnreadable("statusDatetime has no offset")
    recipient = _text(fields, "recipient", 20)
    if recipient is not None and not recipient.lstrip("+").isdigit():
        raise ReportUnreadable("recipient is not a phone number")
    details = _details(fields)
    return StatusReport(
        message_id=message_id, reference=_text(fields, "reference", 128),
        recipient=recipient.lstrip("+") if recipient else None, status=DELIVERY_STATUSES.get(status, status),
        status_at=status_at.astimezone(timezone.utc), status_reason=_text(fields, "statusReason", 100),
        status_error_code=_text(fields, "statusErrorCode", 20), details=details,
    )


def _details(fields: Mapping) -> dict:
    """Everything else the provider sent, kept as it came when it is short printable text."""
    details = {key: value for key, value in fields.items() if key not in REPORT_FIELDS}
    for name, problem in unreadable_texts(details):
        raise ReportUnreadable(f"{name} {problem}")
    if len(json.dumps(details)) > MAX_DETAILS:
        raise ReportUnreadable(f"the extra fields are longer than {MAX_DETAILS} characters")
    return details


def _text(fields: Mapping, name: str, limit: int, required: bool = False) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise ReportUnreadable(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ReportUnreadable(f"{name} must be a string")
    value = str(value).strip()
    if problem := text_problem(value):
        raise ReportUnreadable(f"{name} {problem}")
    if len(value) > limit:
        raise ReportUnreadable(f"{name} is longer than {limit} characters")
    return value


# --- inbound SMS ------------------------------------------------------------------

INBOUND_PATH = "/webhooks/messagebird/inbound"


def parse_inbound(fields: Mapping) -> InboundSms:
    """MessageBird's forward of an SMS to a virtual mobile number: `id`, `originator`, `recipient`
    (older forwards: `receiver`), `body` (older: `payload`), `createdDatetime`.

    :raise ReportUnreadable: when a required field is missing or malformed.
    """
    message_id = _text(fields, "id", 64, required=True)
    originator = _text(fields, "originator", 20, required=True)
    recipient = _text(fields, "recipient", 20) or _text(fields, "receiver", 20)
    if recipient is not None and not recipient.lstrip("+").isdigit():
        raise ReportUnreadable("recipient is not a phone number")
    body_field = "body" if fields.get("body") not in (None, "") else "payload"
    body = _body(fields, body_field)
    sent_at = _moment(fields, "createdDatetime")
    return InboundSms(message_id=message_id, originator=_number(originator), recipient=recipient and recipient.lstrip("+"),
                      body=body, sent_at=sent_at)


def _number(originator: str) -> str:
    """E.164 for a phone number (MessageBird sends digits without "+"); anything else as sent."""
    digits = originator.lstrip("+")
    if not digits.isdigit():
        raise ReportUnreadable("originator is not a phone number: a reply cannot come from a sender name")
    return normalize_phone_query("+" + digits) or digits


def _body(fields: Mapping, name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ReportUnreadable(f"{name} must be a string")
    value = str(value)
    if problem := text_problem(value, multiline=True):
        raise ReportUnreadable(f"{name} {problem}")
    if len(value) > MAX_BODY:
        raise ReportUnreadable(f"{name} is longer than {MAX_BODY} characters")
    return value.strip()


def _moment(fields: Mapping, name: str) -> datetime:
    raw = _text(fields, name, 40, required=True)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ReportUnreadable(f"{name} is not an RFC 3339 time: {raw!r}") from exc
    if moment.tzinfo is None:
        raise ReportUnreadable(f"{name} has no offset")
    if not day_in_range(moment):
        raise ReportUnreadable(f"{name} {OUT_OF_RANGE}")
    return moment.astimezone(timezone.utc)


# --- the interface ------------------------------------------------------------------

class MessageBird:
    """`portal.providers.SmsProvider` over the messagebird SDK; one per process (see `for_config`).

    Safe to call from several threads: each thread gets an SDK client of its
    own, whose session keeps its connection open for that thread's next call.
    """

    status_path = STATUS_PATH
    inbound_path = INBOUND_PATH

    def __init__(self, endpoint: str, access_key: str, signing_key: str | None, timeout=DEFAULT_TIMEOUT):
        self.endpoint, self.access_key, self.timeout = endpoint, access_key, timeout
        self.validator = RequestValidator(signing_key) if signing_key else None
        self._local = threading.local()

    @property
    def client(self) -> messagebird.Client:
        """This thread's SDK client (``SessionHttpClient`` is not for sharing between threads)."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = make_client(self.endpoint, self.access_key, self.timeout)
        return client

    def submit(self, sms: OutgoingSms) -> Accepted:
        return submit(self.client, Submission(
            originator=sms.originator, recipient=sms.recipient, body=sms.body, reference=sms.reference,
            report_url=sms.report_url, validity_seconds=sms.validity_seconds,
            datacoding="unicode" if sms.unicode else "plain",
        ))

    def verify_report(self, url: str, headers: Mapping, body: bytes) -> Signature:
        return verify_report(self.validator, url, headers, body)

    def parse_report(self, fields: Mapping) -> StatusReport:
        return parse_report(fields)

    def parse_inbound(self, fields: Mapping) -> InboundSms:
        return parse_inbound(fields)

    def list_messages(self, recipient: str, since: datetime, until: datetime) -> list[ListedMessage]:
        return list_messages(self.client, recipient, since, until)


LIST_PAGE = 100


def list_messages(client, recipient: str, since: datetime, until: datetime) -> list[ListedMessage]:
    """REST `GET /messages` with its documented filters, every page; there is no filter by reference.

    :raise TransientProviderError: no answer, or an answer that cannot be read.
    """
    params = {"recipient": recipient.strip().removeprefix("+"), "from": _rfc3339(since),
              "until": _rfc3339(until), "limit": LIST_PAGE, "offset": 0}
    listed = []
    while True:
        page = _list_page(client, params)
        listed += [ListedMessage(item["id"], item.get("reference")) for item in page["items"]]
        params["offset"] += LIST_PAGE
        if params["offset"] >= page["totalCount"] or not page["items"]:
            return listed


def _list_page(client, params) -> dict:
    try:
        page = json.loads(client.http_client.request("messages", "GET", dict(params)))
        if "errors" in page:
            raise TransientProviderError(f"message list refused: {page['errors']}")
        page["items"], page["totalCount"] = list(page["items"]), int(page["totalCount"])
        return page
    except requests.RequestException as exc:  # includes an HTTP error status
        raise TransientProviderError(f"message list not answered: {exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise TransientProviderError(f"unreadable message list: {exc}") from exc


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def sending_disabled(config: Mapping) -> str | None:
    return None if config.get("MESSAGEBIRD_ACCESS_KEY") else "MESSAGEBIRD_ACCESS_KEY is not set"


def settings_key(config: Mapping) -> tuple:
    """The settings an instance is made from: a change makes a new one."""
    return (config["MESSAGEBIRD_ENDPOINT"], config["MESSAGEBIRD_ACCESS_KEY"], config["MESSAGEBIRD_SIGNING_KEY"],
            tuple(config["MESSAGEBIRD_TIMEOUT"]))


def from_config(config: Mapping) -> MessageBird:
    endpoint, access_key, signing_key, timeout = settings_key(config)
    return MessageBird(endpoint, access_key or "", signing_key, timeout)
