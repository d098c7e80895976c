"""Recording a webhook's content exactly once: a status report, or any write guarded by the signature's nonce."""
import logging

from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import WebhookNonce, utcnow
from portal.providers import Signature, StatusReport
from portal.sending.reports import record_report

log = logging.getLogger(__name__)


class Duplicate(Exception):
    """The signature's jti was used before: a replay."""


def record(report: StatusReport, signature: Signature) -> str:
    """Store the nonce and the report in one transaction: "recorded", "duplicate" or "orphan".

    :raise Duplicate: for a replayed jti (nothing is changed).
    """
    outcome = record_report(report, signature.jti, signature.expires_at, utcnow())
    if outcome == "replay":
        raise Duplicate(signature.jti)
    if outcome == "orphan":
        log.info("status report for unknown message %s kept as an orphan", report.message_id)
    return outcome


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
            if db.session.get(WebhookNonce, signature.jti) is not None:
                raise Duplicate(signature.jti) from None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
