"""`GET|POST /webhooks/messagebird/status`: verify, read, record; answer quickly."""
import logging

from flask import Blueprint, jsonify, request

from portal import metrics
from portal.providers import ReportRefused, ReportUnreadable

from .records import Duplicate, record
from .reports import read_report
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


def _answer(status: int, result: str, detail: str | None = None):
    metrics.DELIVERY_REPORTS.labels(result).inc()
    body = {"result": result}
    if detail:
        body["detail"] = detail
    return jsonify(body), status
