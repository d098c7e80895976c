"""Recording a status report exactly once, and the reminder's delivery status from it."""
import logging

from portal.models import utcnow
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
