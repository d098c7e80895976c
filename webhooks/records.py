"""Recording a status report exactly once, and the reminder's delivery status from it."""
import logging

from sqlalchemy import null, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import DeliveryReport, WebhookNonce, utcnow
from portal.providers import Signature, StatusReport
from portal.sending.reports import record_delivery, reminder_for

log = logging.getLogger(__name__)


class Duplicate(Exception):
    """The signature's jti was used before: a replay."""


def record(report: StatusReport, signature: Signature) -> str:
    """Store the nonce and the report in one transaction: "recorded", "duplicate" or "orphan".

    :raise Duplicate: for a replayed jti (nothing is changed).
    """
    return once(signature, lambda: _record(report))


def once(signature: Signature, write):
    """Run `write` in one transaction with the signature's nonce, and commit; what `write` returned.

    A concurrent copy of the same request fails on a unique constraint: it is
    tried once more and then finds its work done.

    :raise Duplicate: for a replayed jti (nothing is changed).
    """
    for attempt in (1, 2):
        try:
            db.session.add(WebhookNonce(jti=signature.jti, expires_at=signature.expires_at))
            db.session.flush()  # a replay fails here, before anything else is written
            outcome = write()
            db.session.commit()
            return outcome
        except IntegrityError:
            db.session.rollback()
            if _nonce_used(signature.jti):
                raise Duplicate(signature.jti) from None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _record(report: StatusReport) -> str:
    existing = db.session.scalar(select(DeliveryReport.id).where(
        DeliveryReport.provider_message_id == report.message_id, DeliveryReport.status == report.status,
        DeliveryReport.status_at == report.status_at,
    ))
    if existing is not None:
        return "duplicate"
    reminder = reminder_for(report.message_id, report.reference, report.recipient, utcnow())
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
    record_delivery(reminder, row, utcnow())
    return "recorded"


def _nonce_used(jti: str) -> bool:
    return db.session.get(WebhookNonce, jti) is not None
