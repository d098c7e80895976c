"""Delivery reports: recorded once, on the reminder they belong to, its delivery status from them."""
import json
from datetime import datetime

from sqlalchemy import (JSON, String, Text, and_, case, cast, exists, false, func, insert, literal, null, or_, select,
                        true, union_all, update)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import AppointmentEvent, DeliveryReport, Reminder, WebhookNonce
from ..models.base import UTCDateTime
from . import state

DELIVERY_RANK = {"scheduled": 0, "buffered": 1, "sent": 2, "delivered": 3, "delivery_failed": 3, "expired": 3}
FINAL_RANK = 3


def record_report(report, jti: str, jti_expires_at: datetime, now: datetime) -> str:
    """Record a status report once and apply it: "recorded", "duplicate", "orphan" or "replay".

    Writes, in one transaction left to the caller to commit: the signature's
    `jti` (a second use is a "replay": nothing else is written); the report,
    unless the same one (message, status, time) is recorded already; on its
    reminder (by message ID, else by our reference while the message ID is
    unknown to us, see `state.ATTACHABLE`) the delivery status, forward only,
    and the message ID or the confirmation of an unknown outcome
    (`state.by_report`); and the timeline events. Without a reminder it is
    kept as an orphan (`adopt_orphans`).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return _record_postgresql(report, jti, jti_expires_at, now)
    return _record_sqlite(report, jti, jti_expires_at, now)


def _record_postgresql(report, jti: str, jti_expires_at: datetime, now: datetime) -> str:
    """One statement of data-modifying CTEs, so a report costs one round trip and a commit.

    Its parts share one snapshot; the reminder is therefore found, then locked
    (`target`, FOR UPDATE), and whether it is confirmed or only given its
    message ID is decided on the locked row, as it is when the worker
    recording the same message ID commits while this report waits. The report
    row waits for a concurrent copy of itself (the unique key) and the
    reminder is changed only when the report was recorded.
    """
    nonce = (pg_insert(WebhookNonce).values(jti=jti, expires_at=jti_expires_at)
             .on_conflict_do_nothing().returning(WebhookNonce.jti).cte("nonce"))
    confirms, attaches = and_(*state.CONFIRMABLE), and_(*state.ATTACHABLE)
    target = (select(Reminder.id, Reminder.practice_id, Reminder.appointment_id, Reminder.body,
                     confirms.label("confirms"), attaches.label("attaches"))
              .where(Reminder.id == _candidate(report), _belongs(report), exists(select(nonce.c.jti)))
              .with_for_update().cte("target"))
    recorded = (pg_insert(DeliveryReport).from_select(
        [*REPORT_COLUMNS, "reminder_id", "practice_id"],
        select(*_report_values(report, now), target.c.id, target.c.practice_id)
        .select_from(nonce.outerjoin(target, true())),
    ).on_conflict_do_nothing(constraint="uq_delivery_reports_report")
        .returning(DeliveryReport.id, DeliveryReport.reminder_id).cte("recorded"))
    changes = or_(_advances(report.status, report.status_at), target.c.confirms, target.c.attaches)
    applied = (update(Reminder).where(Reminder.id == target.c.id, changes, exists(select(recorded.c.id)))
               .values(**_delivery_values(report.status, report.status_at),
                       **state.by_report(report.message_id, target.c.confirms, target.c.attaches, now))
               .cte("applied"))
    both, at = recorded.join(target, true()), literal(now, UTCDateTime)
    confirmed = state.confirmation(report.message_id, target.c.body, state.REPORT_PROVES)
    delivered = json.dumps(report_event_data(report, report.message_id))
    timeline = insert(AppointmentEvent).from_select(
        ["appointment_id", "practice_id", "reminder_id", "at", "kind", "data"],
        union_all(  # in this order, as the timeline reads them
            select(target.c.appointment_id, target.c.practice_id, target.c.id, at, literal(state.CONFIRMED),
                   _json_object(confirmed)).select_from(both).where(target.c.confirms),
            select(target.c.appointment_id, target.c.practice_id, target.c.id, at, literal("delivery_report"),
                   cast(literal(delivered), JSON)).select_from(both),
        )).cte("timeline")
    outcome = db.session.execute(
        select(recorded.c.id, recorded.c.reminder_id).select_from(nonce.outerjoin(recorded, true()))
        .add_cte(applied, timeline)
    ).first()
    return _outcome(outcome)


def _record_sqlite(report, jti: str, jti_expires_at: datetime, now: datetime) -> str:
    """The same in up to five statements: SQLite has no data-modifying CTEs.

    The first statement takes SQLite's one write lock, so what follows sees
    no concurrent writer and nothing needs locking.
    """
    if db.session.execute(sqlite_insert(WebhookNonce).values(jti=jti, expires_at=jti_expires_at)
                          .on_conflict_do_nothing().returning(WebhookNonce.jti)).first() is None:
        return "replay"
    target = db.session.execute(
        select(Reminder.id, Reminder.practice_id, Reminder.appointment_id, Reminder.body,
               and_(*state.CONFIRMABLE).label("confirms"), and_(*state.ATTACHABLE).label("attaches"))
        .where(Reminder.id == _candidate(report), _belongs(report))
    ).first()
    values = dict(zip(REPORT_COLUMNS, (report.message_id, report.reference, report.recipient, report.status,
                                       report.status_at, report.status_reason, report.status_error_code,
                                       report.details or None, now)))
    recorded = db.session.execute(
        sqlite_insert(DeliveryReport).values(**values, reminder_id=target and target.id,
                                             practice_id=target and target.practice_id)
        .on_conflict_do_nothing().returning(DeliveryReport.id, DeliveryReport.reminder_id)
    ).first()
    if recorded is None:
        return "duplicate"
    if target is not None:
        flags = [true() if flag else false() for flag in (target.confirms, target.attaches)]
        changes = or_(_advances(report.status, report.status_at), *flags)
        db.session.execute(update(Reminder).where(Reminder.id == target.id, changes).values(
            **_delivery_values(report.status, report.status_at), **state.by_report(report.message_id, *flags, now)))
        confirmed = [(target, state.CONFIRMED, state.confirmation(report.message_id, target.body,
                                                                   state.REPORT_PROVES))] if target.confirms else []
        state.events(now, [*confirmed, (target, "delivery_report", report_event_data(report, report.message_id))])
    return _outcome(recorded)


REPORT_COLUMNS = ("provider_message_id", "reference", "recipient", "status", "status_at", "status_reason",
                  "status_error_code", "details", "received_at")


def _report_values(report, now: datetime) -> list:
    """The report's columns as typed literals, in the order of REPORT_COLUMNS."""
    details = cast(literal(json.dumps(report.details)), JSON) if report.details else null()
    return [literal(report.message_id, String), literal(report.reference, String), literal(report.recipient, String),
            literal(report.status, String), literal(report.status_at, UTCDateTime),
            literal(report.status_reason, String), literal(report.status_error_code, String), details,
            literal(now, UTCDateTime)]


