"""Who a reminder comes from and how it ends: one rule for sending, the preview and the support view."""
import pytest

from portal.domain.messages import outgoing, replies_unreachable, sms_info

NUMBER = "+4915799912345"
LINE = "Antworten Sie JA zur Bestätigung oder NEIN zur Absage."


def settings(replies: bool, line: str = LINE) -> dict:
    return {"sender": "PraxisNord", "replies_enabled": replies, "reply_line": line}


@pytest.mark.parametrize("replies, number, sender, text", [
    (True, NUMBER, NUMBER, "Bis morgen.\n" + LINE),
    (True, None, "PraxisNord", "Bis morgen."),  # an answer could not reach us: no promise of one
    (False, NUMBER, "PraxisNord", "Bis morgen."),
    (False, None, "PraxisNord", "Bis morgen."),
])
def test_the_reply_number_and_line_only_together_with_replies_on(replies, number, sender, text):
    sent_as = outgoing(settings(replies), number)
    assert (sent_as.sender, sent_as.text("Bis morgen.")) == (sender, text)
    assert replies_unreachable(replies, number) is (replies and number is None)


def test_the_line_stands_below_the_text_once_without_trailing_blanks():
    sent_as = outgoing(settings(True, "  Bitte mit JA antworten. "), NUMBER)
    assert sent_as.text("Bis morgen.  \n") == "Bis morgen.\nBitte mit JA antworten."


def test_the_line_counts_in_the_segments():
    body = "x" * 150
    assert sms_info(body).segments == 1
    assert sms_info(outgoing(settings(True), NUMBER).text(body)).segments == 2
