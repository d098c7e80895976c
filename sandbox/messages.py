"""MessageBird's message resource: validation, JSON shape, encoding and status-report fields."""

import math
import re
import secrets
from datetime import datetime, timedelta, timezone

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

from .faults import FINAL_STATUSES, digits

RECIPIENT = re.compile(r"^\d{8,15}$")
NUMERIC_ORIGINATOR = re.compile(r"^\+?\d{3,16}$")
ALPHANUMERIC_ORIGINATOR = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
DATACODINGS = ("plain", "unicode", "auto")
TYPES = ("sms", "binary", "flash")
# the provider's order of statuses: a later report never moves a status back
STATUS_RANK = {"scheduled": 0, "buffered": 1, "sent": 2, **{s: 3 for s in FINAL_STATUSES}}


class Invalid(Exception):
    """A request the provider refuses with 422 and error code 9."""

    def __init__(self, parameter, description):
        super().__init__(description)
        self.parameter = parameter
        self.description = description


def rfc3339(moment):
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def build_message(data, href_base, reject_recipients=()):
    """The provider's message JSON for a POST /messages body, plus its reportUrl.

    :raise Invalid: for a field the provider would refuse.
    """
    originator = str(data.get("originator") or "")
    if not (NUMERIC_ORIGINATOR.match(originator) or ALPHANUMERIC_ORIGINATOR.match(originator)):
        raise Invalid("originator", "originator must be a phone number or up to 11 letters and digits")
    recipients = parse_recipients(data.get("recipients"))
    if any(r in reject_recipients for r in recipients):
        raise Invalid("recipient", "no (correct) recipients found")
    body = data.get("body")
    if not isinstance(body, str) or not body.strip():
        raise Invalid("body", "body is empty")
    reference = data.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 128):
        raise Invalid("reference", "reference must be a string of at most 128 characters")
    validity = data.get("validity")
    if validity is not None and (not isinstance(validity, int) or validity < 1):
        raise Invalid("validity", "validity must be a positive number of seconds")
    report_url = data.get("reportUrl")
    if report_url is not None and not str(report_url).startswith(("http://", "https://")):
        raise Invalid("reportUrl", "reportUrl must be an http(s) URL")
    kind = data.get("type") or "sms"
    if kind not in TYPES:
        raise Invalid("type", f"type must be one of {', '.join(TYPES)}")
    datacoding, parts = encoding(body, data.get("datacoding") or "plain")

    message_id = secrets.token_hex(16)
    now = rfc3339(datetime.now(timezone.utc))
    items = [
        {"recipient": int(r), "status": "sent", "statusDatetime": now, "messagePartCount": parts}
        for r in recipients
    ]
    message = {
        "id": message_id,
        "href": f"{href_base}messages/{message_id}",
        "direction": "mt",
        "type": kind,
        "originator": originator,
        "body": body,
        "reference": reference,
        "validity": validity,
        "gateway": 10,
        "typeDetails": data.get("typeDetails") or {},
        "datacoding": datacoding,
        "mclass": data.get("mclass", 1),
        "scheduledDatetime": data.get("scheduledDatetime"),
        "createdDatetime": now,
        "recipients": {"totalCount": len(items), "items": items},
    }
    update_totals(message)
    return message, report_url


def parse_recipients(value):
    """Recipients as a list of digit strings, from a list or a comma-separated string."""
    if isinstance(value, (str, int)):
        value = str(value).split(",")
    if not isinstance(value, list) or not value:
        raise Invalid("recipient", "no (correct) recipients found")
    recipients = [digits(r) for r in value]
    if not all(RECIPIENT.match(r) for r in recipients):
        raise Invalid("recipient", "no (correct) recipients found")
    return recipients


