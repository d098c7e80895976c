"""Mobile numbers as the practice program sends them."""
import pytest

from portal.domain.phones import mask_phone, normalize_phone_query, parse_mobile

ERIKA = "+4917012345678"


@pytest.mark.parametrize("typed", [
    "017012345678",
    "0170 1234 5678",
    "0170-12345678",
    "0170/12345678",
    "+49 170 12345678",
    "0049 170 12345678",
    "(0170) 12345678",
    "  0170 1234 5678  ",
])
def test_typed_formats_become_one_e164_mobile(typed):
    number = parse_mobile(typed)
    assert number.ok
    assert number.e164 == ERIKA
    assert number.raw == typed.strip()
    assert number.problem is None


def test_foreign_mobile_is_accepted():
    number = parse_mobile("+43 664 1234567")
    assert number.ok and number.e164 == "+436641234567"


@pytest.mark.parametrize("typed, why", [
    ("O17012345678", "letter"),      # letter O for zero, first digit
    ("017O12345678", "letter"),      # ... in the prefix: would be another valid number
    ("0170 1234567O", "letter"),     # ... at the end
    ("+49 17O 12345678", "letter"),
    ("0l7012345678", "letter"),      # lower-case L for one
    ("030 12345678", "landline"),
    ("0170123", "too short"),
    ("12", "too short"),
    ("01701234567890123", "too long"),
    ("0170#12345678", "characters"),
    ("+", "not a phone number"),
])
def test_invalid_numbers_are_kept_as_typed_with_the_reason(typed, why):
    number = parse_mobile(typed)
    assert not number.ok
    assert number.problem == "invalid_mobile"
    assert number.e164 is None
    assert number.raw == typed
    assert why in number.detail


@pytest.mark.parametrize("typed", [None, "", "   ", "\t\n"])
def test_no_number_is_missing_not_invalid(typed):
    number = parse_mobile(typed)
    assert not number.ok
    assert number.problem == "missing_mobile"
    assert number.e164 is None


@pytest.mark.parametrize("query, expected", [
    ("0170 1234 5678", ERIKA),
    ("+49 (170) 12345678", ERIKA),
    ("030 12345678", "+493012345678"),   # support may search a landline too
    ("+43 664 1234567", "+436641234567"),
    ("O17012345678", None),
    ("Mustermann", None),
    ("0170123", None),
    ("", None),
    (None, None),
])
def test_support_search_normalizes_any_valid_number(query, expected):
    assert normalize_phone_query(query) == expected


@pytest.mark.parametrize("number, masked", [
    (ERIKA, "+49 170 ****678"),
    ("0170 1234 5678", "+49 170 ****678"),
    ("+436641234567", "+43 664 ****567"),
    ("O17012345678", "O170****678"),
    ("123", "****"),
    ("", ""),
    (None, ""),
])
def test_lists_show_masked_numbers(number, masked):
    assert mask_phone(number) == masked
