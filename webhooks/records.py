"""Recording a status report exactly once, and the reminder's delivery status from it."""
import logging

from sqlalchemy import null, select, update
from sqlalchemy.exc import IntegrityError

from portal import sending
from portal.extensions import db
from portal.models import DeliveryReport, Reminder, WebhookNonce, utcnow

from .reports import Report
from .signature import Signature

log = logging.getLogger(__name__)


class Duplicate(Exception):
    """The signature's jti was used before: a replay."""


def record(report: Report, signature: Signature) -> str:
    """Store the nonce and the report in one transaction: "recorded", "duplicate" or "orphan".

    :raise Duplicate: for a replayed jti (nothing is changed).
    """
    for attempt in (1, 2):
        try:
            outcome = _record(report, signature)
            db.session.commit()
            return outcome
        except IntegrityError:
            db.session.rollback()
            if _nonce_used(signature.jti):
                raise Duplicate(signature.jti) from None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _record(report: Report, signature: Signature) -> str:
    db.session.add(WebhookNonce(jti=signature.jti, expires_at=signature.expires_at))
    db.session.flush()  # a replay fails here, before anything else is written
    existing = db.session.scalar(select(DeliveryReport.id).where(
        DeliveryReport.provider_message_id == report.message_id, DeliveryReport.status == report.status,
        DeliveryReport.status_at == report.status_at,
    ))
    if existing is not None:
        return "duplicate"
    reminder = _reminder_for(report)
    row = DeliveryReport(
        reminder_id=reminder.id if reminder else None, practice_id=reminder.practice_id if reminder else None,
        provider_message_id=report.message_id, reference=report.reference, recipient=report.recipient,
        status=report.status, status_at=report.status_at, status_reason=report.status_reason,
        status_error_code=report.status_error_code, details=report.details or null(),
    )
    db.session.add(row)
    db.session.flush()  # a concurrent copy of the same report fails here (unique constraint)
    if reminder is None:
        log.info("status report for unknown message %s kept as an orphan", report.message_id)
        return "orphan"
    sending.apply_delivery_status(reminder.id, report.status, report.status_at)
    sending.events(utcnow(), [(reminder, "delivery_report", sending.report_event_data(row, report.message_id))])
    return "recorded"


def _reminder_for(report: Report) -> Reminder | None:
    """The reminder by the provider's message ID; else by our reference, when it is still unconfirmed."""
    reminder = db.session.scalars(select(Reminder).where(Reminder.provider_message_id == report.message_id)).first()
    if reminder is not None or not (report.reference and report.reference.isdigit()):
        return reminder
    reminder = db.session.get(Reminder, int(report.reference))
    if reminder is None or reminder.provider_message_id is not None or reminder.submit_started_at is None:
        return None
    if report.recipient and (reminder.recipient or "").lstrip("+") != report.recipient:
        return None
    return _confirm(reminder, report)


def _confirm(reminder: Reminder, report: Report) -> Reminder | None:
    """A report proves the provider accepted a submission whose answer we never got."""
    unknown = reminder.status == "failed" and reminder.provider_error_code == sending.OUTCOME_UNKNOWN
    values = {"provider_message_id": report.message_id}
    if unknown:
        values.update(status="submitted", reason=None, provider_error_code=None, provider_error_text=None,
                      submitted_at=reminder.submit_started_at)
    result = db.session.execute(
        update(Reminder).where(Reminder.id == reminder.id, Reminder.provider_message_id.is_(None))
        .values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        # The worker recorded the provider's answer while this report waited for its row lock:
        # the report belongs to that reminder all the same.
        db.session.refresh(reminder)
        return reminder if reminder.provider_message_id == report.message_id else None
    db.session.refresh(reminder)
    if unknown:
        sending.events(utcnow(), [(reminder, "submission_confirmed", {
            "message_id": report.message_id, "text": reminder.body,
            "note": "the provider's status report shows that the submission with unknown outcome was accepted",
        })])
        log.info("reminder %s: unknown outcome resolved by a status report (message %s)",
                 reminder.id, report.message_id)
    return reminder


def _nonce_used(jti: str) -> bool:
    return db.session.get(WebhookNonce, jti) is not None