def _candidate(report):
    """The reminder's ID: by the provider's message ID, else our reference (a reminder ID)."""
    reference = report.reference or ""
    by_reference = int(reference) if reference.isascii() and reference.isdigit() and len(reference) < 19 else None
    by_message = select(Reminder.id).where(Reminder.provider_message_id == report.message_id).scalar_subquery()
    return func.coalesce(by_message, by_reference)


def _belongs(report):
    """Found by message ID; or by reference, a begun submission without one, to the report's number.

    A report found by reference proves the provider accepted that submission.
    """
    same_number = (func.ltrim(func.coalesce(Reminder.recipient, ""), "+") == report.recipient
                   if report.recipient else true())
    return or_(Reminder.provider_message_id == report.message_id,
               and_(or_(and_(*state.ATTACHABLE), and_(*state.CONFIRMABLE)), same_number))


def _json_object(data: dict):
    """`data` as a PostgreSQL json value, its columns read from the row."""
    pairs = [(literal(key, String), value if hasattr(value, "type") else cast(literal(value), Text))
             for key, value in data.items()]
    return func.json_build_object(*[part for pair in pairs for part in pair], type_=JSON)


def _outcome(recorded) -> str:
    if recorded is None:
        return "replay"
    if recorded.id is None:
        return "duplicate"
    return "orphan" if recorded.reminder_id is None else "recorded"


def record_delivery(reminder, report, now: datetime) -> None:
    """A recorded report's status on its reminder, and a `delivery_report` event."""
    apply_delivery_status(reminder.id, report.status, report.status_at)
    state.events(now, [(reminder, "delivery_report", report_event_data(report, reminder.provider_message_id))])


def _rank(column):
    return case(DELIVERY_RANK, value=column, else_=-1)


def apply_delivery_status(reminder_id: int, status: str, status_at: datetime) -> bool:
    """Advance the reminder's delivery status by the provider's order, never back (`_delivery_values`).

    Returns True when the status changed.
    """
    if status not in DELIVERY_RANK:
        return False
    result = db.session.execute(
        update(Reminder).where(Reminder.id == reminder_id, _advances(status, status_at))
        .values(**_delivery_values(status, status_at)).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _advances(status: str, status_at: datetime):
    """Whether a report's status moves the reminder's on: a higher rank; among final ones a later report.

    A conditional write, so reports arriving in any order and concurrently
    end in the same state.
    """
    if status not in DELIVERY_RANK:
        return false()
    rank = DELIVERY_RANK[status]
    later_final = and_(_rank(Reminder.delivery_status) == rank,
                       Reminder.delivery_status_at < status_at) if rank == FINAL_RANK else false()
    return or_(Reminder.delivery_status.is_(None), _rank(Reminder.delivery_status) < rank, later_final)


def _delivery_values(status: str, status_at: datetime) -> dict:
    """SET values that apply a report's delivery status where it `_advances`, else keep the row's."""
    advances = _advances(status, status_at)
    values = {"delivery_status": case((advances, status), else_=Reminder.delivery_status),
              "delivery_status_at": case((advances, status_at), else_=Reminder.delivery_status_at)}
    if status == "delivered":
        values["delivered_at"] = case((advances, status_at), else_=Reminder.delivered_at)
    return values


def adopt_orphans(reminder, now: datetime) -> int:
    """Attach reports recorded before the reminder had its message ID; apply their statuses."""
    orphans = db.session.execute(
        select(DeliveryReport.id, DeliveryReport.status, DeliveryReport.status_at,
               DeliveryReport.status_reason, DeliveryReport.status_error_code).where(
            DeliveryReport.provider_message_id == reminder.provider_message_id,
            DeliveryReport.reminder_id.is_(None),
        ).order_by(DeliveryReport.id)
    ).all()
    if not orphans:
        return 0
    db.session.execute(
        update(DeliveryReport).where(DeliveryReport.id.in_([row.id for row in orphans]))
        .values(reminder_id=reminder.id, practice_id=reminder.practice_id)
        .execution_options(synchronize_session=False)
    )
    for row in orphans:
        record_delivery(reminder, row, now)
    return len(orphans)


def report_event_data(report, message_id: str) -> dict:
    """What the timeline shows of one delivery report."""
    return {"status": report.status, "status_at": report.status_at.isoformat(),
            "reason": report.status_reason, "error_code": report.status_error_code, "message_id": message_id}
