"""`python devstack.py --seed`: a demo practice whose reminders go out at any time of day."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

import devstack

BERLIN = ZoneInfo("Europe/Berlin")
PATIENT = {"first_name": "Erika", "last_name": "Mustermann", "mobile": "0170 2345678", "sms_consent": True}


def test_the_seeded_practice_reminds_of_an_appointment_three_hours_ahead_late_at_night(app, api, monkeypatch,
                                                                                        capsys):
    monkeypatch.setattr("portal.create_app", lambda: app)
    devstack.seed()
    printed = capsys.readouterr().out
    assert "no quiet hours" in printed and "replies on" in printed
    program = api(re.search(r"practice key:\s+(\S+)", printed)[1])

    tonight = datetime.now(BERLIN).replace(hour=23, minute=30, second=0, microsecond=0)
    with time_machine.travel(tonight, tick=False):
        assert program.put("/patients/demo-1", json=PATIENT).status_code in (200, 201)
        start = tonight + timedelta(hours=3)
        synced = program.put("/appointments/demo-1", json={"patient": "demo-1", "start": start.isoformat()})
    reminder = synced.json["reminder"]
    assert (reminder["status"], reminder["reason"]) == ("planned", None)
    assert datetime.fromisoformat(reminder["due_at"].replace("Z", "+00:00")) == tonight  # at once
