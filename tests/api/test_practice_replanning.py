"""Settings and licence changes by admins re-plan the practice's reminders in the same request."""
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import Practice, Reminder
from portal.planning import check_before_send

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
PATIENT = {"first_name": "Erika", "last_name": "Mustermann", "mobile": "0170 1234567", "sms_consent": True}


@pytest.fixture
def setup(make, api):
    """Group "nord" with practices one and two, each with one appointment on Tuesday 10:00."""
    with time_machine.travel(NOW, tick=False):
        group = make.group("nord")
        programs = {}
        for slug in ("eins", "zwei"):
            program = api(make.practice_key(make.licensed_practice(group=group, slug=slug)))
            program.put("/patients/p-1", json=PATIENT)
            program.put("/appointments/t-1", json={"patient": "p-1", "start": "2026-11-24T10:00:00+01:00"})
            programs[slug] = program
        yield {"vendor": api(make.token(make.user("vendor_admin"))), **programs}


def reminder(program):
    return program.get("/appointments/t-1").json["reminder"]


def test_group_send_time_moves_every_practices_reminder(setup):
    with time_machine.travel(NOW, tick=False):
        assert setup["vendor"].patch("/groups/nord/settings", json={"send_time": "17:00"}).status_code == 200
        assert reminder(setup["eins"])["due_at"] == "2026-11-23T16:00:00Z"
        assert reminder(setup["zwei"])["due_at"] == "2026-11-23T16:00:00Z"


def test_a_practice_override_moves_only_that_practice(setup):
    with time_machine.travel(NOW, tick=False):
        setup["vendor"].patch("/practices/eins/settings", json={"send_policy": "hours_before", "hours_before": 2})
        assert reminder(setup["eins"])["due_at"] == "2026-11-24T07:00:00Z"
        assert reminder(setup["zwei"])["due_at"] == "2026-11-23T17:00:00Z"


def test_sms_switched_off_skips_and_on_again_plans(setup):
    with time_machine.travel(NOW, tick=False):
        setup["vendor"].patch("/practices/eins/settings", json={"sms_enabled": False})
        assert (reminder(setup["eins"])["status"], reminder(setup["eins"])["reason"]) == ("skipped", "sms_disabled")
        setup["vendor"].patch("/practices/eins/settings", json={"sms_enabled": True})
        assert reminder(setup["eins"])["status"] == "planned"


def test_a_suspended_licence_skips_and_a_new_grant_plans_again(setup):
    with time_machine.travel(NOW, tick=False):
        today = date(2026, 11, 20).isoformat()
        setup["vendor"].put("/practices/eins/licence", json={"status": "suspended", "valid_from": today})
        assert (reminder(setup["eins"])["status"], reminder(setup["eins"])["reason"]) == ("skipped", "no_licence")
        assert reminder(setup["zwei"])["status"] == "planned"
        setup["vendor"].put("/practices/eins/licence", json={"status": "active", "valid_from": today})
        assert reminder(setup["eins"])["status"] == "planned"


def test_a_licence_ending_before_the_reminder_is_due_is_refused_at_send_time(setup, ctx):
    with time_machine.travel(NOW, tick=False):
        setup["vendor"].put("/practices/eins/licence", json={"status": "active", "valid_from": "2026-01-01",
                                                            "valid_until": "2026-11-21"})
        # Active today, so planned; the send job's re-check refuses it once the licence has ended.
        assert reminder(setup["eins"])["status"] == "planned"
    row = db.session.scalar(select(Reminder).join(Practice).where(Practice.slug == "eins"))
    assert check_before_send(row, datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)) is None
    assert check_before_send(row, datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)) == "no_licence"
