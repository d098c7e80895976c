"""Reminder texts: placeholders, hostile input, German dates, SMS segments, sender."""
import math
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from portal.domain.messages import (
    PLACEHOLDERS, SAMPLE_VALUES, TemplateError, check_template, reminder_values, render,
    sender_problem, sms_info, template_problems,
)

TEMPLATE = "Hallo {anrede} {nachname}, Ihr Termin ist am {wochentag}, {datum} um {uhrzeit} Uhr."


def values(**names):
    """Placeholder values for Erika's appointment, with some names overridden."""
    person = {"salutation": "Frau", "first_name": "Erika", "last_name": "Mustermann",
              "practice_name": "Praxis am Markt", "practice_phone": "030 1234567",
              "therapist": "Max Beispiel"} | names
    return reminder_values(start_local=datetime(2026, 11, 25, 10, 0), **person)


# --- templates -----------------------------------------------------------------

def test_placeholders_are_the_german_names_of_the_contract():
    assert PLACEHOLDERS == ("anrede", "vorname", "nachname", "name", "wochentag", "datum", "uhrzeit",
                            "praxis", "praxis_telefon", "therapeut")


def test_render_fills_the_reminder():
    assert render(TEMPLATE, values()) == (
        "Hallo Frau Mustermann, Ihr Termin ist am Mittwoch, 25.11.2026 um 10:00 Uhr.")


@pytest.mark.parametrize("text, problems", [
    (TEMPLATE, []),
    ("{Vorname}", ["Vorname"]),
    ("{x} und {y}", ["x", "y"]),
    ("{ vorname }", [" vorname "]),
    ("{vorname.__class__}", ["vorname.__class__"]),
    ("{0}", ["0"]),
    ("{}", [""]),
    ("Hallo {vorname", ["{"]),
    ("Preis: 5 }", ["}"]),
    ("{vorname\n}", ["{", "}"]),
    ("{{vorname}} kostet {{5}}", []),
])
def test_template_problems_name_what_was_typed(text, problems):
    assert template_problems(text) == problems


@pytest.mark.parametrize("text, placeholder, says", [
    ("Hallo {Vorname}", "Vorname", "{Vorname}"),
    ("Am {datum} {x}", "x", "{x}"),
    ("Hallo {vorname", "{", "{{"),
    ("", None, "empty"),
    ("   ", None, "empty"),
    ("a" * 1001, None, "1000"),
])
def test_check_template_refuses_with_a_clear_message(text, placeholder, says):
    with pytest.raises(TemplateError) as error:
        check_template(text)
    assert error.value.placeholder == placeholder
    assert says in str(error.value)


def test_check_template_accepts_every_placeholder_and_escaped_braces():
    check_template(" ".join("{" + name + "}" for name in PLACEHOLDERS) + " {{ok}}")
    check_template("a" * 1000)


@pytest.mark.parametrize("template, names, expected", [
    ("{vorname}", {"first_name": "<script>alert(1)</script>"}, "<script>alert(1)</script>"),
    ("{vorname}", {"first_name": "{praxis}"}, "{praxis}"),           # never re-scanned
    ("{vorname} {nachname}", {"first_name": "{", "last_name": "}"}, "{ }"),
    ("{vorname}", {"first_name": "{vorname.__class__}"}, "{vorname.__class__}"),
    ("{vorname}", {"first_name": "Erika\nMustermann"}, "Erika Mustermann"),
    ("{vorname}", {"first_name": "  Erika\r\n\tMaria  "}, "Erika Maria"),
    ("{vorname}", {"first_name": "Erika\u202e"}, "Erika"),             # bidi override dropped
    ("{vorname}", {"first_name": "E" * 200}, "E" * 60),
    ("{vorname}", {"first_name": None}, ""),
])
def test_hostile_names_are_inserted_literally(template, names, expected):
    assert render(template, values(**names)) == expected


@pytest.mark.parametrize("template, expected", [
    ("{vorname.__class__}", "{vorname.__class__}"),
    ("{0}{1}", "{0}{1}"),
    ("{anrede.upper}", "{anrede.upper}"),
    ("{{vorname}}", "{vorname}"),
    ("{{{vorname}}}", "{Erika}"),
    ("Rest {", "Rest {"),
])
def test_render_executes_nothing(template, expected):
    assert render(template, values()) == expected


def test_missing_values_render_empty():
    assert render("[{therapeut}]", {}) == "[]"


@pytest.mark.parametrize("start, weekday, date, clock", [
    (datetime(2026, 11, 25, 10, 0), "Mittwoch", "25.11.2026", "10:00"),
    (datetime(2026, 3, 1, 9, 5), "Sonntag", "01.03.2026", "09:05"),
    (datetime(2026, 1, 5, 17, 45), "Montag", "05.01.2026", "17:45"),
    (datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc), "Donnerstag", "31.12.2026", "23:59"),
])
def test_dates_are_german(start, weekday, date, clock):
    filled = reminder_values(salutation="Herr", first_name="Max", last_name="Muster", start_local=start,
                             practice_name="P", practice_phone="1", therapist="T")
    assert (filled["wochentag"], filled["datum"], filled["uhrzeit"]) == (weekday, date, clock)