def encoding(body, requested):
    """(datacoding, messagePartCount): GSM-7 160/153 septets a part, UCS-2 70/67 units."""
    if requested not in DATACODINGS:
        raise Invalid("datacoding", f"datacoding must be one of {', '.join(DATACODINGS)}")
    septets = [_septets(ch) for ch in body]
    if requested == "unicode" or (requested == "auto" and None in septets):
        units = len(body.encode("utf-16-le")) // 2
        return "unicode", 1 if units <= 70 else math.ceil(units / 67)
    # plain: characters outside GSM-7 are replaced by the provider, one septet each
    length = sum(s or 1 for s in septets)
    return "plain", 1 if length <= 160 else math.ceil(length / 153)


def _septets(ch):
    try:
        return len(ch.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def update_totals(message):
    items = message["recipients"]["items"]
    ranks = [STATUS_RANK[i["status"]] for i in items]
    message["recipients"].update(
        totalCount=len(items),
        totalSentCount=sum(r >= STATUS_RANK["sent"] for r in ranks),
        totalDeliveredCount=sum(i["status"] == "delivered" for i in items),
        totalDeliveryFailedCount=sum(i["status"] == "delivery_failed" for i in items),
    )


def report_sequence(message, recipient, outcome, report_delay):
    """The status reports for one recipient, in the provider's order ("sent", then the outcome)."""
    created = datetime.fromisoformat(message["createdDatetime"])
    item = next(i for i in message["recipients"]["items"] if str(i["recipient"]) == recipient)
    outcome = outcome or {"status": "delivered", "statusReason": "successfully delivered",
                          "statusErrorCode": None}
    steps = [("sent", "pending DLR", None),
             (outcome["status"], outcome["statusReason"], outcome["statusErrorCode"])]
    return [
        {
            "id": message["id"],
            "reference": message["reference"],
            "recipient": recipient,
            "status": status,
            # the time the status was reached; a duplicate or late report repeats it
            "statusDatetime": rfc3339(created + timedelta(seconds=report_delay * (n + 1))),
            "statusReason": reason,
            "statusErrorCode": code,
            "mccmnc": "26203" if recipient.startswith("49") else "20408",
            "ported": 0,
            "datacoding": message["datacoding"],
            "messageLength": len(message["body"]),
            "messagePartCount": item["messagePartCount"],
            "price[amount]": f"{0.075 * item['messagePartCount']:.3f}",
            "price[currency]": "EUR",
        }
        for n, (status, reason, code) in enumerate(steps)
    ]


class BadFilter(ValueError):
    """A `GET /messages` filter the provider would refuse; the text names it."""


LIST_LIMIT_MAX = 450  # the provider's largest page


def list_filters(args):
    """The filters of `GET /messages` as the REST API documents them (no filter by reference).

    :raise BadFilter: for a malformed value.
    """
    filters = {"recipient": args.get("recipient"), "status": args.get("status")}
    if filters["recipient"] is not None and not filters["recipient"].lstrip("+").isdigit():
        raise BadFilter("recipient")
    for name in ("from", "until"):
        raw = args.get(name)
        try:
            filters[name] = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
        except ValueError:
            raise BadFilter(name) from None
        if filters[name] is not None and filters[name].tzinfo is None:
            raise BadFilter(name)
    for name, default, most in (("limit", 20, LIST_LIMIT_MAX), ("offset", 0, None)):
        raw = args.get(name, str(default))
        if not raw.isdigit() or (most is not None and not 1 <= int(raw) <= most):
            raise BadFilter(name)
        filters[name] = int(raw)
    return filters


def matches(message, filters):
    """Whether a message passes the recipient, status and creation-time filters."""
    items = message["recipients"]["items"]
    recipient = filters["recipient"]
    if recipient and not any(str(item["recipient"]) == recipient.lstrip("+") for item in items):
        return False
    if filters["status"] and not any(item["status"] == filters["status"] for item in items):
        return False
    created = datetime.fromisoformat(message["createdDatetime"])
    if filters["from"] and created < filters["from"]:
        return False
    return not (filters["until"] and created > filters["until"])
