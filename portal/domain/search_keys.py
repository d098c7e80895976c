"""Search keys: names and numbers as people say them on the phone.

Stored beside the patient (`patients.name_key`, `patients.mobile_key`) and
computed the same way for the query, so a search compares keys in an index
instead of folding every row at query time:

- names: lower case, ä=ae, ö=oe, ü=ue, ß=ss, other accents dropped (é=e),
  everything else a word boundary; "Müller-Lüdenscheidt, Özlem" is
  " mueller luedenscheidt oezlem ". Each query word must begin a word of the key,
  in any order, so "Becker Christa" finds Christa Becker.
- numbers: O/o typed for 0 and l/I for 1 folded, then the number in E.164
  when it is one, else its digits: "0176 98765O3" and "0176 9876503" meet.
"""
import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException

# Letters without a decomposition to fold by hand (Turkish ı, Polish ł, Nordic ø...).
_SPELLED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "œ": "oe", "ı": "i",
                          "ł": "l", "đ": "d", "ð": "d", "þ": "th"})
_DIGIT_TYPOS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})
# Words beyond this many in a query are ignored: nobody says more, and each is a condition.
MAX_QUERY_WORDS = 4


def fold(text: str | None) -> str:
    """A name as plain lower-case ASCII words separated by single spaces."""
    text = (text or "").lower().translate(_SPELLED)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in text).split())


def name_key(*names: str | None) -> str | None:
    """The stored key of a patient's names: folded words, space at both ends (None without names)."""
    words = fold(" ".join(name for name in names if name)).split()
    return f" {' '.join(words)} " if words else None


def name_query(text: str | None) -> list[str]:
    """The folded words of a typed name, each to be found at the start of a word of the key."""
    return fold(text).split()[:MAX_QUERY_WORDS]


@lru_cache(maxsize=65536)  # libphonenumber is slow; the key is a plain string, safe to share
def phone_key(text: str | None, region: str = "DE") -> str | None:
    """A number's key: E.164 after folding typed letters, else its digits; None without digits."""
    folded = (text or "").translate(_DIGIT_TYPOS)
    digits = "".join(ch for ch in folded if ch.isdecimal())
    if not digits:
        return None
    if not any(ch.isalpha() for ch in folded):
        try:
            number = phonenumbers.parse(folded, region)
        except NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return digits
