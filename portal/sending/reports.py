"""Delivery reports: recorded once, on the reminder they belong to, its delivery status from them."""
import logging
from datetime import datetime
from functools import cache

from sqlalchemy import (JSON, Boolean, Integer, String, Text, and_, bindparam, case, exists, func, insert,
                        literal, literal_column, or_, select, true, tuple_, union_all, update)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.util import ClauseAdapter

from ..extensions import db
from ..models import AppointmentEvent, DeliveryReport, Reminder, WebhookNonce
from ..models.base import UTCDateTime
from . import state

log = logging.getLogger(__name__)

DELIVERY_RANK = {"scheduled": 0, "buffered": 1, "sent": 2, "delivered": 3, "delivery_failed": 3, "expired": 3}
FINAL_RANK = 3
DELIVERY_REPORT = "delivery_report"  # its timeline event

# The statements below are built once, with these parameters, and run with a report's values
# (`_parameters`): a storm of reports then costs no statement building. In the SQL they are
# p0, p1, ...: apart from the columns (SQLAlchemy keeps a column's name for its own parameter
# in INSERT and UPDATE), and short, so that psycopg keeps the report's statement parsed
# (it caches statements up to 4,096 characters).
P = {name: bindparam(f"p{number}", type_=type_) for number, (name, type_) in enumerate({
    "jti": String, "jti_expires_at": UTCDateTime, "now": UTCDateTime,
    "message_id": String, "reference": String, "recipient": String, "status": String, "status_at": UTCDateTime,
    "status_reason": String, "status_error_code": String, "details": JSON(none_as_null=True),
    "reminder_ref": Integer, "rank": Integer, "final": Boolean, "delivered": Boolean,
    "delivery_event": JSON, "confirmation_note": Text, "reminder_id": Integer,
}.items())}
REPORT_COLUMNS = ("provider_message_id", "reference", "recipient", "status", "status_at", "status_reason",
                  "status_error_code", "details", "received_at")
REPORT_VALUES = ("message_id", "reference", "recipient", "status", "status_at", "status_reason",
                 "status_error_code", "details", "now")


def record_report(report, jti: str, jti_expires_at: datetime, now: datetime) -> str:
    """Record a status report once, apply it and commit: "recorded", "duplicate", "orphan" or "replay".

    Writes, in one transaction: the signature's `jti` (a second use is a
    "replay": nothing else is written); the report, unless the same one
    (message, status, time) is recorded already; on its reminder (by message
    ID, else by our reference while the message ID is unknown to us, see
    `state.ATTACHABLE`) the delivery status, forward only, and the message ID
    or the confirmation of an unknown outcome (`state.by_report`); and the
    timeline events. Without a reminder it is kept as an orphan
    (`adopt_orphans`).
    """
    parameters = _parameters(report, jti, jti_expires_at, now)
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql and not (db.session.registry.has() and db.session().in_transaction()):
        # One statement is its own transaction: no BEGIN and COMMIT round trips, nothing to commit,
        # and no session to set up and close around it.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            row = connection.execute(_postgresql_statement(), _bound(parameters)).first()
        return _outcome(row, row is not None and row.confirms)
    if postgresql:  # in a transaction begun before (a test arranging data)
        row = db.session.connection().execute(_postgresql_statement(), _bound(parameters)).first()
        outcome = _outcome(row, row is not None and row.confirms)
    else:
        outcome = _record_sqlite(parameters, now)
    if outcome == "replay":
        db.session.rollback()
    else:
        db.session.commit()
    return outcome


