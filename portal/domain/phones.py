"""Mobile numbers as typed in the practice program, parsed with libphonenumber.

A number is stored in E.164 only when it is a valid *mobile* number; anything
else keeps the text as typed and says why it was refused.
"""
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

MISSING = "missing_mobile"
INVALID = "invalid_mobile"

# Separators people type between digits; everything else is refused up front.
_SEPARATORS = set(" +-/().")

_LENGTH_DETAIL = {
    ValidationResult.TOO_SHORT: "too short for a mobile number",
    ValidationResult.TOO_LONG: "too long for a mobile number",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
}


@dataclass(frozen=True)
class MobileNumber:
    raw: str | None
    e164: str | None
    problem: str | None
    detail: str | None

    @property
    def ok(self) -> bool:
        """True when the number can receive a reminder."""
        return self.problem is None


# libphonenumber takes ~80 µs a number; a sync batch re-sends the same numbers again and again.
# The answer is a frozen dataclass of strings, so one cached instance may be shared.
@lru_cache(maxsize=65536)
def parse_mobile(raw: str | None, region: str = "DE") -> MobileNumber:
    """Parse a typed mobile number; refuse letters, landlines and invalid numbers."""
    text = (raw or "").strip()
    if not text:
        return MobileNumber(None, None, MISSING, "no mobile number given")
    detail = _character_problem(text)
    if detail:
        return _invalid(text, detail)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return _invalid(text, "not a phone number")
    if not phonenumbers.is_valid_number(number):
        return _invalid(text, _length_detail(number))
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.FIXED_LINE:
        return _invalid(text, "a landline number, not a mobile number")
    if kind != PhoneNumberType.MOBILE:
        return _invalid(text, "not a mobile number")
    return MobileNumber(text, _e164(number), None, None)


def normalize_phone_query(text: str | None, region: str = "DE") -> str | None:
    """Any valid number typed in any format, as E.164, for support search."""
    text = (text or "").strip()
    if not text or _character_problem(text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return _e164(number) if phonenumbers.is_valid_number(number) else None


@lru_cache(maxsize=65536)  # a list page masks fifty numbers, parsing each twice
def mask_phone(e164_or_raw: str | None) -> str:
    """Mask a number for lists: country code, 3 leading and 3 trailing digits stay."""
    text = (e164_or_raw or "").strip()
    if not text:
        return ""
    e164 = normalize_phone_query(text)
    if e164 is None:
        # Unparseable text as typed: still hide the middle, never show it whole.
        return text[:4] + "****" + text[-3:] if len(text) > 8 else "****"
    number = phonenumbers.parse(e164)
    national = str(phonenumbers.national_significant_number(number))
    return f"+{number.country_code} {national[:3]} ****{national[-3:]}"


def _character_problem(text: str) -> str | None:
    """Why the text cannot be a number as typed, before libphonenumber sees it."""
    # libphonenumber silently drops letters: "O170..." would become a valid number.
    if any(ch.isalpha() for ch in text):
        return "contains a letter (for example O instead of 0)"
    if any(not (ch.isdecimal() or ch.isspace() or ch in _SEPARATORS) for ch in text):
        return "contains characters other than digits, spaces and + - / ( ) ."
    return None


def _length_detail(number: phonenumbers.PhoneNumber) -> str:
    """A short reason for a number libphonenumber does not consider valid."""
    reason = phonenumbers.is_possible_number_for_type_with_reason(number, PhoneNumberType.MOBILE)
    return _LENGTH_DETAIL.get(reason, "not a valid number")


def _invalid(text: str, detail: str) -> MobileNumber:
    return MobileNumber(text, None, INVALID, detail)


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
