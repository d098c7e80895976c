"""Fault configuration of the sandbox: parsed once, replaced as a whole."""

FINAL_STATUSES = {
    # status -> (statusReason, statusErrorCode) used when an outcome names only the status
    "delivered": ("successfully delivered", None),
    "delivery_failed": ("unknown subscriber", 5),
    "expired": ("expired", None),
}

DEFAULTS = {
    "error_rate": 0.0,  # fraction of POST /messages answered with 500
    "status_sequence": [],  # the next POSTs answer these statuses, in order (201 = normal)
    "retry_after": 1,  # Retry-After seconds sent with a 429
    "delay_seconds": 0.0,  # sleep before answering POST /messages
    "accept_then_delay": False,  # store the message first, then sleep (a timeout after accept)
    "outcomes": {},  # recipient -> final status, or {status, statusReason, statusErrorCode}
    "reject_recipients": [],  # recipients refused with 422 code 9
    "recipient_statuses": {},  # recipient -> HTTP status answered instead of accepting (e.g. 503)
    "slow_recipients": {},  # recipient -> seconds: accepted, then answered that much later
    "duplicate_reports": False,  # send every status report twice
    "reverse_reports": False,  # send the final report before "sent"
    "report_delay": 0.2,  # seconds before the first report and between reports
}


def parse_faults(data, report_delay):
    """Return a complete fault config from ``data``; missing fields take their defaults.

    :raise ValueError: for an unknown field or a value of the wrong kind.
    """
    if not isinstance(data, dict):
        raise ValueError("fault config must be a JSON object")
    unknown = set(data) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    faults = dict(DEFAULTS, report_delay=report_delay)
    faults.update(data)
    faults["error_rate"] = _number(faults, "error_rate", 0.0, 1.0)
    faults["delay_seconds"] = _number(faults, "delay_seconds", 0.0, 600.0)
    faults["report_delay"] = _number(faults, "report_delay", 0.0, 3600.0)
    faults["retry_after"] = int(_number(faults, "retry_after", 0, 86400))
    for flag in ("accept_then_delay", "duplicate_reports", "reverse_reports"):
        if not isinstance(faults[flag], bool):
            raise ValueError(f"{flag} must be true or false")
    sequence = faults["status_sequence"]
    if not isinstance(sequence, list) or not all(
        isinstance(s, int) and 100 <= s <= 599 for s in sequence
    ):
        raise ValueError("status_sequence must be a list of HTTP status codes")
    faults["status_sequence"] = list(sequence)
    if not isinstance(faults["reject_recipients"], list):
        raise ValueError("reject_recipients must be a list")
    faults["reject_recipients"] = [digits(r) for r in faults["reject_recipients"]]
    faults["recipient_statuses"] = {digits(r): _status(s) for r, s in _mapping(faults, "recipient_statuses").items()}
    faults["slow_recipients"] = {digits(r): _number({"seconds": s}, "seconds", 0.0, 600.0)
                                 for r, s in _mapping(faults, "slow_recipients").items()}
    if not isinstance(faults["outcomes"], dict):
        raise ValueError("outcomes must be an object: recipient -> outcome")
    faults["outcomes"] = {digits(r): _outcome(o) for r, o in faults["outcomes"].items()}
    return faults


def digits(recipient):
    """A recipient as MessageBird keeps it: digits only, no '+'."""
    return str(recipient).strip().lstrip("+")


def _number(faults, name, low, high):
    value = faults[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low} to {high}")
    return float(value)


def _mapping(faults, name):
    if not isinstance(faults[name], dict):
        raise ValueError(f"{name} must be an object: recipient -> value")
    return faults[name]


def _status(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise ValueError("a recipient's status must be an HTTP error status")
    return value


def _outcome(value):
    if isinstance(value, str):
        value = {"status": value}
    if not isinstance(value, dict) or value.get("status") not in FINAL_STATUSES:
        raise ValueError(f"an outcome must be one of {', '.join(FINAL_STATUSES)}")
    reason, code = FINAL_STATUSES[value["status"]]
    return {
        "status": value["status"],
        "statusReason": value.get("statusReason", reason),
        "statusErrorCode": value.get("statusErrorCode", code),
    }
