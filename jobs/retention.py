"""The retention job: purge message texts and delivery details after RETENTION_DAYS.

Counts stay: the rows remain with their statuses and times; only the text,
the recipient and the provider's extra report fields go (and the text copied
into the timeline's `submitted` events). Patients' replies alike: their texts
and the numbers they came from (`portal.replies.purge_texts`), and the text
in the timeline's `reply` events.
"""
import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import null, or_, select, update

from portal import replies
from portal.extensions import db
from portal.models import AppointmentEvent, DeliveryReport, Reminder, WebhookNonce, utcnow

from .context import app_context

log = logging.getLogger(__name__)
BATCH = 1000
# timeline entries that copy a message text
TEXT_EVENTS = ("submitted", "submission_confirmed", "reply", "reply_answered")


def purge(now: datetime | None = None) -> dict:
    """Purge what is older than the retention period; returns counts per kind."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config.get("RETENTION_DAYS", 90))
    reminders = db.session.execute(
        update(Reminder).where(Reminder.purged_at.is_(None), Reminder.submit_started_at < cutoff)
        .values(body=None, recipient=None, purged_at=now).execution_options(synchronize_session=False)
    ).rowcount
    # The recipient is a phone number: it goes with the details. Filtered by age, not by
    # `details IS NOT NULL`: a report without details still holds the number.
    reports = db.session.execute(
        update(DeliveryReport).where(DeliveryReport.received_at < cutoff,
                                     or_(DeliveryReport.details.is_not(None), DeliveryReport.recipient.is_not(None)))
        .values(details=null(), recipient=None).execution_options(synchronize_session=False)
    ).rowcount
    answers = replies.purge_texts(cutoff, now)
    events = _purge_event_texts(cutoff)
    nonces = db.session.execute(
        WebhookNonce.__table__.delete().where(WebhookNonce.expires_at < now)
    ).rowcount
    db.session.commit()
    counts = {"reminders": reminders, "delivery_reports": reports, "events": events, "nonces": nonces, **answers}
    log.info("retention (%d days): purged %s", current_app.config.get("RETENTION_DAYS", 90), counts)
    return counts


def _purge_event_texts(cutoff: datetime) -> int:
    """Remove the text and recipient from old timeline entries that hold them (JSON, so row by row)."""
    purged = 0
    last_id = 0
    while True:
        events = db.session.scalars(
            select(AppointmentEvent).where(AppointmentEvent.kind.in_(TEXT_EVENTS), AppointmentEvent.at < cutoff,
                                           AppointmentEvent.id > last_id)
            .order_by(AppointmentEvent.id).limit(BATCH)
        ).all()
        if not events:
            return purged
        for event in events:
            if event.data and (event.data.get("text") or event.data.get("recipient")):
                event.data = {**event.data, "text": None, "recipient": None, "purged": True}
                purged += 1
        last_id = events[-1].id
        db.session.flush()


def periodic_retention() -> dict:
    """RQ job, daily."""
    from .schedule import schedule_next

    with app_context():
        try:
            return purge()
        finally:
            schedule_next("retention")
