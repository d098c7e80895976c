"""SMS figures per day (submitted, delivered, failed) and the chart drawn as inline SVG."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, or_, select

from ... import sending
from ...access import Principal, practice_condition
from ...extensions import db
from ...models import Practice, Reminder
from ...practices import licence_active

SERIES = ("submitted", "delivered", "failed")
FAILED_DELIVERY = ("delivery_failed", "expired")


@dataclass
class Day:
    day: date
    submitted: int = 0
    delivered: int = 0
    failed: int = 0


def _since(days: int) -> datetime:
    start = date.today() - timedelta(days=days - 1)
    return datetime.combine(start, time.min, tzinfo=timezone.utc)


def _counts(principal: Principal, column, since: datetime, *conditions, practice: Practice | None = None,
            by_practice: bool = False):
    """Rows of (day or practice_id, count) for reminders whose `column` lies after `since`."""
    key = Reminder.practice_id if by_practice else func.date(column)
    statement = select(key, func.count()).where(
        column >= since, practice_condition(principal, Reminder.practice_id), *conditions
    )
    if practice is not None:
        statement = statement.where(Reminder.practice_id == practice.id)
    return db.session.execute(statement.group_by(key)).all()


def _queries(principal: Principal, since: datetime, **options):
    # When the failure happened; never updated_at, which purge and erasure bump years later.
    failed_at = func.coalesce(Reminder.delivery_status_at, Reminder.submit_started_at, Reminder.claimed_at,
                              Reminder.due_at)
    return {
        "submitted": _counts(principal, Reminder.submitted_at, since, **options),
        "delivered": _counts(principal, Reminder.delivered_at, since, Reminder.delivery_status == "delivered",
                             **options),
        "failed": _counts(principal, failed_at, since, or_(Reminder.status == "failed",
                                                           Reminder.delivery_status.in_(FAILED_DELIVERY)), **options),
    }


def daily(principal: Principal, days: int, practice: Practice | None = None) -> list[Day]:
    """One entry per day of the last `days` days (UTC), in three queries."""
    since = _since(days)
    result = {since.date() + timedelta(days=offset): Day(since.date() + timedelta(days=offset)) for offset in range(days)}
    for series, rows in _queries(principal, since, practice=practice).items():
        for day, count in rows:
            day = day if isinstance(day, date) else date.fromisoformat(str(day))
            if day in result:
                setattr(result[day], series, count)
    return list(result.values())


def per_practice(principal: Principal, days: int, practices: list[Practice]) -> list[dict]:
    """Totals of the period per practice, in three queries."""
    rows = {practice.id: {"practice": practice, **dict.fromkeys(SERIES, 0)} for practice in practices}
    for series, counts in _queries(principal, _since(days), by_practice=True).items():
        for practice_id, count in counts:
            if practice_id in rows:
                rows[practice_id][series] = count
    return list(rows.values())


def chart(figures: list[Day], width: int = 900, height: int = 260) -> dict:
    """Polyline points of each series, scaled into the SVG's box, with axis labels."""
    left, bottom, top = 40, 24, 10
    peak = max([max(day.submitted, day.delivered, day.failed) for day in figures] + [1])
    step = (width - left - 10) / max(len(figures) - 1, 1)

    def y(value: int) -> float:
        return round(height - bottom - (height - bottom - top) * value / peak, 1)

    def x(index: int) -> float:
        return round(left + index * step, 1)

    lines = {
        series: " ".join(f"{x(i)},{y(getattr(day, series))}" for i, day in enumerate(figures))
        for series in SERIES
    }
    every = max(len(figures) // 10, 1)
    labels = [(x(i), day.day.strftime("%d.%m.")) for i, day in enumerate(figures) if i % every == 0]
    ticks = [(y(value), value) for value in sorted({0, peak // 2, peak})]
    return {"width": width, "height": height, "lines": lines, "labels": labels, "ticks": ticks,
            "left": left, "baseline": height - bottom,
            "points": [(x(i), day) for i, day in enumerate(figures)], "y": y}


def quota_usage(practice: Practice) -> dict:
    """SMS used this month against the quota and how to say it.

    state: no_licence (nothing is sent, so no "0 of ∞"), unlimited, reached (100 %:
    nothing more is sent), warn (from 80 %) or ok.
    """
    used, quota = sending.quota_usage(practice)
    if not licence_active(practice):
        state = "no_licence"
    elif quota is None:
        state = "unlimited"
    elif used >= quota:
        state = "reached"
    else:
        state = "warn" if sending.quota_warning(used, quota) else "ok"
    return {"used": used, "quota": quota, "warn": state in ("warn", "reached"), "state": state}
