"""Delivery reports: which reminder a report belongs to, and its delivery status from it."""
from datetime import datetime

from sqlalchemy import and_, case, false, or_, select, update

from ..extensions import db
from ..models import DeliveryReport, Reminder
from . import state

DELIVERY_RANK = {"scheduled": 0, "buffered": 1, "sent": 2, "delivered": 3, "delivery_failed": 3, "expired": 3}
FINAL_RANK = 3


def reminder_for(message_id: str, reference: str | None, recipient: str | None, now: datetime) -> Reminder | None:
    """The reminder by the provider's message ID; else by our reference, when it is still unconfirmed.

    A report found by reference proves the provider accepted that submission
    (see `state.learn_message_id`); `recipient` (digits only) must match.
    """
    reminder = db.session.scalars(select(Reminder).where(Reminder.provider_message_id == message_id)).first()
    if reminder is not None or not (reference and reference.isdigit()):
        return reminder
    reminder = db.session.get(Reminder, int(reference))
    if reminder is None or reminder.provider_message_id is not None or reminder.submit_started_at is None:
        return None
    if recipient and (reminder.recipient or "").lstrip("+") != recipient:
        return None
    learnt = state.learn_message_id(reminder.id, message_id, now)
    db.session.refresh(reminder)
    # Not learnt: the worker may have recorded this very message ID while the report waited
    # for the row's lock; the report belongs to that reminder all the same.
    return reminder if learnt or reminder.provider_message_id == message_id else None


def record_delivery(reminder, report, now: datetime) -> None:
    """A recorded report's status on its reminder, and a `delivery_report` event."""
    apply_delivery_status(reminder.id, report.status, report.status_at)
    state.events(now, [(reminder, "delivery_report", report_event_data(report, reminder.provider_message_id))])


def _rank(column):
    return case(DELIVERY_RANK, value=column, else_=-1)


def apply_delivery_status(reminder_id: int, status: str, status_at: datetime) -> bool:
    """Advance the reminder's delivery status by the provider's order, never back.

    One conditional UPDATE, so reports arriving in any order and concurrently
    end in the same state: a higher rank wins; among the final statuses the
    later report wins. Returns True when the status changed.
    """
    if status not in DELIVERY_RANK:
        return False
    rank = DELIVERY_RANK[status]
    later_final = and_(_rank(Reminder.delivery_status) == rank,
                       Reminder.delivery_status_at < status_at) if rank == FINAL_RANK else false()
    values = {"delivery_status": status, "delivery_status_at": status_at}
    if status == "delivered":
        values["delivered_at"] = status_at
    result = db.session.execute(
        update(Reminder).where(
            Reminder.id == reminder_id,
            or_(Reminder.delivery_status.is_(None), _rank(Reminder.delivery_status) < rank, later_final),
        ).values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def adopt_orphans(submissions, now: datetime) -> int:
    """Attach reports recorded before their reminders had message IDs; apply their statuses.

    `submissions` are rows with id, practice_id, appointment_id and provider_message_id;
    one query finds the orphans of all of them.
    """
    by_message = {row.provider_message_id: row for row in submissions}
    if not by_message:
        return 0
    orphans = db.session.execute(
        select(DeliveryReport.id, DeliveryReport.provider_message_id, DeliveryReport.status,
               DeliveryReport.status_at, DeliveryReport.status_reason, DeliveryReport.status_error_code).where(
            DeliveryReport.provider_message_id.in_(by_message), DeliveryReport.reminder_id.is_(None),
        ).order_by(DeliveryReport.id)
    ).all()
    for message_id in dict.fromkeys(row.provider_message_id for row in orphans):
        reminder, reports = by_message[message_id], [row for row in orphans if row.provider_message_id == message_id]
        db.session.execute(
            update(DeliveryReport).where(DeliveryReport.id.in_([row.id for row in reports]))
            .values(reminder_id=reminder.id, practice_id=reminder.practice_id)
            .execution_options(synchronize_session=False)
        )
        for row in reports:
            record_delivery(reminder, row, now)
    return len(orphans)


def report_event_data(report, message_id: str) -> dict:
    """What the timeline shows of one delivery report."""
    return {"status": report.status, "status_at": report.status_at.isoformat(),
            "reason": report.status_reason, "error_code": report.status_error_code, "message_id": message_id}
