"""The reminder's state machine once the sender has it: the one writer of its status.

    planned --claim--> queued --begin--> (submitting) --> submitted | failed | skipped
                         |                                   ^
                         +--take back--> cancelled | skipped |
                         +--retry later--> queued (unclaimed, next_attempt_at)
    failed (outcome_unknown) --confirm--> submitted
    failed (outcome_unknown) --resend (once, provably absent at the provider)--> queued

Every step is a conditional UPDATE (`WHERE status = ... AND claim_token =
...`) whose row count says whether the caller still owns the reminder, so
any number of dispatchers, workers, planners and webhook requests can race:
exactly one wins each step. Each step writes its timeline event here too.
The send job takes the steps of a whole batch at once (`begin_many`,
`submitted_many`): the same conditions, one UPDATE whose returned IDs say
which reminders the caller still owns (see `_set_many`).

When the outcome is not known
-----------------------------
`submit_started_at` is committed before the provider is called. If the call
ends without a known outcome (a read timeout after the request was sent, a
504, a dropped connection, or the worker dying between that commit and
recording the answer) the provider may have accepted the SMS. We do **not**
send it again: a second SMS for one appointment is exactly the incumbent's
"reminders sent twice" complaint. Instead the reminder is marked

    status failed, reason provider_error, provider_error_code "outcome_unknown"

with an `outcome_unknown` event in the appointment's timeline. The provider
sends status reports for every accepted message with our reminder ID as
`reference`; when such a report arrives, the statement that records it
settles the reminder as `submitted` (`CONFIRMABLE`, `by_report`; timeline:
`submission_confirmed`), or only attaches the message ID while the call is
still in flight (`ATTACHABLE`). These reminders count against the monthly quota
(they may have cost an SMS).
"""
import functools
import json
import logging
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import ARRAY, JSON, Text, and_, bindparam, case, cast, column, func, insert, or_, select, update

from ..domain.phones import mask_phone
from ..domain.verdict import OUTCOME_UNKNOWN
from ..extensions import db
from ..models import AppointmentEvent, Reminder, utcnow

log = logging.getLogger(__name__)

ANY_CLAIM = object()  # planning may take back a reminder whoever claimed it

NOT_BEGUN = (Reminder.status == "queued", Reminder.submit_started_at.is_(None))
IN_FLIGHT = (Reminder.status == "queued", Reminder.submit_started_at.is_not(None), Reminder.submitted_at.is_(None))
UNKNOWN = (Reminder.status == "failed", Reminder.provider_error_code == OUTCOME_UNKNOWN)
SUBMISSION = (Reminder.id, Reminder.appointment_id, Reminder.practice_id, Reminder.body, Reminder.recipient,
              Reminder.sender, Reminder.encoding, Reminder.segments, Reminder.provider_message_id)


# --- the dispatcher -----------------------------------------------------------------

