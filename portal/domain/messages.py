"""Reminder texts: placeholders, safe rendering, SMS encoding and segments, sender.

Template syntax: `{name}` is a placeholder from PLACEHOLDERS; `{{` and `}}`
write a literal brace. Any other name in braces, an empty `{}` and a single
unpaired brace are problems. Rendering is a plain scan over the text, never a
template engine, and inserted values are not scanned again.
"""
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

import gsm0338  # noqa: F401  registers the "gsm03.38" codec
from babel.dates import format_date

PLACEHOLDERS = (
    "anrede", "vorname", "nachname", "name", "wochentag", "datum", "uhrzeit",
    "praxis", "praxis_telefon", "therapeut",
)
MAX_TEMPLATE_LENGTH = 1000
MAX_VALUE_LENGTH = 60

# One token at a time: escaped braces, a braced name, or a single stray brace.
# A name cannot span lines, so "{" ... newline ... "}" is two stray braces.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\r\n]*)\}|[{}]")
# Marks an empty placeholder while rendering: a private-use character that
# neither a template nor a cleaned value can contain.
_EMPTY = "\ue000"
_GAP = re.compile("([ \t]*)" + _EMPTY + "(?:[ \t]*" + _EMPTY + ")*([ \t]*)")
_LOCALE = "de_DE"


class TemplateError(ValueError):
    """A reminder text that cannot be saved; `placeholder` names the culprit."""

    def __init__(self, message: str, placeholder: str | None = None):
        super().__init__(message)
        self.placeholder = placeholder


def template_problems(text: str) -> list[str]:
    """Unknown placeholder names as typed inside the braces, and "{" or "}" for a stray brace."""
    problems = []
    for match in _TOKEN.finditer(text):
        token, name = match.group(0), match.group(1)
        if name is not None and name not in PLACEHOLDERS:
            problems.append(name)
        elif token in ("{", "}"):
            problems.append(token)
    return problems


def problem_message(problem: str) -> str:
    """An English sentence for one entry of template_problems."""
    if problem in ("{", "}"):
        return f'Single "{problem}" without its partner; write "{problem * 2}" for a literal brace.'
    if problem == "":
        return 'Empty placeholder "{}"; allowed: ' + _allowed()
    return f'Unknown placeholder "{{{problem}}}"; allowed: ' + _allowed()