def test_sample_values_fill_every_placeholder():
    assert set(SAMPLE_VALUES) == set(PLACEHOLDERS)
    assert render(TEMPLATE, SAMPLE_VALUES).startswith("Hallo Frau Mustermann, Ihr Termin ist am Mittwoch")


# --- SMS segments ------------------------------------------------------------------

@pytest.mark.parametrize("text, encoding, length, segments, remaining", [
    ("", "GSM-7", 0, 0, 160),
    ("a" * 160, "GSM-7", 160, 1, 0),
    ("a" * 161, "GSM-7", 161, 2, 145),
    ("a" * 306, "GSM-7", 306, 2, 0),
    ("a" * 307, "GSM-7", 307, 3, 152),
    ("äöüßÄÖÜéèàÇ", "GSM-7", 11, 1, 149),             # umlauts and capital Ç are in the basic table
    ("€", "GSM-7", 2, 1, 158),
    ("€" * 80, "GSM-7", 160, 1, 0),
    ("€" * 81, "GSM-7", 162, 2, 143),                 # 76 € fill part one (152)
    ("^{}\\[]~|", "GSM-7", 16, 1, 144),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3, 152),  # € may not straddle 153
    ("ç", "UCS-2", 1, 1, 69),
    ("á", "UCS-2", 1, 1, 69),
    ("ê", "UCS-2", 1, 1, 69),
    ("„Termin“", "UCS-2", 8, 1, 62),
    ("10–11 Uhr", "UCS-2", 9, 1, 61),
    ("😀", "UCS-2", 2, 1, 68),
    ("ç" * 70, "UCS-2", 70, 1, 0),
    ("ç" * 71, "UCS-2", 71, 2, 63),
    ("ç" * 134, "UCS-2", 134, 2, 0),
    ("ç" * 135, "UCS-2", 135, 3, 66),
    ("ç" * 66 + "😀" + "ç" * 66, "UCS-2", 134, 3, 66),    # a surrogate pair is never split
])
def test_sms_info(text, encoding, length, segments, remaining):
    info = sms_info(text)
    assert (info.encoding, info.length, info.segments, info.remaining) == (encoding, length, segments, remaining)


def test_one_emoji_turns_a_german_text_into_ucs2():
    german = "Liebe Frau Müller, bitte denken Sie an Ihren Termin."
    assert sms_info(german).encoding == "GSM-7"
    assert sms_info(german + " 🙂").encoding == "UCS-2"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="aä€{ç😀 ", max_size=400))
def test_segments_are_consistent_with_length(text):
    info = sms_info(text)
    single, part = (160, 153) if info.encoding == "GSM-7" else (70, 67)
    if info.length <= single:
        assert info.segments == (1 if text else 0)
        assert info.remaining == single - info.length
    else:
        # Each boundary loses at most one unit to a character that may not be split.
        assert math.ceil(info.length / part) <= info.segments <= math.ceil(info.length / (part - 1))
        assert 0 <= info.remaining < part
        assert info.per_segment == part


# --- sender ------------------------------------------------------------------------

@pytest.mark.parametrize("sender", ["Praxis", "PraxisMarkt", "Praxis 1", "P", "4917012345678", "+4917012345678",
                                    "12345678901234567"])
def test_valid_senders(sender):
    assert sender_problem(sender) is None


@pytest.mark.parametrize("sender", ["", "PraxisAmMarkt", "Physio-Team", "Müller", "1234 5678", " Praxis",
                                    "Praxis ", "+49 170 123", "123456789012345678", "Praxis!"])
def test_invalid_senders_say_why(sender):
    assert sender_problem(sender)


@pytest.mark.parametrize("template,values,expected", [
    ("Guten Tag {anrede} {nachname}, bis {datum}.", {"nachname": "Mustermann", "datum": "25.11.2026"},
     "Guten Tag Mustermann, bis 25.11.2026."),
    ("{anrede} {nachname}: Termin", {"nachname": "Weber"}, "Weber: Termin"),
    ("Zeile {vorname}\n{therapeut} Zeile 2", {"vorname": "Erika"}, "Zeile Erika\nZeile 2"),
    ("Bis bald, {therapeut}.", {}, "Bis bald,."),
    ("Bei {therapeut} ({praxis})", {"praxis": "Praxis am Markt"}, "Bei (Praxis am Markt)"),
    ("{anrede}{nachname}", {"nachname": "Weber"}, "Weber"),
])
def test_an_empty_value_leaves_no_gap(template, values, expected):
    assert render(template, values) == expected


def test_the_practices_own_spacing_stays_as_typed():
    assert render("Termin:  {datum}\n  Bitte pünktlich.", {"datum": "25.11.2026"}) == "Termin:  25.11.2026\n  Bitte pünktlich."