@cache
def _postgresql_statement():
    """One statement of data-modifying CTEs, so a report costs one round trip.

    Its parts share one snapshot; the reminder is therefore found, then locked
    (`target`, FOR UPDATE), and what the report changes is decided on the
    locked row: as it is when the worker recording the same message ID
    commits while this report waits. The report row waits for a concurrent
    copy of itself (the unique key); the reminder is changed and the events
    written only when the report was recorded. Returns no row for a replay.
    """
    nonce = (pg_insert(WebhookNonce).values(jti=P["jti"], expires_at=P["jti_expires_at"])
             .on_conflict_do_nothing().returning(WebhookNonce.jti).cte("nonce"))
    row = Reminder.__table__.alias("r")  # a short name keeps the statement short (see P)
    on_row = ClauseAdapter(row).traverse
    confirms, attaches = on_row(and_(*state.CONFIRMABLE)), on_row(and_(*state.ATTACHABLE))
    target = (select(row.c.id, row.c.practice_id, row.c.appointment_id, row.c.body, confirms.label("confirms"),
                     attaches.label("attaches"), on_row(_advances()).label("advances"))
              .where(row.c.id == _candidate(), on_row(_belongs(confirms, attaches))).with_for_update()
              .cte("rem"))
    recorded = (pg_insert(DeliveryReport).from_select(
        [*REPORT_COLUMNS, "reminder_id", "practice_id"],
        select(*[P[name] for name in REPORT_VALUES], target.c.id, target.c.practice_id)
        .select_from(nonce.outerjoin(target, true())),
    ).on_conflict_do_nothing()  # uq_delivery_reports_report: the same report again
        .returning(DeliveryReport.id, DeliveryReport.reminder_id).cte("rep"))
    applied = (update(Reminder)
               .where(Reminder.id == target.c.id, or_(target.c.advances, target.c.confirms, target.c.attaches),
                      exists(select(recorded.c.id)))
               .values(**_delivery_values(target.c.advances),
                       **state.by_report(P["message_id"], target.c.confirms, P["now"]))
               .cte("applied"))
    both = recorded.join(target, true())
    confirmed = state.confirmation(P["message_id"], target.c.body, P["confirmation_note"])
    timeline = insert(AppointmentEvent).from_select(
        ["appointment_id", "practice_id", "reminder_id", "at", "kind", "data"],
        union_all(  # in this order, as the timeline reads them
            select(target.c.appointment_id, target.c.practice_id, target.c.id, P["now"], literal(state.CONFIRMED),
                   _json_object(confirmed)).select_from(both).where(target.c.confirms),
            select(target.c.appointment_id, target.c.practice_id, target.c.id, P["now"], literal(DELIVERY_REPORT),
                   P["delivery_event"]).select_from(both),
        )).cte("timeline")
    return (select(recorded.c.id, recorded.c.reminder_id, target.c.confirms)
            .select_from(nonce.outerjoin(recorded, true()).outerjoin(target, true()))
            .add_cte(applied, timeline))


def _record_sqlite(parameters: dict, now: datetime) -> str:
    """The same in up to five statements: SQLite has no data-modifying CTEs.

    The first statement takes SQLite's one write lock, so what follows sees
    no concurrent writer and nothing needs locking.
    """
    nonce, target, report, reminder = _sqlite_statements()
    if db.session.execute(nonce, _bound(parameters)).first() is None:
        return "replay"
    found = db.session.execute(target, _bound(parameters)).first()
    recorded = db.session.execute(report, _bound({**parameters, "reminder_id": found and found.id})).first()
    if recorded is None:
        return "duplicate"
    if found is not None:
        db.session.execute(reminder, _bound({**parameters, "reminder_id": found.id}))
        confirmed = state.confirmation(parameters["message_id"], found.body, parameters["confirmation_note"])
        state.events(now, [*([(found, state.CONFIRMED, confirmed)] if found.confirms else []),
                           (found, DELIVERY_REPORT, parameters["delivery_event"])])
    return _outcome(recorded, found is not None and found.confirms)


@cache
def _sqlite_statements() -> tuple:
    """The nonce, the reminder found, the report, the reminder changed (SET expressions read the row as it was)."""
    confirms, attaches = and_(*state.CONFIRMABLE), and_(*state.ATTACHABLE)
    nonce = (sqlite_insert(WebhookNonce).values(jti=P["jti"], expires_at=P["jti_expires_at"])
             .on_conflict_do_nothing().returning(WebhookNonce.jti))
    target = (select(Reminder.id, Reminder.practice_id, Reminder.appointment_id, Reminder.body,
                     confirms.label("confirms"))
              .where(Reminder.id == _candidate(), _belongs(confirms, attaches)))
    practice = select(Reminder.practice_id).where(Reminder.id == P["reminder_id"]).scalar_subquery()
    report = (sqlite_insert(DeliveryReport)
              .values(**{column: P[name] for column, name in zip(REPORT_COLUMNS, REPORT_VALUES)},
                      reminder_id=P["reminder_id"], practice_id=practice)
              .on_conflict_do_nothing().returning(DeliveryReport.id, DeliveryReport.reminder_id))
    reminder = (update(Reminder).where(Reminder.id == P["reminder_id"], or_(_advances(), confirms, attaches))
                .values(**_delivery_values(_advances()),
                        **state.by_report(P["message_id"], confirms, P["now"])))
    return nonce, target, report, reminder


