"""SMS figures per day (submitted = delivered + failed delivery + pending; refused and unknown apart) and the chart."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, or_, select

from ... import sending
from ...access import Principal, practice_condition
from ...extensions import db
from ...domain.verdict import OUTCOME_UNKNOWN, RETRIES_EXHAUSTED
from ...models import Practice, Reminder
from ...practices import licence_active

# Every submitted SMS is delivered, failed in delivery or still pending, counted by the day it was
# submitted, so submitted = delivered + delivery_failed + pending holds per day and in total.
# Refusals (never accepted) and unknown outcomes are no submissions: they stand apart, as in
# domain.verdict; a submission the provider never answered (retries exhausted) is neither.
SERIES = ("delivered", "delivery_failed", "pending", "refused", "outcome_unknown")
CHART_SERIES = ("submitted", "delivered", "delivery_failed")
FAILED_DELIVERY = ("delivery_failed", "expired")


@dataclass
class Day:
    day: date
    delivered: int = 0
    delivery_failed: int = 0
    pending: int = 0
    refused: int = 0
    outcome_unknown: int = 0

    @property
    def submitted(self) -> int:
        return self.delivered + self.delivery_failed + self.pending


def _since(days: int) -> datetime:
    start = date.today() - timedelta(days=days - 1)
    return datetime.combine(start, time.min, tzinfo=timezone.utc)


def _counts(principal: Principal, column, series: dict, *conditions, practice: Practice | None = None,
            by_practice: bool = False):
    """Rows of (day of `column` or practice_id, one count per series) of the reminders meeting `conditions`.

    Several series of the same column come from one pass over the index (`count() FILTER`);
    with a practice given, the other practices are never read.
    """
    key = Reminder.practice_id if by_practice else func.date(column)
    counts = [func.count().filter(condition).label(name) for name, condition in series.items()]
    statement = select(key, *counts).where(practice_condition(principal, Reminder.practice_id), *conditions)
    if practice is not None:
        statement = statement.where(Reminder.practice_id == practice.id)
    return db.session.execute(statement.group_by(key)).all()


def _queries(principal: Principal, since: datetime, **options) -> list:
    """(key, counts by series) rows: one query for submissions, three for failures."""
    # When the refusal happened; never updated_at, which purge and erasure bump years later.
    refused_at = func.coalesce(Reminder.submit_started_at, Reminder.claimed_at, Reminder.due_at)
    failed = Reminder.status == "failed"
    unknown = Reminder.provider_error_code == OUTCOME_UNKNOWN
    refused = {"refused": or_(Reminder.provider_error_code.is_(None),
                              Reminder.provider_error_code.not_in((OUTCOME_UNKNOWN, RETRIES_EXHAUSTED)))}
    submitted = {
        "delivered": Reminder.delivery_status == "delivered",
        "delivery_failed": Reminder.delivery_status.in_(FAILED_DELIVERY),
        "pending": or_(Reminder.delivery_status.is_(None),
                       Reminder.delivery_status.not_in(("delivered", *FAILED_DELIVERY))),
    }
    return [
        *_counts(principal, Reminder.submitted_at, submitted, Reminder.submitted_at >= since,
                 Reminder.status == "submitted", **options),
        # refused_at >= since as two ranges of ix_reminders_failures (an OR would read every failure)
        *_counts(principal, refused_at, refused, failed, Reminder.submit_started_at >= since, **options),
        *_counts(principal, refused_at, refused, failed, Reminder.submit_started_at.is_(None), refused_at >= since,
                 **options),
        *_counts(principal, Reminder.submit_started_at, {"outcome_unknown": unknown}, failed,
                 Reminder.submit_started_at >= since, **options),
    ]


def daily(principal: Principal, days: int, practice: Practice | None = None) -> list[Day]:
    """One entry per day of the last `days` days (UTC), in four queries."""
    since = _since(days)
    result = {since.date() + timedelta(days=offset): Day(since.date() + timedelta(days=offset)) for offset in range(days)}
    for row in _queries(principal, since, practice=practice):
        day = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0]))
        if day in result:
            _add(result[day], row)
    return list(result.values())


def per_practice(principal: Principal, days: int, practices: list,
                 practice: Practice | None = None) -> list[dict]:
    """Totals of the period per practice (rows with id, slug and name), only `practice`'s when one is chosen;
    four queries."""
    shown = [practice] if practice is not None else practices
    rows = {item.id: Day(date.today()) for item in shown}
    for row in _queries(principal, _since(days), practice=practice, by_practice=True):
        if row[0] in rows:
            _add(rows[row[0]], row)
    return [{"practice": item, "figures": rows[item.id]} for item in shown]


def _add(day: Day, row) -> None:
    for series, count in row._mapping.items():
        if series in SERIES:
            setattr(day, series, getattr(day, series) + count)


def chart(figures: list[Day], width: int = 900, height: int = 260) -> dict:
    """Polyline points of each series, scaled into the SVG's box, with axis labels."""
    left, bottom, top = 40, 24, 10
    peak = max([max(getattr(day, series) for series in CHART_SERIES) for day in figures] + [1])
    step = (width - left - 10) / max(len(figures) - 1, 1)

    def y(value: int) -> float:
        return round(height - bottom - (height - bottom - top) * value / peak, 1)

    def x(index: int) -> float:
        return round(left + index * step, 1)

    lines = {
        series: " ".join(f"{x(i)},{y(getattr(day, series))}" for i, day in enumerate(figures))
        for series in CHART_SERIES
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
