"""`GET|POST /webhooks/messagebird/status` and `.../inbound`: verify, read, record; answer quickly."""
import logging

from flask import Blueprint, jsonify, request
from redis.exceptions import RedisError

from portal import metrics, replies
from portal.models import utcnow
from portal.providers import ReportRefused, ReportUnreadable
from portal.queue import queue

from .records import Duplicate, once, record
from .reports import read_inbound, read_report
from .signature import verify

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.route("/messagebird/status", methods=["GET", "POST"])
def messagebird_status():
    """One status report.

    :raise 401: missing, invalid or expired signature, or a replayed one.
    :raise 400: a report that cannot be read.
    """
    try:
        signature = verify(request)
    except ReportRefused as exc:
        log.warning("status report refused: %s", exc)
        return _answer(401, "refused", str(exc))
    try:
        report = read_report(request)
    except ReportUnreadable as exc:
        log.warning("unreadable status report: %s", exc)
        return _answer(400, "unreadable", str(exc))
    try:
        outcome = record(report, signature)
    except Duplicate:
        log.warning("replayed status report refused (jti %s)", signature.jti)
        return _answer(401, "refused", "replayed signature")
    return _answer(200, outcome)


@bp.route("/messagebird/inbound", methods=["GET", "POST"])
def messagebird_inbound():
    """One SMS a patient sent to the reply number, recorded once and applied (see portal.replies).

    :raise 401: missing, invalid or expired signature, or a replayed one.
    :raise 400: an SMS that cannot be read.
    """
    try:
        signature = verify(request)
    except ReportRefused as exc:
        log.warning("inbound SMS refused: %s", exc)
        return _answer(401, "refused", str(exc), metrics.INBOUND_SMS)
    try:
        sms = read_inbound(request)
    except ReportUnreadable as exc:
        log.warning("unreadable inbound SMS: %s", exc)
        return _answer(400, "unreadable", str(exc), metrics.INBOUND_SMS)
    try:
        recorded = once(signature, lambda: replies.record_inbound(sms, utcnow()))
    except Duplicate:
        log.warning("replayed inbound SMS refused (jti %s)", signature.jti)
        return _answer(401, "refused", "replayed signature", metrics.INBOUND_SMS)
    log.info("inbound SMS %s: %s", sms.message_id, recorded.outcome)
    _enqueue_confirmations(recorded.confirmations)
    return _answer(200, recorded.outcome, counter=metrics.INBOUND_SMS)


def _enqueue_confirmations(reply_ids: list[int]) -> None:
    """The STOP confirmations, one job each; lost with Redis, found again by the dispatcher (still pending)."""
    try:
        for reply_id in reply_ids:
            queue("send").enqueue("jobs.replies.send_stop_confirmation", reply_id,
                                  job_id=f"stop-confirmation-{reply_id}")
    except RedisError:
        log.warning("STOP confirmations %s not enqueued: Redis unavailable; the dispatcher sends them", reply_ids)


def _answer(status: int, result: str, detail: str | None = None, counter=metrics.DELIVERY_REPORTS):
    counter.labels(result).inc()
    body = {"result": result}
    if detail:
        body["detail"] = detail
    return jsonify(body), status