def claim(candidate_ids: list[int], claimable, token: str, now: datetime) -> None:
    """planned (or stale, or waiting for a retry) -> queued, owned by `token`."""
    db.session.execute(
        update(Reminder).where(Reminder.id.in_(candidate_ids), claimable)
        .values(status="queued", claim_token=token, claimed_at=now, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )


def mark_lost(row, now: datetime, stuck) -> bool:
    """A submission begun by a worker that never came back: outcome unknown, not resent."""
    done = _set(row.id, row.claim_token, [*stuck, Reminder.provider_message_id.is_(None)],
                **_unknown_values("the worker stopped after the submission began; it may have been sent"))
    if done:
        events(now, [(row, OUTCOME_UNKNOWN, {"error": "worker stopped during the provider call", "resent": False})])
    return done


# --- before the provider is called ----------------------------------------------------

def take_back(reminder, status: str, reason: str, now: datetime, token=ANY_CLAIM, data: dict | None = None) -> bool:
    """A claimed reminder whose submission has not begun: cancelled or skipped after all.

    Loses against a send job that began the submission first, so a
    cancellation is final at once. `data` None: the caller writes its own event.
    """
    done = _set(reminder.id, token, list(NOT_BEGUN), status=status, reason=reason, claim_token=None,
                next_attempt_at=None)
    if done and data is not None:
        events(now, [(reminder, "reminder_cancelled" if status == "cancelled" else "skipped", data)])
    return done


def begin_many(items, token: str, now: datetime) -> set[int]:
    """queued -> submitting for (reminder, composed) pairs, in one statement; the IDs that began.

    Writes the text as it will be submitted, and `submit_started_at`.
    """
    rows = [{"id": reminder.id, "body": composed.body, "recipient": composed.recipient, "sender": composed.sender,
             "encoding": composed.encoding, "segments": composed.segments} for reminder, composed in items]
    return _set_many(token, rows, lambda row: NOT_BEGUN, lambda row: {
        "submit_started_at": now, "attempts": Reminder.attempts + 1, "body": row.body, "recipient": row.recipient,
        "sender": row.sender, "encoding": row.encoding, "segments": row.segments, "provider_error_code": None,
        "provider_error_text": None,
    })


def skip_over_quota(reminder, token: str, now: datetime, used: int, quota: int) -> None:
    """Undo a begun submission that the quota does not allow: nothing was sent."""
    _set(reminder.id, token, [], status="skipped", reason="quota_exceeded", claim_token=None,
         submit_started_at=None, body=None, recipient=None, sender=None, encoding=None, segments=None)
    events(now, [(reminder, "skipped", {"reason": "quota_exceeded", "at_send": True, "used": used,
                                        "quota": quota})])


# --- the provider's answer ------------------------------------------------------------

def submitted_many(accepted, token: str, now: datetime) -> list:
    """submitting -> submitted for (reminder ID, message ID) pairs, in one statement.

    A report may have brought the message ID first; the sweep may have marked
    it unknown meanwhile (the answer settles it). Returns the submissions as
    stored that the caller still owned; one confirmed meanwhile is not written again.
    """
    rows = [{"id": reminder_id, "provider_message_id": message_id} for reminder_id, message_id in accepted]
    stored = _set_many(token, rows, lambda row: [
        or_(Reminder.status == "queued", and_(*UNKNOWN)),
        or_(Reminder.provider_message_id.is_(None), Reminder.provider_message_id == row.provider_message_id),
    ], lambda row: {
        "status": "submitted", "reason": None, "submitted_at": now, "provider_message_id": row.provider_message_id,
        "provider_error_code": None, "provider_error_text": None, "next_attempt_at": None,
    }, returning=SUBMISSION)
    events(now, [(row, "submitted", {
        "text": row.body, "recipient": _masked(row.recipient), "sender": row.sender,
        "encoding": row.encoding, "segments": row.segments, "message_id": row.provider_message_id,
    }) for row in stored])
    return stored


def failed(reminder, token: str, code: str, text: str, now: datetime) -> bool:
    """The provider refused the SMS for good."""
    done = _set(reminder.id, token, [Reminder.status == "queued"], status="failed", reason="provider_error",
                provider_error_code=str(code)[:20], provider_error_text=(text or "")[:500],
                claim_token=None, next_attempt_at=None)
    if done:
        events(now, [(reminder, "failed", {"code": str(code), "text": text})])
    return done


def unknown(reminder, token: str, error: str, now: datetime) -> bool:
    """The call may have reached the provider: outcome unknown, not resent.

    Refused when a status report already named the reminder: it was accepted.
    """
    done = _set(reminder.id, token, [Reminder.status == "queued", Reminder.submitted_at.is_(None),
                                     Reminder.provider_message_id.is_(None)], **_unknown_values(error))
    if done:
        events(now, [(reminder, OUTCOME_UNKNOWN, {"error": error, "resent": False})])
    return done


def retry_later(reminder, token: str, error: str, attempt: int, next_at: datetime, now: datetime) -> bool:
    """A transient failure before the provider took the SMS: unclaimed until `next_at`."""
    done = _set(reminder.id, token, [Reminder.status == "queued"], claim_token=None, claimed_at=None,
                submit_started_at=None, next_attempt_at=next_at, provider_error_code="transient",
                provider_error_text=error[:500])
    if done:
        events(now, [(reminder, "send_retry", {"error": error, "attempt": attempt,
                                                "next_attempt_at": next_at.isoformat()})])
    return done


# --- the provider's word after the fact -------------------------------------------------

# A status report names its reminder by our reference before the message ID is known to us:
# while the call is in flight the ID is only attached (the send job or the sweep settles it);
# an unknown outcome is confirmed at once. `portal.sending.reports` applies both in the
# statement that records the report, with `by_report`.
ATTACHABLE = (*IN_FLIGHT, Reminder.provider_message_id.is_(None))
CONFIRMABLE = (*UNKNOWN, Reminder.submit_started_at.is_not(None), Reminder.provider_message_id.is_(None))


def by_report(message_id: str, confirms, now: datetime) -> dict:
    """What a status report writes on its reminder, as SET values of an UPDATE of that row.

    `confirms` says whether it is confirmed: CONFIRMABLE as evaluated on the
    locked row. The reminder either has this message ID already or gets it
    (ATTACHABLE, or found by it).
    """
    def confirmed(value, column):
        return case((confirms, value), else_=column)

    return dict(provider_message_id=message_id, status=confirmed("submitted", Reminder.status),
                reason=confirmed(None, Reminder.reason),
                provider_error_code=confirmed(None, Reminder.provider_error_code),
                provider_error_text=confirmed(None, Reminder.provider_error_text),
                submitted_at=confirmed(Reminder.submit_started_at, Reminder.submitted_at), updated_at=now)


CONFIRMED = "submission_confirmed"  # the timeline event of a confirmation


def confirmation(message_id: str, text, note: str) -> dict:
    """The CONFIRMED event's data (`text` may be a column: see reports.py)."""
    return {"message_id": message_id, "text": text, "note": note}


REPORT_PROVES = "the provider's status report shows that the submission with unknown outcome was accepted"
LIST_PROVES = "the provider's message list shows that the submission with unknown outcome was accepted"


def confirm(reminder_id: int, message_id: str, now: datetime, *conditions, note: str = REPORT_PROVES) -> bool:
    """The provider accepted a submission whose answer we never got: submitted after all.

    With `by_report` (a status report proves it for a reminder marked unknown,
    in the statement that records the report) the one place an unknown outcome
    is settled: here the provider's message list proves it, or the sweep finds
    a lost submission to which a report had attached its message ID.
    """
    settles = or_(and_(*CONFIRMABLE), and_(*IN_FLIGHT, Reminder.provider_message_id == message_id))
    done = _set(reminder_id, ANY_CLAIM, [settles, *conditions], status="submitted", reason=None,
                provider_message_id=message_id, provider_error_code=None, provider_error_text=None,
                submitted_at=Reminder.submit_started_at)
    if done:
        row = _submission(reminder_id)
        events(now, [(row, CONFIRMED, confirmation(message_id, row.body, note))])
        log.info("reminder %s: unknown outcome resolved (message %s)", reminder_id, message_id)
    return done


def ask_again(row, next_at: datetime, now: datetime, data: dict) -> bool:
    """An unknown outcome the provider could not settle now: asked again at `next_at`."""
    done = _set(row.id, ANY_CLAIM, [*UNKNOWN, Reminder.provider_message_id.is_(None)], next_attempt_at=next_at)
    if done:
        events(now, [(row, "outcome_check", {**data, "next_check_at": next_at.isoformat()})])
    return done


def resend(row, now: datetime) -> bool:
    """An unknown outcome the provider proves it never got: back to the dispatcher, due now."""
    done = _set(row.id, ANY_CLAIM, [*UNKNOWN, Reminder.provider_message_id.is_(None)], status="queued",
                reason=None, claim_token=None, claimed_at=None, submit_started_at=None, next_attempt_at=now,
                provider_error_code=None, provider_error_text=None)
    if done:
        events(now, [(row, "outcome_resent", {"note": "the provider's message list shows it never got the SMS"})])
    return done


# --- helpers -----------------------------------------------------------------------

def events(now: datetime, items) -> None:
    """Timeline entries for (reminder-like row, kind, data) triples, in one INSERT."""
    insert_events(now, [
        {"appointment_id": row.appointment_id, "practice_id": row.practice_id, "reminder_id": row.id,
         "kind": kind, "data": data, "change_source": None}
        for row, kind, data in items
    ])


def insert_events(now: datetime, rows: list[dict]) -> None:
    """Timeline entries at `now`, each a dict of EVENT_COLUMNS, in one INSERT (the writer planning uses too)."""
    if not rows:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(insert(AppointmentEvent), [{**row, "at": now} for row in rows])
        return
    # One statement from one array per column: a batch's thousand events are one round trip, not
    # a thousand executions of the same INSERT, and the statement's text is the same for any batch.
    arrays = {f"event_{name}": [row[name] for row in rows] for name in EVENT_COLUMNS}
    arrays["event_data"] = [json.dumps(data) for data in arrays["event_data"]]
    db.session.execute(_events_from_arrays(), {**arrays, "event_at": now})


EVENT_COLUMNS = ("appointment_id", "practice_id", "reminder_id", "kind", "data", "change_source")


@functools.cache
def _events_from_arrays():
    table = AppointmentEvent.__table__
    kinds = {name: Text() if name == "data" else table.c[name].type for name in EVENT_COLUMNS}
    batch = func.unnest(*[
        bindparam(f"event_{name}", type_=ARRAY(kind)) for name, kind in kinds.items()
    ]).table_valued(*[column(name, kind) for name, kind in kinds.items()]).render_derived(name="batch")
    values = select(batch.c.appointment_id, batch.c.practice_id, batch.c.reminder_id,
                    bindparam("event_at", type_=table.c.at.type), batch.c.kind, cast(batch.c.data, JSON),
                    batch.c.change_source)
    return insert(table).from_select(
        ["appointment_id", "practice_id", "reminder_id", "at", "kind", "data", "change_source"], values)


def _set(reminder_id: int, token, conditions: list, **values) -> bool:
    """Conditional UPDATE of one reminder still claimed with `token`; True if it applied."""
    if token is ANY_CLAIM:
        ownership = []
    else:
        ownership = [Reminder.claim_token == token if token else Reminder.claim_token.is_(None)]
    result = db.session.execute(
        update(Reminder).where(Reminder.id == reminder_id, *ownership, *conditions)
        .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _set_many(token: str, rows: list[dict], conditions, assignments, returning=None):
    """Conditional UPDATEs of many reminders claimed with `token`, each with values of its own.

    `rows` are dicts with "id" and the reminder columns the values come from;
    `conditions(row)` and `assignments(row)` see them as attributes. PostgreSQL
    takes them in one `UPDATE ... FROM unnest(arrays) RETURNING id` (one
    array per column: the statement is the same for any batch, so it is
    compiled once); other databases one conditional UPDATE per row (SQLite
    runs in-process, and a writer has the database to itself). Returns the
    IDs that applied, or with `returning` (columns) those columns of them.
    """
    if not rows:
        return set() if returning is None else []
    if db.session.get_bind().dialect.name != "postgresql":
        done = {row["id"] for row in rows
                if _set(row["id"], token, list(conditions(SimpleNamespace(**row))),
                        **assignments(SimpleNamespace(**row)))}
        if returning is None or not done:
            return done if returning is None else []
        return db.session.execute(select(*returning).where(Reminder.id.in_(done)).order_by(Reminder.id)).all()
    types = {name: Reminder.__table__.c[name].type for name in rows[0]}
    batch = func.unnest(*[
        bindparam(f"batch_{name}", [row[name] for row in rows], type_=ARRAY(kind)) for name, kind in types.items()
    ]).table_valued(*[column(name, kind) for name, kind in types.items()]).render_derived(name="batch")
    done = db.session.execute(
        update(Reminder).where(Reminder.id == batch.c.id, Reminder.claim_token == token, *conditions(batch.c))
        .values(updated_at=utcnow(), **assignments(batch.c)).returning(*(returning or [Reminder.id]))
        .execution_options(synchronize_session=False)
    )
    return {row.id for row in done} if returning is None else done.all()


def _submission(reminder_id: int):
    return db.session.execute(select(*SUBMISSION).where(Reminder.id == reminder_id)).one()


def _unknown_values(error: str) -> dict:
    return dict(status="failed", reason="provider_error", provider_error_code=OUTCOME_UNKNOWN,
                provider_error_text=(f"No answer from the provider ({error}); it may have been sent. "
                                     "Not resent automatically.")[:500],
                next_attempt_at=None)


def _masked(number: str | None) -> str | None:
    return mask_phone(number) if number else None
