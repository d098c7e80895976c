"""The licence job: re-plan practices whose licence began or ended by date.

Granting, suspending or revoking a licence re-plans at once (the admin API
and portal do it); a licence that simply starts on its `valid_from` or ends
after its `valid_until` changes nothing in the database, so this job re-plans
those practices on the first local day it applies. It runs hourly, so it
catches local midnight in every time zone; re-planning is idempotent, so a
second run the same day (or two workers) change nothing.
"""
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import Licence, Practice, utcnow
from portal.planning import replan_practice
from portal.practices import local_today

from .context import app_context

log = logging.getLogger(__name__)


def replan_licence_changes(now: datetime | None = None) -> list[str]:
    """Re-plan each practice where a licence begins today or ended yesterday (its local days).

    Returns the slugs of the practices re-planned, and commits.
    """
    now = now or utcnow()
    utc_today = now.date()
    # Every local "today" on Earth is within a day of the UTC date.
    days = [utc_today + timedelta(days=n) for n in (-1, 0, 1)]
    candidates = db.session.scalars(
        select(Practice).where(Practice.id.in_(
            select(Licence.practice_id).where(or_(Licence.valid_from.in_(days),
                                                  Licence.valid_until.in_([d - timedelta(days=1) for d in days])))
        )).order_by(Practice.id)
    ).all()
    replanned = []
    for practice in candidates:
        today = local_today(practice, now)
        if any(licence.valid_from == today or licence.valid_until == today - timedelta(days=1)
               for licence in practice.licences):
            replan_practice(practice, now)
            db.session.commit()  # one practice at a time: short transactions
            replanned.append(practice.slug)
    if replanned:
        log.info("licences began or ended today: re-planned %s", ", ".join(replanned))
    return replanned


def periodic_licence_replan() -> list[str]:
    """RQ job, hourly."""
    from .schedule import schedule_next

    with app_context():
        try:
            return replan_licence_changes()
        finally:
            schedule_next("licences")
