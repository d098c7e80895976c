"""The monthly quota of a practice's licence: counted at submission, warned about from 80 %."""
import logging
import math
from datetime import datetime

from sqlalchemy import and_, func, or_, select

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
    return _used([practice], now).get(practice.id, 0), quota


def _used(practices: list[Practice], now: datetime) -> dict[int, int]:
    """SMS used this month per practice ID (practices with none are missing), in one query."""
    this_month = or_(*[
        and_(Reminder.practice_id == practice.id, Reminder.submit_started_at >= month_start(practice, now))
        for practice in practices
    ])
    return dict(db.session.execute(
        select(Reminder.practice_id, func.count(Reminder.id)).where(
            this_month,
            or_(Reminder.status.in_(("submitted", "queued")), Reminder.provider_error_code == OUTCOME_UNKNOWN),
        ).group_by(Reminder.practice_id)
    ).all())


def over_quota(begun: dict[Practice, list], now: datetime) -> dict[Practice, tuple[list, int, int]]:
    """After submissions began (per practice, in order): those the quota does not allow.

    Returns, for each practice over its quota, (the begun reminders beyond it,
    the SMS used without them, the quota). Counts under a lock of the practice
    rows (taken in ID order, so concurrent workers cannot deadlock), so
    concurrent workers cannot overshoot the quota; warns once a month from 80 %.
    """
    quotas = {}
    for practice in begun:
        licence = licence_in_force(practice, now)
        if licence is not None and licence.monthly_quota is not None:  # no quota: nothing to count
            quotas[practice] = licence.monthly_quota
    if not quotas:
        return {}
    # one send job at a time per practice past this point
    db.session.execute(select(Practice.id).where(Practice.id.in_([p.id for p in quotas]))
                       .order_by(Practice.id).with_for_update())
    used = _used(list(quotas), now)  # includes the reminders just begun
    exceeded = {}
    for practice, quota in quotas.items():
        count, reminders = used.get(practice.id, 0), begun[practice]
        allowed = max(0, min(len(reminders), quota - (count - len(reminders))))
        if allowed < len(reminders):
            count -= len(reminders) - allowed
            exceeded[practice] = (reminders[allowed:], count, quota)
        if allowed and quota_warning(count, quota):
            warn_quota(practice, count, quota, now)
    return exceeded


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
