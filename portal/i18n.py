"""Language choice: German by default, English on request."""
import functools
from collections.abc import Callable

from flask import request, session
from flask_babel import get_translations, lazy_gettext
from flask_login import current_user

from .domain.inputs import CONTROL_CHARACTERS, LINE_BREAK, NOT_TEXT
from .domain.settings import MAX_REPLY_LINE_LENGTH

LANGUAGES = ("de", "en")


def select_locale() -> str:
    """The user's saved choice, then the session's, then the browser's, then German."""
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return request.accept_languages.best_match(LANGUAGES) or "de"


def per_language(build: Callable[[], dict[str, str]]) -> Callable[[], dict[str, str]]:
    """`build`'s table of words (each made with `gettext`), made once per language.

    `gettext` finds the request's translations anew on every call (about 6 µs); a support lookup of
    twenty appointments asked it for over 500 words, a tenth of the answer's time.
    """
    made = functools.lru_cache(maxsize=8)(lambda translations: build())

    @functools.wraps(build)
    def words() -> dict[str, str]:
        return made(get_translations())
    return words


# English sentences of the domain code (plain Python, no Flask), in the user's language.
_DOMAIN_TEXTS = {
    "replies can be switched on only once the vendor has set up a reply number (MESSAGEBIRD_REPLY_NUMBER)":
        lazy_gettext("replies can be switched on only once the vendor has set up a reply number (MESSAGEBIRD_REPLY_NUMBER)"),
    "no mobile number given": lazy_gettext("no mobile number given"),
    "contains a letter (for example O instead of 0)": lazy_gettext("contains a letter (for example O instead of 0)"),
    "contains characters other than digits, spaces and + - / ( ) .":
        lazy_gettext("contains characters other than digits, spaces and + - / ( ) ."),
    "not a phone number": lazy_gettext("not a phone number"),
    "a landline number, not a mobile number": lazy_gettext("a landline number, not a mobile number"),
    "not a mobile number": lazy_gettext("not a mobile number"),
    "too short for a mobile number": lazy_gettext("too short for a mobile number"),
    "too long for a mobile number": lazy_gettext("too long for a mobile number"),
    "unknown country code": lazy_gettext("unknown country code"),
    "not a valid number": lazy_gettext("not a valid number"),
    "must be a time of day as HH:MM, e.g. 18:00": lazy_gettext("must be a time of day as HH:MM, e.g. 18:00"),
    "must be one of: day_before, hours_before": lazy_gettext("must be one of: day_before, hours_before"),
    "must be a whole number from 1 to 168": lazy_gettext("must be a whole number from 1 to 168"),
    "must be a whole number from 0 to 1440": lazy_gettext("must be a whole number from 0 to 1440"),
    "must be an IANA time zone such as Europe/Berlin": lazy_gettext("must be an IANA time zone such as Europe/Berlin"),
    "The sender is empty.": lazy_gettext("The sender is empty."),
    "The sender must not start or end with a space.": lazy_gettext("The sender must not start or end with a space."),
    "The sender must be 1 to 11 letters (A-Z, no umlauts), digits or spaces with at least one letter, "
    "or a phone number of up to 17 digits.": lazy_gettext(
        "The sender must be 1 to 11 letters (A-Z, no umlauts), digits or spaces with at least one letter, "
        "or a phone number of up to 17 digits."),
    "a practice group with this slug exists already": lazy_gettext("a practice group with this slug exists already"),
    "a practice with this slug exists already": lazy_gettext("a practice with this slug exists already"),
    "a user with this e-mail address exists already": lazy_gettext("a user with this e-mail address exists already"),
    "must not be before valid_from": lazy_gettext("must not be before the start of the validity"),
    "must be a non-empty text": lazy_gettext("must be a non-empty text"),
    f"must be at most {MAX_REPLY_LINE_LENGTH} characters":
        lazy_gettext("must be at most %(n)s characters", n=MAX_REPLY_LINE_LENGTH),
    "must not contain { or }": lazy_gettext("must not contain { or }"),
    CONTROL_CHARACTERS: lazy_gettext("contains control characters"),
    LINE_BREAK: lazy_gettext("must be a single line"),
    NOT_TEXT: lazy_gettext("contains an unpaired surrogate or a noncharacter: not Unicode text"),
}


def domain_text(message: str | None) -> str:
    """A message of the domain code translated where we know it, else as it is."""
    if not message:
        return ""
    return str(_DOMAIN_TEXTS.get(message, message))
