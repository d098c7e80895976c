"""What a patient's reply means, and which reminder it answers: the rules as a table."""
from datetime import datetime, timedelta, timezone

import pytest

from portal.domain.replies import (CANCEL, CONFIRM, STOP, UNREADABLE, SentReminder, applies, feed_kind, match,
                                   stop_confirmation, understand)

REPLIES = [
    # German, as patients write it
    ("ja", CONFIRM), ("Ja!", CONFIRM), ("JA danke", CONFIRM), ("jaa", CONFIRM), ("Jaaa!!!", CONFIRM),
    ("Ja, bis morgen", CONFIRM), ("Hallo, ja", CONFIRM), ("Guten Tag, ja gerne", CONFIRM), ("jawohl", CONFIRM),
    ("Ok", CONFIRM), ("Bestätige", CONFIRM),
    ("nein", CANCEL), ("Nein, leider nicht", CANCEL), ("NEIN.", CANCEL), ("nee", CANCEL), ("absagen", CANCEL),
    ("Bitte absagen", CANCEL), ("Absage, bin krank", CANCEL), ("Storno", CANCEL),
    ("stop", STOP), ("STOPP", STOP), ("Stop bitte", STOP), ("stopp!", STOP), ("Abmelden", STOP),
    # emoji, spacing, leading and trailing text, other scripts of the same letters
    (" ja 👍", CONFIRM), ("👍 ja", CONFIRM), ("ja\nbis morgen", CONFIRM), ("\tNein\r\n", CANCEL),
    ("ｊａ", CONFIRM), ("JA😀😀", CONFIRM),
    # English: yes, ok, stop, cancel; not "no" ("no problem" means yes)
    ("yes", CONFIRM), ("Yes please", CONFIRM), ("STOP", STOP), ("cancel", CANCEL), ("no problem", UNREADABLE),
    # not guessed: mixed answers, a yes with a negation, questions, other languages, nothing
    ("Ja, aber ich muss absagen", UNREADABLE), ("Ja leider nicht", UNREADABLE), ("ja nein", UNREADABLE),
    ("Ich komme", UNREADABLE), ("Kann ich verschieben?", UNREADABLE), ("Danke", UNREADABLE),
    ("oui", UNREADABLE), ("evet", UNREADABLE), ("tak", UNREADABLE), ("да", UNREADABLE), ("sí", UNREADABLE),
    ("", UNREADABLE), ("   ", UNREADABLE), (None, UNREADABLE), ("👍", UNREADABLE), ("???", UNREADABLE),
    ("12345", UNREADABLE), ("jaein", UNREADABLE),
]


@pytest.mark.parametrize("text,intent", REPLIES, ids=[repr(text) for text, _ in REPLIES])
def test_a_reply_is_understood_forgivingly_but_never_guessed(text, intent):
    assert understand(text) == intent


NOW = datetime(2026, 11, 24, 18, 30, tzinfo=timezone.utc)
TOMORROW = NOW + timedelta(hours=16)


def sent(reminder_id, practice_id, hours_ago, start=TOMORROW, sender="Praxis"):
    return SentReminder(reminder_id, practice_id, NOW - timedelta(hours=hours_ago), start, sender)


def test_the_latest_reminder_of_the_one_practice_is_answered():
    found = match(CONFIRM, [sent(1, 7, 30), sent(2, 7, 1)], NOW)
    assert [row.reminder_id for row in found.reminders] == [2] and not found.ambiguous
    assert applies(CONFIRM, found) and feed_kind(CONFIRM, found) == "confirmed"


def test_an_appointment_still_ahead_wins_over_a_later_reminder_for_one_that_began():
    began = sent(2, 8, 1, start=NOW - timedelta(minutes=10))
    found = match(CANCEL, [sent(1, 7, 3), began], NOW)
    assert [row.reminder_id for row in found.reminders] == [1]


def test_two_practices_messaging_the_number_make_a_yes_ambiguous_for_both():
    found = match(CONFIRM, [sent(1, 7, 2), sent(2, 8, 1)], NOW)
    assert [row.practice_id for row in found.reminders] == [7, 8] and found.ambiguous
    assert not applies(CONFIRM, found) and feed_kind(CONFIRM, found) == "unreadable_reply"


def test_only_reminders_from_the_number_replied_to_count_when_there_are_some():
    from_name, from_number = sent(1, 7, 1, sender="PraxisNord"), sent(2, 8, 3, sender="+4915700000000")
    found = match(CONFIRM, [from_name, from_number], NOW, replied_to="4915700000000")
    assert [row.reminder_id for row in found.reminders] == [2] and not found.ambiguous
    # none came from that number (a reply number since replaced): every reminder counts
    assert match(CONFIRM, [from_name, from_number], NOW, replied_to="4915799999999").ambiguous


def test_stop_applies_to_every_practice_that_messaged_the_number():
    found = match(STOP, [sent(1, 7, 2), sent(2, 8, 1, start=NOW - timedelta(hours=2))], NOW)
    assert [row.practice_id for row in found.reminders] == [7, 8]
    assert applies(STOP, found) and feed_kind(STOP, found) == "opted_out"


def test_reminders_outside_the_window_or_after_the_reply_do_not_count():
    assert not match(CONFIRM, [sent(1, 7, 24 * 15)], NOW).found
    assert not match(CONFIRM, [sent(1, 7, -1)], NOW).found
    assert not match(CONFIRM, [], NOW).found


def test_the_stop_confirmation_names_the_practice_without_a_template_engine():
    assert stop_confirmation("Physio {uhrzeit} am Markt") == (
        "Sie erhalten keine Terminerinnerungen mehr von Physio {uhrzeit} am Markt.")
