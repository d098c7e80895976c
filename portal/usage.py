"""Daily SMS totals per practice: read from the folded days plus the changes not folded yet.

The database keeps them (migration 0010: triggers on reminders append to usage_deltas); `fold`
moves the appended changes into usage_days, every minute from the scheduler.
"""
from datetime import date

from sqlalchemy import case, delete, func, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite

from .access import Principal, practice_condition
from .extensions import db
from .models import USAGE_SERIES, UsageDay, UsageDelta
from .models.base import one_of


def totals(principal: Principal, since: date, practice_ids: list[int] | None = None, by: str | None = "day") -> dict:
    """{day, practice ID (by="practice_id") or None (by=None: the whole period): {series: count}} of what
    `principal` may see from `since` on (of `practice_ids` only, when given), in two queries."""
    result: dict = {}

    def add(key, series: str, count: int | None) -> None:
        figures = result.setdefault(key, dict.fromkeys(USAGE_SERIES, 0))
        figures[series] += count or 0

    days = UsageDay.__table__.c
    for row in db.session.execute(_scoped(select(*_key(days, by), *[func.sum(days[name]) for name in USAGE_SERIES]),
                                          days, principal, since, practice_ids, by)):
        for name, count in zip(USAGE_SERIES, row[1:]):
            add(row[0], name, count)
    deltas = UsageDelta.__table__.c
    for row in db.session.execute(_scoped(select(*_key(deltas, by), deltas.series, func.sum(deltas.delta)),
                                          deltas, principal, since, practice_ids, by).group_by(deltas.series)):
        add(row[0], row[1], row[2])
    return result


def _key(columns, by: str | None) -> list:
    return [columns[by] if by else literal(None)]


def _scoped(statement, columns, principal: Principal, since: date, practice_ids: list[int] | None, by: str | None):
    statement = statement.where(columns.day >= since, practice_condition(principal, columns.practice_id))
    if practice_ids is not None:
        statement = statement.where(one_of(columns.practice_id, practice_ids))
    return statement.group_by(columns[by]) if by else statement


def fold() -> None:
    """Move the changes appended so far into the daily totals (commits)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: what DELETE takes is exactly what it adds, whatever commits meanwhile.
        moved = delete(UsageDelta).returning(UsageDelta.practice_id, UsageDelta.day, UsageDelta.series,
                                             UsageDelta.delta).cte("moved")
        db.session.execute(_upsert(postgresql.insert(UsageDay), moved))
    else:
        # SQLite: the INSERT holds the write lock from its start, so no change arrives before the DELETE.
        db.session.execute(_upsert(sqlite.insert(UsageDay), UsageDelta.__table__, true()))
        db.session.execute(delete(UsageDelta))
    db.session.commit()


def _upsert(insert, changes, *conditions):
    sums = [func.sum(case((changes.c.series == name, changes.c.delta), else_=0)) for name in USAGE_SERIES]
    statement = insert.from_select(
        ["practice_id", "day", *USAGE_SERIES],
        select(changes.c.practice_id, changes.c.day, *sums).where(*conditions)
        .group_by(changes.c.practice_id, changes.c.day))
    return statement.on_conflict_do_update(
        index_elements=["practice_id", "day"],
        set_={name: UsageDay.__table__.c[name] + statement.excluded[name] for name in USAGE_SERIES})
