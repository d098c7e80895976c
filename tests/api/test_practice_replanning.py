"""Settings and licence changes by admins re-plan the practice's reminders in the same request."""
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import select

from jobs.licences import replan_licence_changes
from portal.extensions import db
from portal.models import Practice, Reminder
from portal.sending.submission import check_before_send

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


def licence(program, body):
    response = program.put("/practices/eins/licence", json=body)
    assert response.status_code == 200, response.json
    return response


def test_a_renewal_granted_ahead_of_time_keeps_the_running_licence(setup, ctx):
    with time_machine.travel(NOW, tick=False):
        licence(setup["vendor"], {"status": "active", "valid_from": "2026-01-01", "valid_until": "2026-11-22"})
        # granted on Friday for Monday on: the licence running until Sunday still holds
        licence(setup["vendor"], {"status": "active", "valid_from": "2026-11-23", "valid_until": "2027-11-22"})
        assert (reminder(setup["eins"])["status"], reminder(setup["eins"])["due_at"]) == ("planned",
                                                                                         "2026-11-23T17:00:00Z")
    row = db.session.scalar(select(Reminder).join(Practice).where(Practice.slug == "eins"))
    assert check_before_send(row, datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)) is None  # the renewal


def test_a_licence_starting_later_plans_the_reminders_on_its_first_day(setup, ctx):
    with time_machine.travel(NOW, tick=False):
        licence(setup["vendor"], {"status": "suspended", "valid_from": "2026-11-20"})
        licence(setup["vendor"], {"status": "active", "valid_from": "2026-11-22"})
        replan_licence_changes()  # the suspension began today: nothing to change
        assert (reminder(setup["eins"])["status"], reminder(setup["eins"])["reason"]) == ("skipped", "no_licence")
    # Sunday 00:05 in Berlin, still Saturday in UTC
    with time_machine.travel(datetime(2026, 11, 21, 23, 5, tzinfo=timezone.utc), tick=False):
        assert replan_licence_changes() == ["eins"]
        assert (reminder(setup["eins"])["status"], reminder(setup["eins"])["due_at"]) == ("planned",
                                                                                         "2026-11-23T17:00:00Z")
        assert reminder(setup["zwei"])["status"] == "planned"


def test_a_licence_that_ended_yesterday_skips_the_reminders(setup, ctx):
    with time_machine.travel(NOW, tick=False):
        licence(setup["vendor"], {"status": "active", "valid_from": "2026-01-01", "valid_until": "2026-11-21"})
        assert reminder(setup["eins"])["status"] == "planned"
    with time_machine.travel(datetime(2026, 11, 21, 23, 5, tzinfo=timezone.utc), tick=False):
        assert replan_licence_changes() == ["eins"]
        assert (reminder(setup["eins"])["status"], reminder(setup["eins"])["reason"]) == ("skipped", "no_licence")
        assert reminder(setup["zwei"])["status"] == "planned"
