"""The vendor's view of the work queues: queues, workers, failed jobs with their error, retry."""
import redis
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ... import queue as queues
from ..common import roles_required
from .routes import bp


@bp.get("/queues")
@roles_required("vendor_admin")
def queue_overview():
    try:
        states, workers = queues.overview(queues.connection())
    except (redis.RedisError, OSError):
        flash(_("Redis cannot be reached: the queues cannot be shown."), "error")
        states, workers = [], []
    return render_template("admin/queues.html", queues=states, workers=workers, shown=queues.FAILED_SHOWN)


@bp.post("/queues/failed/<job_id>/retry")
@roles_required("vendor_admin")
def retry_job(job_id: str):
    """Put a failed job back on its queue.

    :raise 404: no failed job has that ID.
    """
    if not queues.retry_failed(job_id, queues.connection()):
        abort(404)
    flash(_("Job %(id)s is queued again.", id=job_id), "success")
    return redirect(url_for(".queue_overview"))
