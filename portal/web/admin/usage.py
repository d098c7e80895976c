"""SMS figures per day (submitted = delivered + failed delivery + pending; refused and unknown apart) and the chart."""
from dataclasses import dataclass
from datetime import date, timedelta

from ... import sending, usage
from ...access import Principal
from ...models import Practice
from ...practices import licence_active

# Every submitted SMS is delivered, failed in delivery or still pending, counted by the day it was
# submitted, so submitted = delivered + delivery_failed + pending holds per day and in total.
# Refusals (never accepted) and unknown outcomes are no submissions: they stand apart, as in
# domain.verdict; a submission the provider never answered (retries exhausted) is neither.
# The series are kept per practice and day by the database (portal.usage, migration 0010).
CHART_SERIES = ("submitted", "delivered", "delivery_failed")


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


def _since(days: int) -> date:
    return date.today() - timedelta(days=days - 1)


def daily(principal: Principal, days: int, practice: Practice | None = None) -> list[Day]:
    """One entry per day of the last `days` days (UTC), from the daily totals."""
    since = _since(days)
    result = {since + timedelta(days=offset): Day(since + timedelta(days=offset)) for offset in range(days)}
    chosen = [practice.id] if practice is not None else None
    for day, figures in usage.totals(principal, since, practice_ids=chosen).items():
        if day in result:
            _add(result[day], figures)
    return list(result.values())


def per_practice(principal: Principal, days: int, practices: list) -> list[dict]:
    """Totals of the period for each of `practices` (rows with id, slug and name): one page of a vendor's thousands."""
    rows = {item.id: Day(date.today()) for item in practices}
    for practice_id, figures in usage.totals(principal, _since(days), practice_ids=list(rows),
                                             by="practice_id").items():
        _add(rows[practice_id], figures)
    return [{"practice": item, "figures": rows[item.id]} for item in practices]


def total(principal: Principal, days: int, practice: Practice | None = None) -> Day:
    """The period's sum over every practice in view (or `practice`): the table's last row, whichever page
    of it is shown."""
    result = Day(date.today())
    for figures in usage.totals(principal, _since(days), practice_ids=[practice.id] if practice else None,
                                by=None).values():
        _add(result, figures)
    return result


def _add(day: Day, figures: dict) -> None:
    for series, count in figures.items():
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
