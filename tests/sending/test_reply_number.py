"""Replies switched on: the reminder comes from the vendor's reply number and ends
with the reply line, as the sandbox received it and as it is stored."""
import pytest

from portal.domain.messages import REPLY_LINE_SEPARATOR
from portal.domain.settings import DEFAULT_REPLY_LINE

REPLY_NUMBER = "+4915799912345"


@pytest.fixture
def reply_number(app, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGEBIRD_REPLY_NUMBER", REPLY_NUMBER)
    return REPLY_NUMBER


def sent(sending, due, practice):
    """Send one due reminder of `practice`; the stored reminder and what the sandbox got."""
    [reminder_id] = due(1, practice=practice)
    sending.settle()
    reminder = sending.reminder(reminder_id)
    [message] = sending.messages()
    return reminder, message["message"]


def test_replies_on_send_from_the_reply_number_ending_with_the_reply_line(sending, due, make, reply_number):
    practice = make.licensed_practice(sender="PraxisAmMa", replies_enabled=True,
                                      reply_line="Antworten Sie JA oder NEIN.")
    reminder, message = sent(sending, due, practice)

    assert reminder.status == "submitted"
    assert message["originator"] == reply_number == reminder.sender
    assert message["body"] == reminder.body
    assert reminder.body.endswith(REPLY_LINE_SEPARATOR + "Antworten Sie JA oder NEIN.")
    assert reminder.body.count("Antworten Sie JA oder NEIN.") == 1


def test_the_reply_line_counts_in_the_segments(sending, due, make, reply_number):
    # 150 GSM-7 characters fit one SMS; the line below them makes it two
    practice = make.licensed_practice(template="x" * 150, replies_enabled=True)
    reminder, message = sent(sending, due, practice)

    assert reminder.body == "x" * 150 + "\n" + DEFAULT_REPLY_LINE
    assert reminder.segments == 2 and message["body"] == reminder.body


def test_replies_on_without_a_reply_number_send_as_before(sending, due, make, app):
    assert app.config["MESSAGEBIRD_REPLY_NUMBER"] is None
    practice = make.licensed_practice(sender="PraxisAmMa", replies_enabled=True)
    reminder, message = sent(sending, due, practice)

    assert message["originator"] == "PraxisAmMa" == reminder.sender
    assert DEFAULT_REPLY_LINE not in reminder.body and message["body"] == reminder.body


def test_replies_off_send_as_before(sending, due, make, reply_number):
    practice = make.licensed_practice(sender="PraxisAmMa")
    reminder, message = sent(sending, due, practice)

    assert message["originator"] == "PraxisAmMa" == reminder.sender
    assert DEFAULT_REPLY_LINE not in reminder.body


def test_replies_are_inherited_from_the_group_and_a_practice_can_switch_them_off(sending, due, make, reply_number):
    group = make.group(replies_enabled=True, reply_line="Antworten Sie bitte mit JA.")
    inheriting = make.licensed_practice(group=group, sender="Nord")
    reminder, message = sent(sending, due, inheriting)
    assert message["originator"] == reply_number
    assert reminder.body.endswith("\nAntworten Sie bitte mit JA.")

    sending.sandbox.reset()
    opted_out = make.licensed_practice(group=group, sender="Sued", replies_enabled=False)
    reminder, message = sent(sending, due, opted_out)
    assert message["originator"] == "Sued" and "Antworten Sie" not in reminder.body
