"""Settings inheritance: system default -> practice group -> practice.

The most specific value that is set wins; `effective` also says where each
value comes from, for the portal and the API.
"""
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Mapping
from zoneinfo import available_timezones

from .messages import TemplateError, check_template, sender_problem
from .schedule import SEND_POLICIES, parse_clock

# About 125 characters with typical values: room for long names within one SMS.
DEFAULT_TEMPLATE = (
    "Guten Tag {name}, Ihr Termin bei {praxis}: {wochentag}, {datum}, {uhrzeit} Uhr. "
    "Absagen bitte unter {praxis_telefon}."
)

DEFAULT_MOVED_TEMPLATE = "Ihr Termin wurde verlegt auf {wochentag}, {datum} um {uhrzeit}."
DEFAULT_CANCELLED_TEMPLATE = "Ihr Termin am {datum} um {uhrzeit} wurde abgesagt."
DEFAULT_REPLY_LINE = "Antworten Sie JA zur Bestätigung oder NEIN zur Absage."
MAX_REPLY_LINE_LENGTH = 160

DEFAULTS: dict[str, Any] = {
    "send_policy": "day_before",
    "send_time": "18:00",
    "hours_before": 24,
    "quiet_start": "21:00",
    "quiet_end": "08:00",
    "min_lead_minutes": 60,
    "template": DEFAULT_TEMPLATE,
    "sender": "Praxis",
    "timezone": "Europe/Berlin",
    # A notice when an appointment whose reminder already went out is moved or cancelled.
    "change_notice": True,
    "change_template_moved": DEFAULT_MOVED_TEMPLATE,
    "change_template_cancelled": DEFAULT_CANCELLED_TEMPLATE,
    # Reminders sent from the vendor's reply number, ending with the reply line.
    "replies_enabled": False,
    "reply_line": DEFAULT_REPLY_LINE,
}
INHERITED = tuple(DEFAULTS)
# The texts the staff type: checked as templates, kept with their spaces and line breaks.
TEXT_SETTINGS = ("template", "change_template_moved", "change_template_cancelled")


@dataclass(frozen=True)
class Effective:
    value: Any
    source: str  # "practice", "group" or "default"


def effective(group: Mapping[str, Any] | None, practice: Mapping[str, Any] | None = None) -> dict[str, Effective]:
    """Each inherited setting's effective value and the level it comes from."""
    return {name: effective_one(name, (group or {}).get(name), (practice or {}).get(name)) for name in DEFAULTS}


def effective_one(name: str, group_value: Any, practice_value: Any) -> Effective:
    """One setting's effective value: the practice's, else its group's, else the default."""
    if practice_value is not None:
        return Effective(practice_value, "practice")
    if group_value is not None:
        return Effective(group_value, "group")
    return Effective(DEFAULTS[name], "default")


def setting_problem(name: str, value: Any) -> str | None:
    """Why `value` cannot be stored for setting `name`, or None when it can."""
    if value is None:
        return None
    check = _CHECKS.get(name)
    return check(value) if check else f"unknown setting {name!r}"


def _clock(value: Any) -> str | None:
    try:
        if isinstance(value, str):
            parse_clock(value)
            return None
    except ValueError:
        pass
    return "must be a time of day as HH:MM, e.g. 18:00"


def _policy(value: Any) -> str | None:
    return None if value in SEND_POLICIES else "must be one of: " + ", ".join(SEND_POLICIES)


def _int_between(low: int, high: int):
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be a whole number from {low} to {high}"
        return None
    return check


def _template(value: Any) -> str | None:
    try:
        check_template(value)
    except TemplateError as error:
        return str(error)
    return None


def _switch(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _reply_line(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty text"
    if len(value) > MAX_REPLY_LINE_LENGTH:
        return f"must be at most {MAX_REPLY_LINE_LENGTH} characters"
    # The line is appended as typed: braces would read as a broken placeholder.
    return "must not contain { or }" if "{" in value or "}" in value else None


def _timezone(value: Any) -> str | None:
    if not isinstance(value, str) or value not in TIMEZONES:
        return "must be an IANA time zone such as Europe/Berlin"
    return None


def _canonical_timezones() -> tuple[str, ...]:
    """The IANA zones a practice can be in: the country zones of zone.tab, plus UTC.

    `available_timezones()` also lists aliases (GMT0, Etc/GMT+0, US/Eastern)
    and names whose meaning depends on the server (localtime, Factory).
    """
    listing = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    country_zones = {line.split("\t")[2] for line in listing.splitlines() if line and not line.startswith("#")}
    return tuple(sorted((country_zones | {"UTC"}) & available_timezones()))


TIMEZONES = _canonical_timezones()

_CHECKS = {
    "send_policy": _policy,
    "send_time": _clock,
    "hours_before": _int_between(1, 168),
    "quiet_start": _clock,
    "quiet_end": _clock,
    "min_lead_minutes": _int_between(0, 1440),
    "template": _template,
    "sender": lambda value: sender_problem(value) if isinstance(value, str) else "must be text",
    "timezone": _timezone,
    "change_notice": _switch,
    "change_template_moved": _template,
    "change_template_cancelled": _template,
    "replies_enabled": _switch,
    "reply_line": _reply_line,
}