def _parameters(report, jti: str, jti_expires_at: datetime, now: datetime) -> dict:
    reference = report.reference or ""
    rank = DELIVERY_RANK.get(report.status)
    return {
        "jti": jti, "jti_expires_at": jti_expires_at, "now": now, "message_id": report.message_id,
        "reference": report.reference, "recipient": report.recipient, "status": report.status,
        "status_at": report.status_at, "status_reason": report.status_reason,
        "status_error_code": report.status_error_code, "details": report.details or None,
        # our reference is a reminder ID (too long for one: none)
        "reminder_ref": int(reference) if reference.isascii() and reference.isdigit() and len(reference) < 19
        else None,
        "rank": rank, "final": rank == FINAL_RANK, "delivered": report.status == "delivered",
        "delivery_event": report_event_data(report, report.message_id), "confirmation_note": state.REPORT_PROVES,
    }


def _bound(values: dict) -> dict:
    return {P[name].key: value for name, value in values.items()}


def _candidate():
    """The reminder's ID: by the provider's message ID, else our reference (a reminder ID)."""
    by_message = select(Reminder.id).where(Reminder.provider_message_id == P["message_id"]).scalar_subquery()
    return func.coalesce(by_message, P["reminder_ref"])


def _belongs(confirms, attaches):
    """Found by message ID; or by reference, a begun submission without one, to the report's number.

    A report found by reference proves the provider accepted that submission
    (`confirms` and `attaches`: state.CONFIRMABLE and state.ATTACHABLE).
    """
    same_number = or_(P["recipient"].is_(None),
                      func.ltrim(func.coalesce(Reminder.recipient, ""), "+") == P["recipient"])
    return or_(Reminder.provider_message_id == P["message_id"], and_(or_(confirms, attaches), same_number))


def _json_object(data: dict):
    """`data` (our keys, values bound or read from a row) as a PostgreSQL json value."""
    pairs = [(literal_column(f"'{key}'"), value) for key, value in data.items()]
    return func.json_build_object(*[part for pair in pairs for part in pair], type_=JSON)


def _outcome(recorded, confirms: bool) -> str:
    if recorded is None:
        return "replay"
    if recorded.id is None:
        return "duplicate"
    if recorded.reminder_id is None:
        return "orphan"
    if confirms:
        log.info("reminder %s: unknown outcome resolved by a status report", recorded.reminder_id)
    return "recorded"


def record_delivery(reminder, report, now: datetime) -> None:
    """A recorded report's status on its reminder, and a `delivery_report` event."""
    apply_delivery_status(reminder.id, report.status, report.status_at)
    state.events(now, [(reminder, DELIVERY_REPORT, report_event_data(report, reminder.provider_message_id))])


def _rank(column):
    """The provider's order of a delivery status, -1 for none we know.

    Our constants written into the SQL, not bound: it stays short enough for
    psycopg to keep the report's statement parsed (4,096 characters).
    """
    return case({literal_column(f"'{status}'"): literal_column(str(rank)) for status, rank in DELIVERY_RANK.items()},
                value=column, else_=literal_column("-1"))


def apply_delivery_status(reminder_id: int, status: str, status_at: datetime) -> bool:
    """Advance the reminder's delivery status by the provider's order, never back (`_advances`).

    Returns True when the status changed.
    """
    rank = DELIVERY_RANK.get(status)
    result = db.session.execute(_apply_statement(), _bound({
        "reminder_id": reminder_id, "status": status, "status_at": status_at, "rank": rank,
        "final": rank == FINAL_RANK, "delivered": status == "delivered",
    }))
    return result.rowcount == 1


@cache
def _apply_statement():
    return (update(Reminder).where(Reminder.id == P["reminder_id"], _advances())
            .values(**_delivery_values(true())).execution_options(synchronize_session=False))


def _advances():
    """Whether a report's status moves the reminder's on: a higher rank; among final ones a later report.

    A condition on the row, so reports arriving in any order and concurrently
    end in the same state. Written as one comparison of (rank, time) pairs,
    the time only compared among final statuses (else NULL: equal ranks do
    not move). No status yet ranks -1; a status we do not know has no rank
    (NULL) and moves nothing.
    """
    def at(time):
        return case((P["final"], time))

    return (tuple_(_rank(Reminder.delivery_status), at(Reminder.delivery_status_at))
            < tuple_(P["rank"], at(P["status_at"])))


def _delivery_values(advances) -> dict:
    """SET values that apply the report's delivery status where it `advances`, else keep the row's."""
    return {"delivery_status": case((advances, P["status"]), else_=Reminder.delivery_status),
            "delivery_status_at": case((advances, P["status_at"]), else_=Reminder.delivery_status_at),
            "delivered_at": case((and_(advances, P["delivered"]), P["status_at"]), else_=Reminder.delivered_at)}


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
