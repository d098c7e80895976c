"""The daily usage totals kept by the database agree with a count of the reminders, whatever changes them."""
import random
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, update

from portal import usage
from portal.access import Principal
from portal.extensions import db
from portal.models import Reminder, UsageDay, UsageDelta

TODAY = datetime.combine(date.today(), time(12), tzinfo=timezone.utc)
CODES = (None, "outcome_unknown", "retries_exhausted", "invalid_recipient")
DELIVERY = (None, "sent", "buffered", "delivered", "delivery_failed", "expired")


def expected(reminders: list[Reminder], since: date) -> dict:
    """The usage page's rule, counted row by row: {(practice ID, day): Counter of series}."""
    counts: dict = {}
    for reminder in reminders:
        series, moment = _series(reminder)
        if series and moment.date() >= since:
            counts.setdefault((reminder.practice_id, moment.date()), Counter())[series] += 1
    return counts


def _series(reminder: Reminder) -> tuple[str | None, datetime | None]:
    if reminder.status == "submitted" and reminder.submitted_at is not None:
        delivery = {"delivered": "delivered", "delivery_failed": "delivery_failed", "expired": "delivery_failed"}
        return delivery.get(reminder.delivery_status, "pending"), reminder.submitted_at
    if reminder.status != "failed" or reminder.provider_error_code == "retries_exhausted":
        return None, None
    if reminder.provider_error_code == "outcome_unknown":
        return ("outcome_unknown" if reminder.submit_started_at else None), reminder.submit_started_at
    return "refused", reminder.submit_started_at or reminder.claimed_at or reminder.due_at


def shown(principal: Principal, since: date, practices) -> dict:
    counts = {}
    for practice in practices:
        for day, figures in usage.totals(principal, since, practice_ids=[practice.id]).items():
            nonzero = Counter({series: count for series, count in figures.items() if count})
            if nonzero:
                counts[(practice.id, day)] = nonzero
    return counts


def _change(rng: random.Random, reminder: Reminder) -> dict:
    """A random next state: submitted (some day of the last week, any delivery status), failed, queued."""
    moment = TODAY - timedelta(days=rng.randrange(7), minutes=rng.randrange(600))
    kind = rng.choice(("submitted", "submitted", "failed", "queued", "delivery"))
    if kind == "delivery" and reminder.status == "submitted":
        return {"delivery_status": rng.choice(DELIVERY)}
    if kind == "submitted":
        return {"status": "submitted", "submit_started_at": moment, "submitted_at": moment,
                "delivery_status": rng.choice(DELIVERY), "provider_error_code": None}
    if kind == "failed":
        return {"status": "failed", "provider_error_code": rng.choice(CODES), "submitted_at": None,
                "submit_started_at": rng.choice((moment, None)), "claimed_at": rng.choice((moment, None))}
    return {"status": "queued", "submitted_at": None, "submit_started_at": None, "provider_error_code": None}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_totals_follow_every_change_and_survive_folding(make, tenants, seed):
    """Single rows through the ORM, many rows in one UPDATE, folds in between: the page's figures
    always equal a count of the reminders, and folding changes none of them."""
    rng = random.Random(seed)
    practices = [tenants["practice"], tenants["other"]]
    principal = Principal(user=tenants["vendor"])
    reminders = []
    for number in range(24):
        practice = practices[number % 2]
        appointment = make.appointment(make.patient(practice), TODAY + timedelta(days=2, minutes=number))
        reminders.append(make.reminder(appointment, due_at=TODAY - timedelta(days=rng.randrange(7)),
                                       status=rng.choice(("planned", "submitted", "failed")),
                                       submitted_at=TODAY, submit_started_at=TODAY))
    db.session.commit()
    since = (TODAY - timedelta(days=6)).date()
    for step in range(40):
        chosen = rng.sample(reminders, rng.choice((1, 1, 5)))
        values = _change(rng, chosen[0])
        if len(chosen) == 1:
            for name, value in values.items():
                setattr(chosen[0], name, value)
        else:
            db.session.execute(update(Reminder).where(Reminder.id.in_([item.id for item in chosen])).values(**values))
        db.session.commit()
        if rng.random() < 0.3:
            usage.fold()
        db.session.expire_all()
        assert shown(principal, since, practices) == expected(reminders, since), f"step {step}"
    usage.fold()
    assert db.session.scalar(select(func.count()).select_from(UsageDelta)) == 0
    assert shown(principal, since, practices) == expected(reminders, since)


def test_a_group_administrator_sees_only_the_totals_of_the_group(make, tenants):
    own, foreign = (make.appointment(make.patient(practice), TODAY + timedelta(days=2))
                    for practice in (tenants["practice"], tenants["other"]))
    for appointment in (own, foreign):
        make.reminder(appointment, status="submitted", submit_started_at=TODAY, submitted_at=TODAY)
    db.session.commit()
    usage.fold()
    admin = usage.totals(Principal(user=tenants["admin"]), TODAY.date(), by="practice_id")
    assert admin == {tenants["practice"].id: {"delivered": 0, "delivery_failed": 0, "pending": 1, "refused": 0,
                                              "outcome_unknown": 0}}


def test_the_migration_counts_the_reminders_already_there(make, tenants):
    """Upgrading a database with history: its days are totalled from the reminders already stored."""
    appointment = make.appointment(make.patient(tenants["practice"]), TODAY + timedelta(days=2))
    make.reminder(appointment, status="submitted", submit_started_at=TODAY - timedelta(days=3),
                  submitted_at=TODAY - timedelta(days=3), delivery_status="delivered")
    db.session.commit()
    practice_id, appointment_id = tenants["practice"].id, appointment.id
    db.session.remove()
    downgrade(revision="0009")
    try:
        db.session.execute(Reminder.__table__.insert().values(
            practice_id=practice_id, appointment_id=appointment_id, start_at=TODAY + timedelta(days=3),
            due_at=TODAY, status="failed", provider_error_code="invalid_recipient", submit_started_at=TODAY,
            kind="reminder", attempts=1, created_at=TODAY, updated_at=TODAY))
        db.session.commit()
    finally:
        upgrade()
    rows = {(row.day, row.delivered, row.refused) for row in db.session.scalars(select(UsageDay))}
    assert rows == {((TODAY - timedelta(days=3)).date(), 1, 0), (TODAY.date(), 0, 1)}