def check_template(text: str) -> None:
    """Raise TemplateError for an empty, too long or malformed reminder text."""
    if not isinstance(text, str) or not text.strip():
        raise TemplateError("The reminder text is empty.")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"The reminder text is longer than {MAX_TEMPLATE_LENGTH} characters.")
    problems = template_problems(text)
    if problems:
        raise TemplateError(problem_message(problems[0]), placeholder=problems[0])


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill placeholders literally; unknown names and stray braces stay as typed.

    A placeholder without a value takes the blanks beside it along, so no gap
    is left ("Guten Tag {anrede} {nachname}" without a salutation); the
    practice's own spacing elsewhere stays as typed.
    """
    def replace(match: re.Match) -> str:
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            return token[0]
        if name in PLACEHOLDERS:
            return str(values.get(name) or "") or _EMPTY
        return token

    return _GAP.sub(_close_gap, _TOKEN.sub(replace, template))


def _close_gap(match: re.Match) -> str:
    """One blank between words; none at the start or end of a line or before punctuation."""
    before, after = match.group(1), match.group(2)
    at_edge = match.start() == 0 or match.string[match.start() - 1] == "\n" or match.end() == len(match.string) \
        or match.string[match.end()] in "\n,.;:!?)"
    return "" if at_edge or not (before or after) else " "


def reminder_values(*, salutation: str | None, first_name: str | None, last_name: str | None,
                    start_local: datetime, practice_name: str | None,
                    practice_phone: str | None, therapist: str | None) -> dict[str, str]:
    """Placeholder values for one appointment, German date formats."""
    return {
        "anrede": clean_value(salutation),
        "vorname": clean_value(first_name),
        "nachname": clean_value(last_name),
        "name": greeting_name(salutation, first_name, last_name),
        "wochentag": format_date(start_local, "EEEE", locale=_LOCALE),
        "datum": format_date(start_local, "dd.MM.yyyy", locale=_LOCALE),
        "uhrzeit": start_local.strftime("%H:%M"),
        "praxis": clean_value(practice_name),
        "praxis_telefon": clean_value(practice_phone),
        "therapeut": clean_value(therapist),
    }


def greeting_name(salutation: str | None, first_name: str | None, last_name: str | None) -> str:
    """How to address the patient: "Frau Becker" with a salutation, "Christa Becker" without.

    "{anrede} {nachname}" alone greets a patient without salutation as plain "Becker".
    """
    first = clean_value(salutation) or clean_value(first_name)
    return " ".join(part for part in (first, clean_value(last_name)) if part)


def clean_value(value: str | None) -> str:
    """One line of printable text, at most MAX_VALUE_LENGTH characters."""
    # Control and format characters (newlines, bidi overrides) would break the
    # SMS layout or disguise the text; whitespace runs collapse to one space.
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                   for ch in str(value or ""))
    return " ".join(text.split())[:MAX_VALUE_LENGTH].strip()


SAMPLE_VALUES: dict[str, str] = reminder_values(
    salutation="Frau", first_name="Erika", last_name="Mustermann",
    start_local=datetime(2026, 11, 25, 10, 0), practice_name="Praxis am Markt",
    practice_phone="030 1234567", therapist="Max Beispiel",
)


def _allowed() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


# --- SMS encoding and segments (GSM 03.38) ---------------------------------

GSM_SINGLE, GSM_PART = 160, 153
UCS_SINGLE, UCS_PART = 70, 67


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int
    remaining: int  # characters left in the last segment


def sms_info(text: str) -> SmsInfo:
    """Encoding, length and segment count of an SMS text."""
    units = _gsm_units(text)
    if units is not None:
        return _pack("GSM-7", units, GSM_SINGLE, GSM_PART)
    return _pack("UCS-2", _utf16_units(text), UCS_SINGLE, UCS_PART)


def _gsm_units(text: str) -> list[int] | None:
    """Septets per character, or None when the text needs UCS-2."""
    units = [_septets(ch) for ch in text]
    return None if None in units else units


# A burst composes hundreds of thousands of texts from a few dozen distinct characters.
@functools.lru_cache(maxsize=4096)
def _septets(ch: str) -> int | None:
    """Septets of one character in GSM-7, None when it has none."""
    try:
        # Extension characters (€, {, ...) encode as escape + char: two septets.
        return len(ch.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def _utf16_units(text: str) -> list[int]:
    """UTF-16 code units per character: 2 for a surrogate pair (emoji)."""
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _pack(encoding: str, units: list[int], single: int, part: int) -> SmsInfo:
    """Count segments; a character's units never straddle a segment boundary."""
    length = sum(units)
    if length <= single:
        segments = 1 if length else 0
        return SmsInfo(encoding, length, segments, single, single - length)
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return SmsInfo(encoding, length, segments, part, part - used)


# --- Sender (originator) ----------------------------------------------------

_ALPHANUMERIC = re.compile(r"[A-Za-z0-9 ]{1,11}")
_NUMERIC = re.compile(r"\+?[0-9]{1,17}")


def sender_problem(sender: str) -> str | None:
    """Why `sender` cannot be an SMS sender, or None when it can."""
    if not sender:
        return "The sender is empty."
    if sender != sender.strip():
        return "The sender must not start or end with a space."
    if _NUMERIC.fullmatch(sender):
        return None
    if not _ALPHANUMERIC.fullmatch(sender) or not re.search("[A-Za-z]", sender):
        return ("The sender must be 1 to 11 letters (A-Z, no umlauts), digits or spaces "
                "with at least one letter, or a phone number of up to 17 digits.")
    return None


# --- Replies: who a reminder comes from and how it ends ------------------------

# The reply line stands on a line of its own below the practice's text: one
# septet, as a space would cost, and it reads as the instruction it is.
REPLY_LINE_SEPARATOR = "\n"


@dataclass(frozen=True)
class Outgoing:
    """The originator of a reminder and the line it ends with (None: the patient cannot answer)."""

    sender: str
    reply_line: str | None

    def text(self, body: str) -> str:
        """The reminder as the patient gets it: the rendered text, then the reply line."""
        if self.reply_line is None:
            return body
        return body.rstrip() + REPLY_LINE_SEPARATOR + self.reply_line


def outgoing(settings: Mapping, reply_number: str | None) -> Outgoing:
    """From the reply number and with the reply line where replies are on and there is a number.

    An alphanumeric sender cannot be answered, so replies need the vendor's
    number as originator. Without one a patient's answer could not reach us:
    the reminder goes out as before, from the practice's sender, without
    promising an answer that would get lost (`replies_unreachable`).
    """
    if settings["replies_enabled"] and reply_number:
        return Outgoing(reply_number, settings["reply_line"].strip())
    return Outgoing(settings["sender"], None)


def replies_unreachable(replies_enabled: bool, reply_number: str | None) -> bool:
    """Replies are switched on but no reply number is configured: reminders go out without the line."""
    return bool(replies_enabled) and not reply_number
