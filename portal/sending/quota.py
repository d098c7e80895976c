"""The monthly quota of a practice's licence: counted at submission, warned about from 80 %."""
import logging
import math
from datetime import datetime

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import AuditEntry, Practice, Reminder, utcnow
from ..practices import licence_in_force, local_now
from .state import OUTCOME_UNKNOWN

log = logging.getLogger(__name__)

QUOTA_WARNING_SHARE = 0.8


def month_start(practice: Practice, now: datetime) -> datetime:
    """The start of the practice's current calendar month (local time), as an aware datetime."""
    local = local_now(practice, now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def quota_usage(practice: Practice, now: datetime | None = None) -> tuple[int, int | None]:
    """(SMS used this month, monthly quota or None for unlimited) for the practice's licence.

    Counts reminders submitted, being submitted, or whose submission outcome is
    unknown, from the first of the practice's local month.
    """
    now = now or utcnow()
    licence = licence_in_force(practice, now)
    quota = licence.monthly_quota if licence is not None else None
    used = db.session.scalar(
        select(func.count(Reminder.id)).where(
            Reminder.practice_id == practice.id,
            Reminder.submit_started_at >= month_start(practice, now),
            or_(Reminder.status.in_(("submitted", "queued")), Reminder.provider_error_code == OUTCOME_UNKNOWN),
        )
    ) or 0
    return used, quota


def over_quota(practice: Practice, now: datetime) -> tuple[int, int] | None:
    """After a submission began: (used before it, quota) when it exceeds the quota, else None.

    Counts under a lock of the practice row, so concurrent workers cannot
    overshoot the quota; warns once a month from 80 %.
    """
    licence = licence_in_force(practice, now)
    if licence is None or licence.monthly_quota is None:
        return None  # no quota: nothing to count
    # one practice at a time past this point
    db.session.execute(select(Practice.id).where(Practice.id == practice.id).with_for_update())
    used, quota = quota_usage(practice, now)  # includes this reminder
    if used > quota:
        return used - 1, quota
    if quota_warning(used, quota):
        warn_quota(practice, used, quota, now)
    return None


def quota_warning(used: int, quota: int | None) -> bool:
    """Whether admins are warned: from 80 % of the quota; a quota of 0 sends nothing, so always."""
    if quota is None:
        return False
    return quota <= 0 or used >= math.ceil(quota * QUOTA_WARNING_SHARE)


def quota_warned(practice: Practice, now: datetime) -> bool:
    return db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.practice_id == practice.id, AuditEntry.action == "quota.warning",
                                    AuditEntry.at >= month_start(practice, now)).limit(1)
    ) is not None


def warn_quota(practice: Practice, used: int, quota: int, now: datetime) -> None:
    """Once a month from 80 %: a log line and an audit entry the portal shows to admins."""
    if quota_warned(practice, now):
        return
    log.warning("practice %s has used %d of its %d SMS this month", practice.slug, used, quota)
    db.session.add(AuditEntry(
        at=now, actor="system", action="quota.warning", object_type="Practice", object_key=practice.slug,
        group_id=practice.group_id, practice_id=practice.id,
        after={"used": used, "quota": quota, "month": local_now(practice, now).strftime("%Y-%m")},
    ))
