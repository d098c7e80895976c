"""What input we accept at all, before any field's own rule: the one place for it.

Text is printable Unicode: PostgreSQL cannot store NUL, control characters
and bidirectional overrides break SMS, logs and the support pages, and a
lone surrogate (legal in a JSON escape) is no text at all. Dates lie in
years where date arithmetic cannot overflow and an appointment is
plausible. JSON is nested only as deep as any of our documents needs, so
parsing it cannot exhaust the stack. The API, the portal's forms and the
webhook all ask these functions.
"""
import re
from datetime import date, datetime
from itertools import accumulate
from typing import Any, Iterator

CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff"
# Patterns as JSON Schema (and Python's re) read them; the OpenAPI document shows them. Lone
# surrogates cannot be named in a JSON Schema pattern (no Unicode text holds them): checked below.
TEXT_PATTERN = r"^[^" + CONTROLS + r"]*$"  # line breaks and tabs allowed
LINE_PATTERN = r"^[^\t\n\r" + CONTROLS + r"]*$"
_NOT_TEXT = re.compile(r"[\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
NONCHARACTER = "\uffff"
_CONTROL = re.compile(r"[" + CONTROLS + r"]")
_BREAK = re.compile(r"[\t\n\r]")

CONTROL_CHARACTERS = "contains control characters"
NOT_TEXT = "contains an unpaired surrogate or a noncharacter: not Unicode text"
LINE_BREAK = "must be a single line"

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
# The same bound for ISO strings, for the OpenAPI document: years 1900 to 2199.
YEAR_PATTERN = r"^(19|2[01])[0-9]{2}-"
OUT_OF_RANGE = f"must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"

MAX_JSON_DEPTH = 32
MAX_PAGE = 10_000


def text_problem(value: str, multiline: bool = False) -> str | None:
    """Why `value` is not text we keep or search for, or None."""
    if _NOT_TEXT.search(value):
        return NOT_TEXT
    if _CONTROL.search(value):
        return CONTROL_CHARACTERS
    if not multiline and _BREAK.search(value):
        return LINE_BREAK
    return None


def unreadable_texts(document: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, problem) for every key or string in a parsed JSON document that is no single-line text."""
    if isinstance(document, str):
        problem = text_problem(document)
        if problem:
            yield path or "body", problem
    elif isinstance(document, dict):
        for key, value in document.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (problem := text_problem(key)):
                yield inner, problem
            else:
                yield from unreadable_texts(value, inner)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from unreadable_texts(value, f"{path}.{index}" if path else str(index))


def surrogates_marked(document: Any) -> Any:
    """The parsed JSON document with each lone surrogate replaced by a noncharacter.

    Python's JSON reader accepts an escaped lone surrogate, pydantic's refuses
    the whole document without naming the field. Marked, it reaches the field's
    own text rule, which refuses it by name (and /sync refuses one operation only).
    """
    if isinstance(document, str):
        return _SURROGATE.sub(NONCHARACTER, document)
    if isinstance(document, dict):
        return {surrogates_marked(key): surrogates_marked(value) for key, value in document.items()}
    if isinstance(document, list):
        return [surrogates_marked(value) for value in document]
    return document


def day_in_range(value: date) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return FIRST_DAY <= day <= LAST_DAY


# A JSON string as one match; the loop unrolled is about three times faster than an alternation per character.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_too_deep(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects nest deeper than `limit`; read without parsing (strings skipped).

    The depth after each bracket is a running sum, computed in C (`translate`, `accumulate`):
    a batch of a thousand operations holds thousands of brackets.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def page_number(value: int | None) -> int:
    """A page number as asked, within 1 and MAX_PAGE: no offset the database cannot count."""
    return min(max(value or 1, 1), MAX_PAGE)
