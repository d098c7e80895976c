"""Change notices: telling a patient who already got an SMS that the appointment was moved or cancelled.

One set of rules, asked by planning, by the send-time check and by the verdict:

- What the patient was told (`told`): the latest SMS of the appointment that went out
  or may have: submitted, outcome unknown, or in flight (its submission began; it
  may still reach the phone). A reminder or a moved notice tells of its start.
- Which notice is wanted (`wanted`): none before anything went out, and none after a
  cancel notice went out. A cancelled appointment wants a cancel notice naming the start
  the patient was told of (that is the time they know); an appointment that now starts
  at another time than they were told wants a moved notice naming the new start; an
  appointment back at the time they were told wants none (a move or cancel undone).
  A change made once the start the patient knows has begun wants none: the patient
  has missed or kept that appointment, and the next reminder tells the rest.
- A wanted notice is checked like a reminder (`eligibility.skip_reason`, the
  appointment's cancellation aside) and needs the practice's `change_notice` switch.
- It is due at once, or when quiet hours end (`schedule.after_quiet_hours`); it is too
  late once the earliest start it concerns (for a move the old and the new one) is less
  than LAST_MOMENT ahead.
- The notice is the reminder (`is_the_reminder`): when the reminder for the new start
  would be due by the time the notice goes out, no reminder of its own is planned: one
  SMS, with the moved text. When it is due later, it is sent then as usual.

Each (appointment, start, kind) has at most one row, so a notice goes out at most once.
"""
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Mapping

from .eligibility import ReminderFacts, skip_reason
from .schedule import DueTime, SendPolicy, after_quiet_hours, due_time

REMINDER, MOVED, CANCELLED = "reminder", "moved_notice", "cancelled_notice"
NOTICE_KINDS = (MOVED, CANCELLED)
OUTCOME_UNKNOWN = "outcome_unknown"
# The latest a reminder or notice may still go out before the appointment starts.
LAST_MOMENT = timedelta(seconds=60)
# Why a notice that was pending is not sent after all.
CHANGE_UNDONE = "change_undone"
NOTICE_TOO_LATE = "notice_too_late"
NOTICES_DISABLED = "notices_disabled"
# The reminder for the new start is not planned apart: the moved notice is that reminder.
NOTICE_IS_REMINDER = "notice_is_reminder"
_NEVER = datetime.min.replace(tzinfo=timezone.utc)
TEMPLATE_SETTING = {REMINDER: "template", MOVED: "change_template_moved", CANCELLED: "change_template_cancelled"}


@dataclass(frozen=True)
class Notice:
    kind: str
    start_at: datetime  # the start the text names
    deadline: datetime  # the earliest start it concerns: too late from LAST_MOMENT before it


def went_out(row) -> bool:
    """Whether the patient may hold this SMS: submitted, outcome unknown, or its submission began."""
    if row.status == "submitted":
        return True
    if row.status == "failed":
        return row.provider_error_code == OUTCOME_UNKNOWN
    return row.status == "queued" and row.submit_started_at is not None


def told(rows) -> object | None:
    """The latest SMS of an appointment (reminders and notices) that went out or may have."""
    sent = [row for row in rows if went_out(row)]
    return max(sent, key=lambda row: (row.submit_started_at or row.submitted_at or _NEVER, row.id or 0), default=None)


def wanted(last, start_at: datetime, cancelled: bool, now: datetime) -> Notice | None:
    """The notice the patient needs, given the last SMS they got (`told`) and the appointment now."""
    if last is None or last.kind == CANCELLED or last.start_at <= now:
        return None
    if cancelled:
        return Notice(CANCELLED, last.start_at, last.start_at)
    if start_at != last.start_at:
        return Notice(MOVED, start_at, min(last.start_at, start_at))
    return None


def unwanted_reason(want: Notice | None, last, now: datetime) -> str:
    """Why a pending notice other than the wanted one (`want`, or None) is not sent."""
    if want is not None:  # another change replaced it
        return "appointment_cancelled" if want.kind == CANCELLED else "appointment_moved"
    return NOTICE_TOO_LATE if last is not None and last.start_at <= now else CHANGE_UNDONE


def too_late(notice: Notice, now: datetime) -> bool:
    """Less than LAST_MOMENT before the earliest start the notice concerns."""
    return now > notice.deadline - LAST_MOMENT


def notice_skip_reason(facts: ReminderFacts, enabled: bool) -> str | None:
    """Why a wanted notice may not be sent, or None: the reminder's checks, then the practice's switch.

    The patient consented when the earlier SMS went out: no consent now is a withdrawal.
    """
    reason = skip_reason(replace(facts, appointment_cancelled=False))
    if reason in ("patient_erased", "no_licence", "sms_disabled"):
        return reason
    if not enabled:
        return NOTICES_DISABLED
    return "consent_withdrawn" if reason == "no_consent" else reason


def notice_due(notice: Notice, policy: SendPolicy, now: datetime) -> DueTime:
    """At once, or when quiet hours end; too late from LAST_MOMENT before the earliest start concerned."""
    if too_late(notice, now):
        return DueTime(None, True, "too late: the appointment begins")
    due = after_quiet_hours(now, policy)
    if too_late(notice, due):
        return DueTime(None, True, "too late: quiet hours last until the appointment")
    return DueTime(due, False, "at once" if due == now else "when quiet hours end")


def is_the_reminder(start_at: datetime, notice_due_at: datetime, policy: SendPolicy) -> bool:
    """Whether a moved notice going out at `notice_due_at` is also the reminder for `start_at`.

    So it is when that reminder would be due by then (or too late by then): one SMS, not two.
    """
    reminder = due_time(start_at, policy, notice_due_at)
    return reminder.too_late or reminder.due_at <= notice_due_at


def template(kind: str, settings: Mapping[str, object]) -> str:
    """The effective text of this kind of SMS."""
    return str(settings[TEMPLATE_SETTING[kind or REMINDER]])


def takes_reply_line(kind: str) -> bool:
    """Whether this kind of SMS ends with the reply line: a cancelled appointment leaves nothing to answer."""
    return kind != CANCELLED
