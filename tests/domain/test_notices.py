"""The rules of change notices, as plain functions: which notice, when, and when it is the reminder."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from portal.domain.notices import Notice, is_the_reminder, notice_due, told, unwanted_reason, wanted
from portal.domain.schedule import policy_from_settings
from portal.domain.settings import DEFAULTS

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # 10:00 in Berlin
OLD, NEW = NOW + timedelta(days=4), NOW + timedelta(days=7)
POLICY = policy_from_settings(DEFAULTS)  # the day before at 18:00, quiet 21:00 to 08:00


def sms(kind="reminder", start=OLD, status="submitted", at=NOW - timedelta(hours=1), code=None, row_id=1):
    return SimpleNamespace(id=row_id, kind=kind, start_at=start, status=status, provider_error_code=code,
                           submit_started_at=at if status != "planned" else None, submitted_at=None)


@pytest.mark.parametrize("rows, start, cancelled, expected", [
    ([], NEW, False, None),
    ([sms(status="planned")], NEW, True, None),  # nothing went out: nothing to correct
    ([sms()], NEW, False, Notice("moved_notice", NEW, OLD)),
    ([sms()], OLD, False, None),  # moved back: the patient knows this time
    ([sms()], NEW, True, Notice("cancelled_notice", OLD, OLD)),  # the time the patient knows
    ([sms(status="failed", code="outcome_unknown")], NEW, False, Notice("moved_notice", NEW, OLD)),
    ([sms(status="failed", code="9")], NEW, False, None),  # refused: the patient got nothing
    ([sms(status="queued")], NEW, False, Notice("moved_notice", NEW, OLD)),  # in flight: may arrive
    ([sms(), sms("moved_notice", NEW, at=NOW, row_id=2)], OLD, False, Notice("moved_notice", OLD, OLD)),
    ([sms(), sms("cancelled_notice", OLD, at=NOW, row_id=2)], NEW, False, None),
    ([sms(start=NOW - timedelta(minutes=1))], NEW, False, None),  # the appointment had begun
])
def test_the_notice_wanted(rows, start, cancelled, expected):
    assert wanted(told(rows), start, cancelled, NOW) == expected


def test_why_a_pending_notice_is_not_sent():
    last = sms()
    assert unwanted_reason(None, last, NOW) == "change_undone"
    assert unwanted_reason(None, last, OLD) == "notice_too_late"
    assert unwanted_reason(Notice("cancelled_notice", OLD, OLD), last, NOW) == "appointment_cancelled"
    assert unwanted_reason(Notice("moved_notice", NEW, OLD), last, NOW) == "appointment_moved"


def test_a_notice_waits_for_the_end_of_quiet_hours_unless_that_is_too_late():
    evening = datetime(2026, 11, 20, 21, 15, tzinfo=timezone.utc)  # 22:15 in Berlin
    morning = datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc)  # 08:00 in Berlin
    assert notice_due(Notice("moved_notice", NEW, OLD), POLICY, NOW).due_at == NOW
    assert notice_due(Notice("moved_notice", NEW, OLD), POLICY, evening).due_at == morning
    early = Notice("cancelled_notice", morning - timedelta(minutes=30), morning - timedelta(minutes=30))
    assert notice_due(early, POLICY, evening).too_late
    assert notice_due(Notice("moved_notice", NEW, NOW), POLICY, NOW).too_late  # begins now


def test_the_notice_is_the_reminder_when_that_reminder_is_due_by_then():
    assert is_the_reminder(NOW + timedelta(hours=5), NOW, POLICY)  # its 18:00 the day before has passed
    assert not is_the_reminder(NEW, NOW, POLICY)  # due the evening before NEW: sent then as well
